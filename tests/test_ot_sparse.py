"""Tests of optlab.ot.sparse_ot (sparsity-constrained OT, semi-dual + L-BFGS)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from optlab.ot import sparse_ot, topk_simplex_max


def _uniform(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.full(n, 1.0 / n), np.full(n, 1.0 / n), rng.random((n, n))


def test_topk_simplex_max_matches_bruteforce():
    rng = np.random.default_rng(0)
    from itertools import combinations

    S = rng.normal(size=(5, 3))
    b = np.array([0.2, 0.5, 0.3])
    reg, k = 0.7, 2
    vals, T, tau = topk_simplex_max(S, b, k, reg)
    for j in range(3):
        best = -np.inf
        for supp in combinations(range(5), k):  # brute force over supports, simplex QP in 1-D
            from scipy.optimize import minimize

            s = S[list(supp), j]
            cons = ({"type": "eq", "fun": lambda t, j=j: t.sum() - b[j]},)
            r = minimize(lambda t, s=s: -(s @ t - 0.5 * reg * t @ t), np.full(k, b[j] / k),
                         bounds=[(0, None)] * k, constraints=cons, method="SLSQP",
                         options={"ftol": 1e-14})
            best = max(best, -r.fun)
        assert_allclose(vals[j], best, rtol=1e-7)
        assert np.count_nonzero(T[:, j]) <= k
        assert_allclose(T[:, j].sum(), b[j])


def test_k1_recovers_lp():
    ot = pytest.importorskip("ot")
    a, b, M = _uniform(30, seed=1)
    res = sparse_ot(a, b, M, 0.5, 1, tol=1e-10)
    assert res.success, res.message
    assert np.all(res.nnz_per_column <= 1)
    exact = float(ot.emd2(a, b, M))
    assert_allclose(res.cost, exact, rtol=1e-10)
    # the semi-dual value is the LP value minus the constant reg/2 sum_j b_j^2
    assert_allclose(res.dual, exact + 0.5 * 0.5 * (b**2).sum(), rtol=1e-8)


def test_large_k_is_quadratic_ot_cvxpy():
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(2)
    n, m, reg = 12, 9, 0.3
    a = rng.random(n) + 0.2
    a /= a.sum()
    b = rng.random(m) + 0.2
    b /= b.sum()
    M = rng.random((n, m))
    res = sparse_ot(a, b, M, reg, n, tol=1e-11)
    assert res.success, res.message
    T = cp.Variable((n, m), nonneg=True)
    prob = cp.Problem(cp.Minimize(cp.sum(cp.multiply(T, M)) + reg / 2 * cp.sum_squares(T)),
                      [cp.sum(T, axis=1) == a, cp.sum(T, axis=0) == b])
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    assert_allclose(res.plan, T.value, atol=1e-7)
    assert_allclose(res.fun, prob.value, rtol=1e-8)
    # potentials: t_ij = (alpha_i + beta_j - M_ij)_+ / reg on the support
    al, be = res.potentials
    assert_allclose(res.plan, np.maximum(al[:, None] + be[None, :] - M, 0) / reg, atol=1e-7)


def test_cardinality_and_bad_input():
    a, b, M = _uniform(25, seed=3)
    for k in (2, 4):
        res = sparse_ot(a, b, M, 1.0, k, tol=1e-8, max_iter=500)
        assert np.all(np.count_nonzero(res.plan, axis=0) <= k)
        assert_allclose(res.plan.sum(0), b, atol=1e-12)
        if not res.success:
            assert "duality gap" in res.message
    with pytest.raises(ValueError, match="k must be >= 1"):
        sparse_ot(a, b, M, 1.0, 0)
    with pytest.raises(ValueError, match="reg"):
        sparse_ot(a, b, M, -1.0, 2)
    with pytest.raises(ValueError, match="same total mass"):
        sparse_ot(a, 3 * b, M, 1.0, 2)
