"""Tests of optlab.ot: log-domain Sinkhorn and Sinkhorn-Newton-Sparse.

References: POT's ``ot.sinkhorn(..., method="sinkhorn_log")`` (same iterates, same fixed
point) and ``ot.emd`` (exact LP) as reg -> 0.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from optlab.ot import sinkhorn, sinkhorn_newton_sparse, sparsify_topk
from optlab.result import Status

ot = pytest.importorskip("ot")


def _instance(n, m, seed=0, uniform=False):
    rng = np.random.default_rng(seed)
    M = rng.random((n, m))
    if uniform:
        return np.full(n, 1.0 / n), np.full(m, 1.0 / m), M
    a = rng.random(n) + 0.1
    b = rng.random(m) + 0.1
    return a / a.sum(), b / b.sum(), M


def _pot(a, b, M, reg, n_iter=200_000, thr=1e-15):
    return ot.sinkhorn(a, b, M, reg, method="sinkhorn_log", numItermax=n_iter, stopThr=thr,
                       warn=False)


def _residual(res, a, b, M, reg):
    """Marginal error of the plan and its consistency with the potentials."""
    P = res.plan
    f, g = res.potentials
    err = np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()
    assert_allclose(P, np.exp((f[:, None] + g[None, :] - M) / reg), rtol=1e-10, atol=1e-300)
    return err


# ------------------------------------------------------------------------ Sinkhorn
@pytest.mark.parametrize("shape,reg", [((6, 5), 0.1), ((40, 30), 0.01), ((80, 80), 5e-3)])
def test_sinkhorn_matches_pot(shape, reg):
    a, b, M = _instance(*shape, seed=1)
    res = sinkhorn(a, b, M, reg, tol=1e-13, max_iter=100_000)
    assert res.success, res.message
    assert _residual(res, a, b, M, reg) <= 1e-12
    P = _pot(a, b, M, reg)
    assert_allclose(res.plan, P, atol=1e-8 * P.max(), rtol=1e-6)
    assert_allclose(res.cost, float((P * M).sum()), rtol=1e-8)
    # history: iterates 0..nit, marginal error non-increasing in the tail
    h = res.history
    assert len(h["iter"]) == res.nit + 1
    assert h["marginal_error"][-1] <= 1e-13


def test_sinkhorn_same_iterates_as_pot():
    a, b, M = _instance(30, 20, seed=2)
    for k in (1, 7, 30):
        res = sinkhorn(a, b, M, 0.02, tol=0.0, max_iter=k)
        P = ot.sinkhorn(a, b, M, 0.02, method="sinkhorn_log", numItermax=k, stopThr=0.0, warn=False)
        assert res.status == Status.MAX_ITER and res.nit == k
        assert_allclose(res.plan, P, atol=1e-15, rtol=1e-11)


def test_sinkhorn_potential_is_dual_objective():
    a, b, M = _instance(20, 25, seed=3)
    reg = 0.05
    res = sinkhorn(a, b, M, reg, tol=1e-14, max_iter=10_000)
    P = res.plan
    primal = float((P * M).sum() + reg * (P * (np.log(P) - 1)).sum())
    assert_allclose(res.fun, primal, rtol=1e-10)
    pot = res.history["potential"]
    assert np.all(np.diff(pot[1:]) >= -1e-12)  # block-coordinate ascent: monotone


def test_sinkhorn_small_reg_stable_and_close_to_lp():
    a, b, M = _instance(50, 50, seed=4, uniform=True)
    exact = float(ot.emd2(a, b, M))
    for reg in (1e-2, 3e-3):
        res = sinkhorn(a, b, M, reg, tol=1e-9, max_iter=200_000)
        assert res.success, res.message
        # entropic bias: 0 <= <P, M> - OT <= reg log(n m)
        assert -1e-9 <= res.cost - exact <= reg * np.log(50 * 50)
    # reg = 1e-4 (eta = 10^4): no NaN, no underflow, the error keeps decreasing
    res = sinkhorn(a, b, M, 1e-4, tol=0.0, max_iter=3000)
    e = res.history["marginal_error"]
    assert np.all(np.isfinite(e)) and np.all(np.isfinite(res.plan)) and np.isfinite(res.fun)
    assert e[-1] < 1e-2 * e[1]
    # SNS reaches the tolerance there, and the cost is within the entropic bias of the LP
    res = sinkhorn_newton_sparse(a, b, M, 1e-4, tol=1e-10, keep=8.0, max_iter=3000)
    assert res.success, res.message
    assert -1e-9 <= res.cost - exact <= 1e-4 * np.log(50 * 50)
    assert abs(res.cost - exact) <= 1e-3 * exact


def test_sinkhorn_warmstart_and_metamorphic():
    a, b, M = _instance(15, 12, seed=5)
    reg = 0.03
    res = sinkhorn(a, b, M, reg, tol=1e-12, max_iter=10_000)
    again = sinkhorn(a, b, M, reg, tol=1e-12, warmstart=res.potentials)
    assert again.nit <= 1
    # row/column constants added to M do not change the plan
    shifted = sinkhorn(a, b, M + np.arange(15)[:, None] * 0.1 + np.arange(12)[None, :] * 0.2, reg,
                       tol=1e-12, max_iter=10_000)
    assert_allclose(shifted.plan, res.plan, atol=1e-11)
    # permuting the sources permutes the plan
    perm = np.random.default_rng(0).permutation(15)
    pr = sinkhorn(a[perm], b, M[perm], reg, tol=1e-12, max_iter=10_000)
    assert_allclose(pr.plan, res.plan[perm], atol=1e-11)


def test_sinkhorn_zero_weights():
    a, b, M = _instance(10, 8, seed=6)
    a[3] = 0.0
    b[[0, 5]] = 0.0
    a, b = a / a.sum(), b / b.sum()
    res = sinkhorn(a, b, M, 0.05, tol=1e-12, max_iter=10_000)
    assert res.success, res.message
    assert np.all(res.plan[3] == 0) and np.all(res.plan[:, [0, 5]] == 0)
    P = _pot(a, b, M, 0.05)
    assert_allclose(res.plan, P, atol=1e-10)


def test_sinkhorn_max_iter_and_time_limit():
    a, b, M = _instance(30, 30, seed=7)
    res = sinkhorn(a, b, M, 1e-3, tol=1e-14, max_iter=5)
    assert not res.success and res.status == Status.MAX_ITER and "5" in res.message
    assert len(res.history["marginal_error"]) == 6
    res = sinkhorn(a, b, M, 1e-4, tol=0.0, max_iter=10**9, max_time=0.05)
    assert res.status == Status.MAX_ITER and "time limit" in res.message


@pytest.mark.parametrize("solver", [sinkhorn, sinkhorn_newton_sparse])
def test_bad_input(solver):
    a, b, M = _instance(4, 3)
    with pytest.raises(ValueError, match="reg"):
        solver(a, b, M, 0.0)
    with pytest.raises(ValueError, match="reg"):
        solver(a, b, M, -1.0)
    with pytest.raises(ValueError, match="M must have shape"):
        solver(a, b, M.T, 0.1)
    with pytest.raises(ValueError, match="a must be nonnegative"):
        solver(np.array([0.5, 0.6, -0.1, 0.0]), b, M, 0.1)
    with pytest.raises(ValueError, match="b contains NaN"):
        solver(a, np.array([0.5, np.nan, 0.5]), M, 0.1)
    with pytest.raises(ValueError, match="M contains NaN"):
        solver(a, b, np.full((4, 3), np.inf), 0.1)
    with pytest.raises(ValueError, match="same total mass"):
        solver(a, 2 * b, M, 0.1)
    with pytest.raises(ValueError, match="a must be 1-D"):
        solver(a[:, None], b, M, 0.1)
    with pytest.raises(ValueError, match="tol"):
        solver(a, b, M, 0.1, tol=-1.0)


# ------------------------------------------------------------------------ SNS
@pytest.mark.parametrize("shape,reg", [((60, 60), 1 / 300), ((70, 45), 0.01), ((50, 80), 5e-3)])
def test_sns_matches_pot(shape, reg):
    a, b, M = _instance(*shape, seed=8)
    res = sinkhorn_newton_sparse(a, b, M, reg, tol=1e-12, max_iter=500)
    assert res.success, res.message
    assert _residual(res, a, b, M, reg) <= 1e-12
    assert res.n_newton >= 1 and res.n_sinkhorn >= 20 or res.nit <= 20
    P = _pot(a, b, M, reg)
    assert_allclose(res.plan, P, atol=1e-8 * P.max(), rtol=1e-6)
    assert_allclose(res.cost, float((P * M).sum()), rtol=1e-8)
    h = res.history
    assert len(h["iter"]) == res.nit + 1
    assert set(np.unique(h["stage"])) <= {0.0, 1.0}


def test_sns_counts_and_sparsity():
    a, b, M = _instance(100, 100, seed=9, uniform=True)
    res = sinkhorn_newton_sparse(a, b, M, 3e-3, tol=1e-10, keep=4.0)
    assert res.success, res.message
    assert res.n_sinkhorn + res.n_newton == res.nit
    assert all(k == 400 for k in res.kept)  # exactly ceil(keep * n) entries kept
    # far fewer iterations than Sinkhorn for the same accuracy
    ref = sinkhorn(a, b, M, 3e-3, tol=1e-6, max_iter=100_000)
    sns_iters = int(np.argmax(res.history["marginal_error"] <= 1e-6))
    assert ref.success and ref.nit >= 20 * sns_iters
    assert_allclose(res.cost, ref.cost, rtol=1e-4)


def test_sns_adaptive_switch_and_fallback():
    a, b, M = _instance(40, 40, seed=10)
    res = sinkhorn_newton_sparse(a, b, M, 0.01, tol=1e-11, n_warmup=500, switch_tol=1e-2)
    assert res.success
    assert res.n_sinkhorn < 500
    # from the start (no warm-up), a one-step CG and no backtracking: some full steps are
    # rejected, and the Sinkhorn fallback takes over for those iterations
    res2 = sinkhorn_newton_sparse(a, b, M, 0.01, tol=1e-11, n_warmup=0, cg_max_iter=1,
                                  max_backtrack=0, max_iter=3000)
    assert res2.success, res2.message
    # each fallback runs 10 Sinkhorn iterations, the last one may stop early on convergence
    assert res2.n_fallback >= 1 and 10 * (res2.n_fallback - 1) < res2.n_sinkhorn <= 10 * res2.n_fallback
    assert res2.n_newton + res2.n_sinkhorn == res2.nit


def test_sparsify_topk_matches_sort():
    rng = np.random.default_rng(0)
    import array_api_compat.numpy as xp

    P = rng.random((300, 200)) ** 8
    k = 450
    sample = rng.integers(0, P.size, size=5000)
    rows, cols, vals = sparsify_topk(xp, P, k, sample=sample)
    assert rows.shape == (k,)
    assert_allclose(np.sort(vals), np.sort(P.ravel())[-k:])
    assert_allclose(P[rows, cols], vals)


def test_fused_scan_matches_dense_topk():
    """The NumPy Newton stage selects the top-k entries of P = diag(alpha) G diag(beta)
    without forming P: same set and values as sparsify_topk on the dense plan, rows sorted,
    for the sample-based first guess, the reused threshold and the exact fallback."""
    import array_api_compat.numpy as xp

    from optlab.ot._common import Kernel
    from optlab.ot.sns import _TopkScanNp

    rng = np.random.default_rng(1)
    n, m, k = 230, 170, 700
    M = rng.random((n, m))
    a = np.full(n, 1 / n)
    b = np.full(m, 1 / m)
    kern = Kernel(xp, a, b, M, 0.01)
    kern.absorb()
    scan = _TopkScanNp((n, m), M.dtype, k, seed=0)
    scan.rows_per_block = 16  # several blocks, one partial
    for shift in (0.0, 0.5, 3.0, -4.0):  # scalings move: guess reused, then too high -> exact
        kern.alpha = np.exp(rng.normal(size=n) * (1 + abs(shift)))
        kern.beta = np.exp(rng.normal(size=m) + shift)
        rows, cols, vals = scan(kern)
        P = kern.plan()
        r2, c2, v2 = sparsify_topk(xp, P, k)
        assert rows.shape == (k,)
        assert np.all(np.diff(rows * m + cols) > 0)  # row-major order
        assert_allclose(vals, P[rows, cols], rtol=0, atol=0)
        assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == set(zip(r2.tolist(), c2.tolist(), strict=True))
    assert scan.n_exact >= 1  # the last big shift needed the exact selection


def test_sns_threshold_rule_rho():
    a, b, M = _instance(120, 120, seed=12, uniform=True)
    reg = 1 / 300
    res = sinkhorn_newton_sparse(a, b, M, reg, tol=1e-11, rho=1e-4)
    assert res.success, res.message
    assert _residual(res, a, b, M, reg) <= 1e-11
    ref = sinkhorn_newton_sparse(a, b, M, reg, tol=1e-11)
    assert_allclose(res.plan, ref.plan, atol=1e-10)
    # the kept count follows the threshold: a larger rho keeps fewer entries
    few = sinkhorn_newton_sparse(a, b, M, reg, tol=1e-11, rho=0.3, max_iter=3000)
    assert few.success, few.message
    assert max(few.kept) < min(res.kept)
    with pytest.raises(ValueError, match="rho"):
        sinkhorn_newton_sparse(a, b, M, reg, rho=-1.0)


# ------------------------------------------------------------------------ backends
def test_array_api_strict_namespace(xp):
    a, b, M = _instance(12, 9, seed=11)
    A, B, MM = xp.asarray(a), xp.asarray(b), xp.asarray(M)
    for solver, kw in ((sinkhorn, {}), (sinkhorn_newton_sparse, {"n_warmup": 5}),
                       (sinkhorn_newton_sparse, {"n_warmup": 5, "rho": 1e-3})):
        res = solver(A, B, MM, 0.02, tol=1e-11, **kw)
        assert res.success, res.message
        assert type(res.plan) is type(A)
        P = _pot(a, b, M, 0.02)
        from optlab._backend import to_numpy

        assert_allclose(to_numpy(res.plan), P, atol=1e-9)


# ------------------------------------------------------------------------ problems
def test_problems_ot(tmp_path, monkeypatch):
    from problems._paths import missing_data_reason
    from problems.ot import density_1d, density_2d, grid_cost, mnist_pair, random_assignment

    monkeypatch.setenv("OPTLAB_CACHE", str(tmp_path))
    p = random_assignment(20, 15, seed=3)
    assert p.M.shape == (20, 15) and 0 <= p.M.min() and p.M.max() <= 1
    assert_allclose([p.a.sum(), p.b.sum()], [1.0, 1.0])
    ex = p.exact()
    assert_allclose(ex["value"], float(ot.emd2(p.a, p.b, p.M)), rtol=1e-12)
    assert_allclose(p.exact()["value"], ex["value"])  # cached
    C = grid_cost(4, metric="l1")
    assert C.shape == (16, 16) and C.max() == 1.0 and C[0, 15] == 1.0 and C[0, 1] == 1 / 6
    for q in (1, 2):
        d1, d2 = density_1d(50, p=q), density_2d(6, p=q)
        assert_allclose([d1.a.sum(), d1.b.sum(), d2.a.sum()], 1.0)
        assert d1.M.max() == 1.0 and d2.M.shape == (36, 36)
    with pytest.raises(ValueError, match="p must be"):
        density_1d(10, p=3)
    try:
        mp = mnist_pair(0, 1, cost="l1")
    except (FileNotFoundError, OSError):
        pytest.skip(missing_data_reason())
    assert mp.M.shape == (784, 784) and mp.M.max() == 1.0
    assert_allclose([mp.a.sum(), mp.b.sum()], 1.0)
