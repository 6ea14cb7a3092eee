"""Tests of optlab.lowrank.altmin (robust and exact AltMin) and the MatrixCompletion estimator."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from optlab._backend import get_namespace, to_numpy
from optlab.lowrank._completion_common import (
    Side,
    XSide,
    factored_diff_norm,
    subspace_distance,
    validate_observations,
)
from optlab.lowrank.altmin import _solve_exact, _solve_robust, altmin
from optlab.lowrank.estimator import ConvergenceWarning, MatrixCompletion
from problems.lowrank_completion import (
    completion_instance,
    digits_completion,
    incoherent_lowrank,
    sample_entries,
)


def _instance(m=60, n=50, r=2, p=0.5, seed=0, kappa=3.0):
    return completion_instance(m, n, r, kappa=kappa, p=p, seed=seed)


def _dense(U, V):
    return np.asarray(U) @ np.asarray(V).T


def _normal_residual(P, U, V):
    """Max-norm of the gradients of 1/2 ||P_Omega(U V^T - M)||^2 w.r.t. U and V (0 at a
    stationary point), relative to ||P_Omega M|| max(||U||, ||V||)."""
    res = np.sum(U[P.rows] * V[P.cols], axis=1) - P.vals
    gU = sp.csr_array((res, (P.rows, P.cols)), shape=P.shape) @ V
    gV = sp.csr_array((res, (P.cols, P.rows)), shape=P.shape[::-1]) @ U
    scale = np.linalg.norm(P.vals) * max(np.linalg.norm(U), np.linalg.norm(V))
    return max(np.abs(gU).max(), np.abs(gV).max()) / scale


# ----------------------------------------------------------------------------- recovery


def _on(xp, a):
    """``a`` moved to ``xp``; array_api_strict arrays go to its non-CPU ``device1``, where
    any hidden conversion to NumPy raises instead of silently copying to the host."""
    if getattr(xp, "__name__", "") == "array_api_strict":
        return xp.asarray(a, device=xp.Device("device1"))
    return xp.asarray(a)


def _is_numpy(xp):
    return getattr(xp, "__name__", "").endswith("numpy")


@pytest.mark.parametrize("method,precond", [("exact", "sketch"), ("robust", "sketch"), ("robust", "scalar")])
def test_recovers_random_low_rank(xp, method, precond):
    """Recovery on every namespace; the generic (xp) path runs in the inputs' namespace and
    device (array_api_strict on ``device1``: no host copy possible) and reproduces the
    NumPy/SciPy path's iterates to 1e-10 (same random streams, drawn on the host)."""
    P = _instance()
    opts = dict(method=method, precond=precond, solve_tol=0.01, rng=0)
    res = altmin(_on(xp, P.rows), _on(xp, P.cols), _on(xp, P.vals), P.shape, P.rank,
                 ground_truth=P.ground_truth, **opts)  # fmt: skip
    assert res.success, res.message
    assert get_namespace(res.U) is get_namespace(_on(xp, P.vals))
    assert get_namespace(res.V) is get_namespace(_on(xp, P.vals))
    if getattr(xp, "__name__", "") == "array_api_strict":
        assert res.U.device == xp.Device("device1") and res.V.device == xp.Device("device1")
    U, V = to_numpy(res.U), to_numpy(res.V)
    M = P.truth.L @ P.truth.R.T
    assert_allclose(_dense(U, V), M, atol=1e-8 * np.abs(M).max())
    assert _normal_residual(P, U, V) < 1e-9
    # V has orthonormal columns, U V^T the estimate
    assert_allclose(V.T @ V, np.eye(P.rank), atol=1e-12)
    h = res.history
    assert len(h["iter"]) == res.nit + 1
    assert h["rel_error"][-1] < 1e-9 and h["dist_U"][-1] < 1e-9 and h["dist_V"][-1] < 1e-9
    assert np.all(np.diff(h["n_ops"][1:]) > 0)
    if not _is_numpy(xp):
        ref = altmin(P.rows, P.cols, P.vals, P.shape, P.rank, ground_truth=P.ground_truth, **opts)
        assert res.nit == ref.nit and res.n_inner == ref.n_inner
        assert_allclose(U, ref.U, atol=1e-10 * np.abs(ref.U).max())
        assert_allclose(V, ref.V, atol=1e-10)
        for key in ("dist_U", "dist_V", "rel_residual", "rel_error"):
            assert_allclose(h[key][1:], ref.history[key][1:], rtol=1e-6, atol=1e-12)
        assert_allclose(h["n_ops"], ref.history["n_ops"])


@pytest.mark.parametrize("r,p", [(1, 0.6), (2, 0.7)])
def test_matches_nuclear_norm_minimization_cvxpy(r, p):
    """Independent reference: min ||X||_* s.t. X_Omega = M_Omega (cvxpy + Clarabel) recovers
    the same matrix as AltMin on tiny incoherent 20 x 18 instances (sampled well above the
    threshold, where exact recovery holds; Candes & Recht 2009)."""
    cp = pytest.importorskip("cvxpy")
    P = completion_instance(20, 18, r, kappa=1.0, p=p, seed=0)
    X = cp.Variable(P.shape)
    cons = [X[P.rows, P.cols] == P.vals]
    cp.Problem(cp.Minimize(cp.normNuc(X)), cons).solve(solver=cp.CLARABEL)
    M = P.truth.L @ P.truth.R.T
    for method in ("exact", "robust"):
        res = altmin(P.rows, P.cols, P.vals, P.shape, r, method=method, rng=0)
        assert res.success
        assert_allclose(_dense(res.U, res.V), X.value, atol=1e-5 * np.abs(M).max())
    assert_allclose(X.value, M, atol=1e-5 * np.abs(M).max())


def test_half_steps_match_lstsq():
    """One V half-step, exact and robust (tight solve_tol), equals per-column lstsq."""
    rng = np.random.default_rng(1)
    m, n, k = 40, 30, 3
    i, j = sample_entries(m, n, p=0.5, seed=2)
    vals = rng.standard_normal(i.shape[0])
    U, _ = np.linalg.qr(rng.standard_normal((m, k)))
    side = Side(j, i, vals, n, m)
    W_ref = np.stack([np.linalg.lstsq(U[i[j == c]], vals[j == c], rcond=None)[0] for c in range(n)])
    W_ex, res_ex, _ = _solve_exact(side, U, 0.0)
    assert_allclose(W_ex, W_ref, rtol=1e-10, atol=1e-12)
    for precond in ("sketch", "scalar"):
        W_rb, res_rb, ops, ops_pre, n_inner, ok = _solve_robust(
            side, U, np.zeros((n, k)), reg=0.0, precond=precond, solve_tol=1e-13, max_inner=200,
            sketch_size=2 * k, sketch_nnz=1, rng=np.random.default_rng(0))  # fmt: skip
        assert ok and n_inner >= 1
        assert_allclose(W_rb, W_ref, rtol=1e-8, atol=1e-10)
        assert_allclose(res_rb, res_ex, atol=1e-9)


def test_ridge_half_step_matches_closed_form():
    rng = np.random.default_rng(4)
    m, n, k, reg = 20, 10, 2, 0.3
    i, j = sample_entries(m, n, p=0.6, seed=5)
    vals = rng.standard_normal(i.shape[0])
    U = rng.standard_normal((m, k))
    side = Side(j, i, vals, n, m)
    ref = np.stack([np.linalg.solve(U[i[j == c]].T @ U[i[j == c]] + reg * np.eye(k),
                                    U[i[j == c]].T @ vals[j == c]) for c in range(n)])  # fmt: skip
    W, _, _ = _solve_exact(side, U, reg)
    assert_allclose(W, ref, rtol=1e-10)
    W2, *_ = _solve_robust(side, U, np.zeros((n, k)), reg=reg, precond="sketch", solve_tol=1e-14,
                           max_inner=100, sketch_size=4, sketch_nnz=2, rng=np.random.default_rng(1))  # fmt: skip
    assert_allclose(W2, ref, rtol=1e-8)


def test_metamorphic_permutation_and_scaling():
    P = _instance(seed=7)
    res = altmin(P.rows, P.cols, P.vals, P.shape, P.rank, method="exact", rng=0)
    pr, pc = np.random.default_rng(0).permutation(P.shape[0]), np.random.default_rng(1).permutation(P.shape[1])
    inv_r, inv_c = np.argsort(pr), np.argsort(pc)
    res_p = altmin(inv_r[P.rows], inv_c[P.cols], 5.0 * P.vals, P.shape, P.rank, method="exact", rng=0)
    assert res.success and res_p.success
    X = _dense(res.U, res.V)
    Xp = _dense(res_p.U, res_p.V)
    assert_allclose(Xp[np.ix_(inv_r, inv_c)], 5.0 * X, atol=1e-7 * np.abs(5 * X).max())


def test_sample_splitting_converges_linearly():
    P = completion_instance(300, 300, 2, kappa=2.0, p=0.6, seed=1)
    res = altmin(P.rows, P.cols, P.vals, P.shape, 2, method="exact", sample_splitting=True,
                 max_iter=6, rng=0, ground_truth=P.ground_truth)  # fmt: skip
    e = res.history["rel_error"]
    assert e[-1] < 1e-2 * e[1] and np.all(np.diff(e[1:]) < 0)
    with pytest.raises(ValueError, match="sample_splitting"):
        altmin(P.rows[:20], P.cols[:20], P.vals[:20], P.shape, 2, sample_splitting=True, max_iter=6)


def test_rank_deficient_rows_are_handled():
    """A row and a column with a single observation (< k): finite factors, no exception."""
    P = _instance(seed=2)
    keep = ~((P.rows == 0) & (P.cols > 0)) & ~((P.cols == 0) & (P.rows > 0))
    for method in ("exact", "robust"):
        res = altmin(P.rows[keep], P.cols[keep], P.vals[keep], P.shape, 2, method=method, max_iter=30, rng=0)
        assert np.all(np.isfinite(res.U)) and np.all(np.isfinite(res.V))


def test_callback_and_max_iter_status():
    P = _instance(seed=3)
    res = altmin(P.rows, P.cols, P.vals, P.shape, 2, max_iter=2, rng=0)
    assert not res.success and res.status == 1 and "maximum number" in res.message
    res = altmin(P.rows, P.cols, P.vals, P.shape, 2, rng=0, callback=lambda r: r.nit >= 1)
    assert res.status == 5 and res.nit == 1
    U, V = res.x
    assert U.shape == (60, 2) and V.shape == (50, 2)


def test_same_rate_robust_vs_exact_counts():
    """The robust solver's |Omega|-proportional op count per outer iteration is below the
    exact one's once k is moderately large (here k = 24, op counts, machine independent)."""
    P = completion_instance(400, 400, 24, kappa=1.0, p=0.5, seed=0)
    ex = altmin(P.rows, P.cols, P.vals, P.shape, 24, method="exact", max_iter=2, rng=0)
    rb = altmin(P.rows, P.cols, P.vals, P.shape, 24, method="robust", precond="scalar", max_iter=2, rng=0)
    assert rb.n_ops < ex.n_ops


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"rank": 0}, ValueError, "rank"),
        ({"rank": 51}, ValueError, "rank"),
        ({"rank": 2.0}, TypeError, "rank"),
        ({"shape": (60,)}, ValueError, "shape"),
        ({"shape": (0, 50)}, ValueError, "shape"),
        ({"method": "svd"}, ValueError, "method"),
        ({"precond": "jacobi"}, ValueError, "precond"),
        ({"tol": 0.0}, ValueError, "tol"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"sketch_size": 2}, ValueError, "sketch_size"),
        ({"reg": -1.0}, ValueError, "reg"),
        ({"duplicates": "sum"}, ValueError, "duplicates"),
        ({"ground_truth": (np.ones((60, 2)), np.ones((49, 2)))}, ValueError, "ground_truth"),
    ],
)
def test_bad_options(kwargs, exc, match):
    P = _instance()
    args = {"rows": P.rows, "cols": P.cols, "vals": P.vals, "shape": P.shape, "rank": 2}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        altmin(args.pop("rows"), args.pop("cols"), args.pop("vals"), args.pop("shape"), args.pop("rank"), **args)


def test_bad_observations():
    P = _instance()
    r, c, v = P.rows.copy(), P.cols.copy(), P.vals.copy()
    with pytest.raises(ValueError, match="empty"):
        altmin(r[:0], c[:0], v[:0], P.shape, 2)
    bad = r.copy()
    bad[0] = 60
    with pytest.raises(ValueError, match="rows must lie in"):
        altmin(bad, c, v, P.shape, 2)
    badc = c.copy()
    badc[0] = -1
    with pytest.raises(ValueError, match="cols must lie in"):
        altmin(r, badc, v, P.shape, 2)
    vn = v.copy()
    vn[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        altmin(r, c, vn, P.shape, 2)
    with pytest.raises(ValueError, match="same length"):
        altmin(r, c[:-1], v, P.shape, 2)
    with pytest.raises(TypeError, match="integer"):
        altmin(r + 0.5, c, v, P.shape, 2)


def test_duplicates_behaviour():
    P = _instance()
    r = np.r_[P.rows, P.rows[:5]]
    c = np.r_[P.cols, P.cols[:5]]
    v = np.r_[P.vals, P.vals[:5] + 1.0]
    with pytest.raises(ValueError, match="duplicate"):
        altmin(r, c, v, P.shape, 2)
    obs = validate_observations(r, c, v, P.shape, duplicates="mean")
    assert obs.nnz == P.nnz and obs.n_duplicates == 5
    key = obs.rows * P.shape[1] + obs.cols
    pos = np.searchsorted(key, P.rows[:5] * P.shape[1] + P.cols[:5])
    assert_allclose(obs.vals[pos], P.vals[:5] + 0.5)
    kept = validate_observations(r, c, v, P.shape, duplicates="keep")
    assert kept.nnz == P.nnz + 5
    res = altmin(r, c, v, P.shape, 2, duplicates="keep", method="exact", max_iter=5, rng=0)
    assert res.n_duplicates == 5 and res.n_obs == P.nnz + 5


# ----------------------------------------------------------------------------- helpers


def test_factored_norms_and_distance():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((30, 3)), rng.standard_normal((20, 3))
    C, D = rng.standard_normal((30, 2)), rng.standard_normal((20, 2))
    assert_allclose(factored_diff_norm(A, B, C, D), np.linalg.norm(A @ B.T - C @ D.T), rtol=1e-12)
    Q, _ = np.linalg.qr(A)
    assert subspace_distance(Q, A @ rng.standard_normal((3, 3))) < 1e-12
    E = np.zeros((30, 1))
    E[0] = 1.0
    F = np.zeros((30, 1))
    F[1] = 1.0
    assert_allclose(subspace_distance(E, F), 1.0)


def test_problem_generator():
    T = incoherent_lowrank(100, 80, 4, kappa=50.0, seed=0)
    assert_allclose(np.linalg.svd(T.L @ T.R.T, compute_uv=False)[:4], T.sigma, rtol=1e-12)
    assert_allclose(T.kappa, 50.0)
    i, j = sample_entries(100, 80, nnz=500, seed=0)
    assert len(np.unique(i * 80 + j)) == 500
    assert_allclose(T.entries(i, j), (T.L @ T.R.T)[i, j], rtol=1e-12, atol=1e-14)
    P = completion_instance(100, 80, 4, c=1.0, seed=0)
    assert P.nnz == int(1.0 * 180 * 4 * np.log(100))


# ----------------------------------------------------------------------------- backends


def test_generic_path_options_and_errors(xp):
    """Sample splitting, duplicates and the input checks run in the inputs' namespace too
    (array_api_strict on ``device1``) and match the NumPy path."""
    Q = completion_instance(300, 300, 2, kappa=2.0, p=0.6, seed=1)
    kw = dict(method="exact", sample_splitting=True, max_iter=4, rng=0, ground_truth=Q.ground_truth)
    res = altmin(_on(xp, Q.rows), _on(xp, Q.cols), _on(xp, Q.vals), Q.shape, 2, **kw)
    ref = altmin(Q.rows, Q.cols, Q.vals, Q.shape, 2, **kw)
    assert ref.history["rel_error"][-1] < 0.1 * ref.history["rel_error"][1]  # converging
    assert_allclose(res.history["rel_error"], ref.history["rel_error"], rtol=1e-8)
    P = completion_instance(80, 70, 2, kappa=2.0, p=0.7, seed=1)
    r = np.r_[P.rows, P.rows[:5]]
    c = np.r_[P.cols, P.cols[:5]]
    v = np.r_[P.vals, P.vals[:5] + 1.0]
    with pytest.raises(ValueError, match="duplicate"):
        altmin(_on(xp, r), _on(xp, c), _on(xp, v), P.shape, 2)
    kw = dict(duplicates="mean", method="robust", precond="sketch", max_iter=3, rng=0)
    res = altmin(_on(xp, r), _on(xp, c), _on(xp, v), P.shape, 2, **kw)
    ref = altmin(r, c, v, P.shape, 2, **kw)
    assert res.n_duplicates == 5 and res.n_obs == P.nnz
    assert_allclose(to_numpy(res.U), ref.U, atol=1e-10 * np.abs(ref.U).max())
    bad = r.copy()
    bad[0] = 80
    with pytest.raises(ValueError, match="rows must lie in"):
        altmin(_on(xp, bad), _on(xp, c), _on(xp, v), P.shape, 2)
    vn = P.vals.copy()
    vn[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        altmin(_on(xp, P.rows), _on(xp, P.cols), _on(xp, vn), P.shape, 2)
    with pytest.raises(TypeError, match="integer"):
        altmin(_on(xp, P.rows + 0.5), _on(xp, P.cols), _on(xp, P.vals), P.shape, 2)


def test_generic_half_steps_match_numpy(xp):
    """XSide (gathers + scatter_add, any namespace) gives the NumPy Side's half-steps:
    exact, robust with the sketch (OSNAP, 2 nonzeros) and the scalar preconditioner."""
    rng = np.random.default_rng(1)
    m, n, k = 40, 30, 3
    i, j = sample_entries(m, n, p=0.5, seed=2)
    vals = rng.standard_normal(i.shape[0])
    U, _ = np.linalg.qr(rng.standard_normal((m, k)))
    side, xside = Side(j, i, vals, n, m), XSide(_on(xp, j), _on(xp, i), _on(xp, vals), n, m)
    W, res, ops = _solve_exact(side, U, 0.1)
    Wx, resx, opsx = _solve_exact(xside, _on(xp, U), 0.1)
    assert_allclose(to_numpy(Wx), W, rtol=1e-12, atol=1e-13)
    assert_allclose(to_numpy(resx), res, atol=1e-12)
    assert ops == opsx
    for precond in ("sketch", "scalar"):
        kw = dict(reg=0.0, precond=precond, solve_tol=1e-3, max_inner=30, sketch_size=4 * k, sketch_nnz=2)
        out = _solve_robust(side, U, np.zeros((n, k)), rng=np.random.default_rng(0), **kw)
        outx = _solve_robust(xside, _on(xp, U), _on(xp, np.zeros((n, k))), rng=np.random.default_rng(0), **kw)
        assert_allclose(to_numpy(outx[0]), out[0], rtol=1e-10, atol=1e-12)
        assert outx[2:] == out[2:]


# ----------------------------------------------------------------------------- estimator


def test_estimator_fit_predict():
    P = _instance(seed=5)
    X = P.sparse()
    mc = MatrixCompletion(rank=2, random_state=0)
    assert mc.fit(X) is mc
    assert mc.U_.shape == (60, 2) and mc.V_.shape == (50, 2) and mc.result_.success
    ti, tj = np.nonzero(np.ones(P.shape, dtype=bool))
    M = P.truth.L @ P.truth.R.T
    assert_allclose(mc.predict(ti, tj), M[ti, tj], atol=1e-6 * np.abs(M).max())
    assert mc.score(X) > -1e-6
    assert mc.n_features_in_ == 50
    assert "rank" in mc.get_params() and mc.set_params(max_iter=3).max_iter == 3


def test_estimator_stored_zeros_are_observations():
    """A rank-1 matrix with a block of true zeros: stored zeros must pin the zeros."""
    u = np.r_[np.zeros(10), np.ones(20)]
    v = np.r_[np.ones(15), np.arange(1, 16)]
    M = np.outer(u, v)
    rng = np.random.default_rng(0)
    mask = rng.random(M.shape) < 0.6
    i, j = np.nonzero(mask)
    X = sp.coo_array((M[i, j], (i, j)), shape=M.shape)  # keeps the stored zeros
    assert X.nnz == mask.sum()
    mc = MatrixCompletion(rank=1, method="exact", random_state=0).fit(X)
    ti, tj = np.nonzero(~mask)
    assert_allclose(mc.predict(ti, tj), M[ti, tj], atol=1e-6)


def test_estimator_errors_and_warning():
    P = _instance()
    with pytest.raises(TypeError, match="scipy.sparse"):
        MatrixCompletion(2).fit(np.ones((5, 5)))
    with pytest.raises(RuntimeError, match="not fitted"):
        MatrixCompletion(2).predict([0], [0])
    with pytest.warns(ConvergenceWarning):
        mc = MatrixCompletion(2, max_iter=1, random_state=0).fit(P.sparse())
    with pytest.raises(ValueError, match="rows must lie"):
        mc.predict([60], [0])
    with pytest.raises(ValueError, match="invalid parameter"):
        mc.set_params(alpha=1.0)
    with pytest.raises(ValueError, match="rank"):
        MatrixCompletion(0).fit(P.sparse())
    assert "max_iter=1" in repr(mc)


def test_estimator_on_real_matrix_digits():
    """scikit-learn digits (1797 x 64), half of the entries observed: the rank-5 completion
    beats the column-mean imputation on held-out entries (measured: 0.49 vs 0.56 relative
    error; the rank-5 SVD of the *full* matrix has 0.39)."""
    Q = digits_completion(p=0.5, rank=5, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mc = MatrixCompletion(5, method="exact", tol=1e-6, max_iter=60, random_state=0).fit(Q.sparse())
    pred = mc.predict(Q.test_rows, Q.test_cols)
    err = np.linalg.norm(pred - Q.test_vals) / np.linalg.norm(Q.test_vals)
    X = Q.sparse()
    col_mean = np.asarray(X.sum(axis=0)).ravel() / np.maximum(np.bincount(Q.cols, minlength=64), 1)
    base = np.linalg.norm(col_mean[Q.test_cols] - Q.test_vals) / np.linalg.norm(Q.test_vals)
    assert err < 0.9 * base, (err, base)
