"""Tests for optlab.convex.proximal_gradient (ISTA / FISTA)."""

from __future__ import annotations

import math
from functools import partial

import cvxpy as cp
import numpy as np
import pytest
import scipy.optimize
from numpy.testing import assert_allclose, assert_array_equal

from optlab._backend import to_numpy
from optlab.convex import (
    accelerated_gradient,
    prox_group_l2,
    prox_l1,
    prox_nonnegative,
    proximal_gradient,
)
from optlab.result import Status

CLARABEL_TIGHT = dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)


def lasso_data(seed=0, m=25, n=10):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    x_true = np.zeros(n)
    x_true[:3] = [2.0, -1.5, 1.0]
    b = A @ x_true + 0.1 * rng.standard_normal(m)
    return A, b, np.linalg.norm(A, 2) ** 2


def smooth_ls(xp, A, b):
    Ax, bx = xp.asarray(A), xp.asarray(b)

    def fun(x):
        r = Ax @ x - bx
        return 0.5 * xp.sum(r * r)

    def grad(x):
        return Ax.T @ (Ax @ x - bx)

    return fun, grad


def lasso_cvxpy(A, b, lam):
    x = cp.Variable(A.shape[1])
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ x - b) + lam * cp.norm1(x)))
    prob.solve(solver=cp.CLARABEL, **CLARABEL_TIGHT)
    return x.value, prob.value


@pytest.mark.parametrize("accelerated", [False, True])
def test_lasso_matches_cvxpy_and_sklearn(xp, accelerated):
    from sklearn.linear_model import Lasso

    A, b, L = lasso_data()
    lam = 3.0
    fun, grad = smooth_ls(xp, A, b)
    x0 = xp.zeros(10)
    res = proximal_gradient(
        fun, grad, partial(prox_l1, lam=lam), x0, L=L, accelerated=accelerated,
        g=lambda x: lam * xp.sum(xp.abs(x)), tol=1e-9, max_iter=20000,
    )  # fmt: skip
    assert res.success, res.message
    assert type(res.x) is type(x0)
    x = to_numpy(res.x)
    ref, F_star = lasso_cvxpy(A, b, lam)
    assert_allclose(x, ref, atol=1e-6)
    assert_allclose(res.fun, F_star, rtol=1e-9)
    # scikit-learn minimizes ||b - A w||^2 / (2m) + alpha ||w||_1: alpha = lam / m
    sk = Lasso(alpha=lam / A.shape[0], fit_intercept=False, tol=1e-14, max_iter=100000).fit(A, b)
    assert_allclose(x, sk.coef_, atol=1e-7)
    # KKT: -grad f(x) in lam * subdifferential of ||.||_1
    gf = A.T @ (A @ x - b)
    on = x != 0
    assert on.sum() >= 2 and (~on).sum() >= 2  # a real sparsity pattern
    assert_allclose(gf[on], -lam * np.sign(x[on]), atol=1e-8)
    assert np.all(np.abs(gf[~on]) <= lam + 1e-8)
    # the stopping test, recomputed independently: ||G(x)|| <= tol
    G = L * (x - prox_l1(x - gf / L, 1 / L, lam=lam))
    assert np.linalg.norm(G) <= 1e-9


def test_group_lasso_matches_cvxpy():
    A, b, L = lasso_data(seed=1, n=12)
    groups = [np.arange(0, 3), np.arange(3, 6), np.arange(6, 9), np.arange(9, 12)]
    lam = 6.0 * np.sqrt([3.0, 3.0, 3.0, 3.0])
    fun, grad = smooth_ls(np, A, b)
    res = proximal_gradient(
        fun, grad, partial(prox_group_l2, groups=groups, lam=lam), np.zeros(12), L=L,
        accelerated=True, tol=1e-9, max_iter=20000,
    )  # fmt: skip
    assert res.success
    x = cp.Variable(12)
    pen = sum(lam[j] * cp.norm(x[g], 2) for j, g in enumerate(groups))
    cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ x - b) + pen)).solve(
        solver=cp.CLARABEL, **CLARABEL_TIGHT
    )
    assert_allclose(res.x, x.value, atol=1e-6)
    # KKT per group
    gf = A.T @ (A @ res.x - b)
    active = 0
    for j, g in enumerate(groups):
        nx = np.linalg.norm(res.x[g])
        if nx > 0:
            active += 1
            assert_allclose(gf[g], -lam[j] * res.x[g] / nx, atol=1e-8)
        else:
            assert np.linalg.norm(gf[g]) <= lam[j] + 1e-8
    assert 1 <= active < len(groups)


def test_nonnegative_least_squares_matches_nnls(xp):
    rng = np.random.default_rng(2)
    A = rng.standard_normal((20, 8))
    b = rng.standard_normal(20)
    L = np.linalg.norm(A, 2) ** 2
    fun, grad = smooth_ls(xp, A, b)
    res = proximal_gradient(fun, grad, prox_nonnegative, xp.zeros(8), L=L, accelerated=True, tol=1e-10,
                            max_iter=20000)  # fmt: skip
    assert res.success
    ref, _ = scipy.optimize.nnls(A, b)
    x = to_numpy(res.x)
    assert_allclose(x, ref, atol=1e-8)
    assert np.all(x >= 0) and np.any(x == 0)
    gf = A.T @ (A @ x - b)  # KKT: gf >= 0, x * gf = 0
    assert np.all(gf >= -1e-9) and np.all(np.abs(x * gf) <= 1e-9)


def test_fista_with_identity_prox_equals_accelerated_gradient(xp):
    A, b, L = lasso_data(seed=3)
    fun, grad = smooth_ls(xp, A, b)
    x0 = xp.ones(10)
    r1 = proximal_gradient(
        fun, grad, lambda v, s: v, x0, L=L, accelerated=True, tol=1e-300, max_iter=50
    )
    r2 = accelerated_gradient(fun, grad, x0, L=L, tol=1e-300, max_iter=50)
    assert_array_equal(r1.history["fun"], r2.history["fun"])
    assert_array_equal(to_numpy(r1.x), to_numpy(r2.x))
    assert (r1.nit, r1.njev, r1.nfev, r1.nprox) == (50, 50, 51, 50)


def reference_fista(F, grad, prox, x0, L, N):
    """Beck & Teboulle (2009) FISTA with constant step, in their notation: F(x_k), k = 0..N."""
    x_prev = x0.copy()
    y = x0.copy()  # y_1 = x_0
    t = 1.0  # t_1 = 1
    out = [F(x0)]
    for _ in range(N):
        x = prox(y - grad(y) / L, 1 / L)  # x_k = p_L(y_k)
        t_next = (1 + math.sqrt(1 + 4 * t * t)) / 2
        y = x + (t - 1) / t_next * (x - x_prev)
        x_prev, t = x, t_next
        out.append(F(x))
    return np.array(out)


def test_fista_indexing_and_rate_bound():
    A, b, L = lasso_data(seed=4)
    lam = 2.0
    fun, grad = smooth_ls(np, A, b)
    prox = partial(prox_l1, lam=lam)

    def g(x):
        return lam * np.sum(np.abs(x))

    x0 = np.ones(10)
    N = 100
    res = proximal_gradient(fun, grad, prox, x0, L=L, accelerated=True, g=g, tol=1e-300, max_iter=N)
    assert res.status == Status.MAX_ITER and res.nit == N and res.njev == N and res.nprox == N
    ref = reference_fista(lambda x: fun(x) + g(x), grad, prox, x0, L, N)
    assert_allclose(res.history["fun"], ref, rtol=1e-13)
    x_star, F_star = lasso_cvxpy(A, b, lam)
    k = np.arange(1, N + 1)
    R2 = np.sum((x0 - x_star) ** 2)
    assert np.all(res.history["fun"][1:] - F_star <= 2 * L * R2 / (k + 1) ** 2 + 1e-7)
    # ISTA: Beck & Teboulle Theorem 3.1
    ista = proximal_gradient(fun, grad, prox, x0, L=L, g=g, tol=1e-300, max_iter=N)
    assert ista.nit == N and ista.njev == N + 1 and ista.nprox == N + 1
    assert np.all(ista.history["fun"][1:] - F_star <= L * R2 / (2 * k) + 1e-7)
    assert np.all(np.diff(ista.history["fun"]) <= 1e-12)  # ISTA is monotone


def test_history_records_f_only_without_g():
    A, b, L = lasso_data(seed=5)
    fun, grad = smooth_ls(np, A, b)
    x0 = np.ones(10)
    r_f = proximal_gradient(fun, grad, partial(prox_l1, lam=1.0), x0, L=L, max_iter=5)
    r_F = proximal_gradient(fun, grad, partial(prox_l1, lam=1.0), x0, L=L, max_iter=5,
                            g=lambda x: np.sum(np.abs(x)))  # fmt: skip
    assert r_f.history["fun"][0] == fun(x0)
    assert r_F.history["fun"][0] == fun(x0) + 10.0
    assert_array_equal(r_f.x, r_F.x)
    assert_allclose(r_F.fun - r_f.fun, np.sum(np.abs(r_f.x)), rtol=1e-14)


@pytest.mark.parametrize("accelerated", [False, True])
def test_metamorphic_scaling_gives_identical_iterates(xp, accelerated):
    A, b, L = lasso_data(seed=6)
    fun, grad = smooth_ls(xp, A, b)
    c, lam = 4.0, 2.0
    kw = dict(accelerated=accelerated, max_iter=300)
    r1 = proximal_gradient(fun, grad, partial(prox_l1, lam=lam), xp.zeros(10), L=L, tol=1e-7, **kw)
    r2 = proximal_gradient(
        lambda x: c * fun(x), lambda x: c * grad(x), partial(prox_l1, lam=c * lam), xp.zeros(10),
        L=c * L, tol=c * 1e-7, **kw,
    )  # fmt: skip
    assert r1.nit == r2.nit
    assert_array_equal(to_numpy(r1.x), to_numpy(r2.x))
    assert_array_equal(c * r1.history["fun"], r2.history["fun"])


def test_metamorphic_permutation():
    A, b, L = lasso_data(seed=7)
    perm = np.random.default_rng(2).permutation(10)
    lam = 2.5
    kw = dict(L=L, accelerated=True, tol=1e-10, max_iter=20000)
    r1 = proximal_gradient(*smooth_ls(np, A, b), partial(prox_l1, lam=lam), np.zeros(10), **kw)
    r2 = proximal_gradient(
        *smooth_ls(np, A[:, perm], b), partial(prox_l1, lam=lam), np.zeros(10), **kw
    )
    assert r1.success and r2.success
    assert_allclose(r2.x, r1.x[perm], atol=1e-9)


def test_pinned_iteration_count_ista_separable():
    # f = 0.5 ||x - c||^2 (L = 1): ISTA reaches the prox of c in one step, and the
    # exact residual of x_1 is zero: nit = 1
    c = np.array([3.0, -0.2, 1.0])
    res = proximal_gradient(lambda x: 0.5 * np.sum((x - c) ** 2), lambda x: x - c,
                            partial(prox_l1, lam=0.5), np.zeros(3), L=1.0)  # fmt: skip
    assert res.success and res.nit == 1 and res.njev == 2
    assert_array_equal(res.x, [2.5, 0.0, 0.5])


def test_nan_in_prox_is_reported():
    calls = {"n": 0}

    def prox(v, s):
        calls["n"] += 1
        return v * np.nan if calls["n"] == 3 else prox_l1(v, s, lam=0.1)

    A, b, L = lasso_data(seed=8)
    for accelerated, it in ((False, 3), (True, 3)):
        calls["n"] = 0
        res = proximal_gradient(
            *smooth_ls(np, A, b), prox, np.zeros(10), L=L, accelerated=accelerated
        )
        assert res.status == Status.NUMERICAL_ERROR and not res.success
        assert f"non-finite x at iteration {it}" in res.message
        assert res.nit == it - 1 and len(res.history["fun"]) == it
        assert np.all(np.isfinite(res.x))


def test_divergence_with_underestimated_L():
    A, b, L = lasso_data(seed=9)
    res = proximal_gradient(*smooth_ls(np, A, b), partial(prox_l1, lam=0.1), np.ones(10), L=L / 5)
    assert res.status == Status.DIVERGED
    assert f"iteration {res.nit + 1}" in res.message and len(res.history["fun"]) == res.nit + 1


def _q():
    return (lambda x: 0.5 * float(x @ x)), (lambda x: x), partial(prox_l1, lam=1.0)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(L=0.0), ValueError, "L"),
        (dict(L=-1.0), ValueError, "L"),
        (dict(L=1.0, tol=-1.0), ValueError, "tol"),
        (dict(L=1.0, max_iter=0), ValueError, "max_iter"),
        (dict(L=1.0, max_iter="10"), TypeError, "max_iter"),
        (dict(L=1.0, accelerated=1), TypeError, "accelerated"),
        (dict(L=1.0, g=3.0), TypeError, "g"),
        (dict(L=1.0, g=lambda x: np.inf), ValueError, "g\\(x0\\)"),
        (dict(L=1.0, g=lambda x: np.ones(2)), TypeError, "scalar"),
    ],
)
def test_bad_options(kwargs, exc, match):
    f, g, p = _q()
    with pytest.raises(exc, match=match):
        proximal_gradient(f, g, p, np.ones(2), **kwargs)


@pytest.mark.parametrize(
    "fun, grad, prox, x0, exc, match",
    [
        (None, lambda x: x, lambda v, s: v, np.ones(2), TypeError, "fun"),
        (lambda x: 0.0, 0, lambda v, s: v, np.ones(2), TypeError, "grad"),
        (lambda x: 0.0, lambda x: x, "prox", np.ones(2), TypeError, "prox"),
        (
            lambda x: 0.0,
            lambda x: x,
            lambda v, s: v[:1],
            np.ones(2),
            ValueError,
            "prox must return",
        ),
        (lambda x: 0.0, lambda x: x, lambda v, s: v, np.array([1.0, np.inf]), ValueError, "x0"),
        (lambda x: 0.0, lambda x: x, lambda v, s: v, [[1.0, "a"]], TypeError, "x0"),
        (lambda x: np.nan, lambda x: x, lambda v, s: v, np.ones(2), ValueError, "x0"),
    ],
)
def test_bad_oracles_and_x0(fun, grad, prox, x0, exc, match):
    for accelerated in (False, True):
        with pytest.raises(exc, match=match):
            proximal_gradient(fun, grad, prox, x0, L=1.0, accelerated=accelerated)
