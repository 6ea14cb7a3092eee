"""Tests of optlab.lowrank.operators and optlab.lowrank.sensing (and problems.lowrank_sensing).

Every solver test checks an optimality residual (the relative measurement residual, the
gradient at the final point) and agreement with an independent reference: the ground truth
that generated the data and cvxpy's nuclear-norm minimization (Clarabel) on tiny instances.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from optlab._backend import to_numpy
from optlab.lowrank.operators import EntrySampling, GaussianDesign, operator_norm_estimate
from optlab.lowrank.sensing import (
    gd_asymmetric,
    gd_symmetric,
    lowrank_error,
    scaled_gd,
    sensing_loss,
    subgradient_l1,
)
from optlab.result import Status
from problems.lowrank_sensing import low_rank_matrix, nuclear_norm_recovery, sensing_problem

# ----------------------------------------------------------------------------- operators


def _like(xp):
    return xp.asarray([0.0], dtype=xp.float64)


def test_gaussian_adjoint_identity(xp):
    rng = np.random.default_rng(0)
    op = GaussianDesign(5, 4, 30, seed=2, like=_like(xp))
    X = rng.standard_normal((5, 4))
    y = rng.standard_normal(30)
    Xx, yx = xp.asarray(X), xp.asarray(y)
    lhs = float(xp.sum(op.apply(Xx) * yx))
    rhs = float(xp.sum(Xx * op.adjoint(yx)))
    assert_allclose(lhs, rhs, rtol=1e-12)
    # against the explicit (m, n1 n2) matrix
    A = op.to_matrix()
    assert_allclose(to_numpy(op.apply(Xx)), A @ X.ravel(), rtol=1e-12)
    assert_allclose(to_numpy(op.adjoint(yx)).ravel(), A.T @ y, rtol=1e-12)
    # factored forms
    F, G = rng.standard_normal((5, 2)), rng.standard_normal((4, 2))
    assert_allclose(to_numpy(op.apply_factored(xp.asarray(F), xp.asarray(G))), A @ (F @ G.T).ravel(), rtol=1e-12)
    S = (A.T @ y).reshape(5, 4)
    assert_allclose(to_numpy(op.adjoint_matmul(yx, xp.asarray(G))), S @ G, rtol=1e-12)
    assert_allclose(to_numpy(op.adjoint_rmatmul(yx, xp.asarray(F))), S.T @ F, rtol=1e-12)


def test_symmetric_design_is_symmetric_and_isometric_in_mean():
    op = GaussianDesign(6, m=4000, symmetric=True, seed=0)
    A = np.asarray(op.matrices)
    assert_allclose(A, np.transpose(A, (0, 2, 1)))
    # E A*A = Id on symmetric matrices: ||A(X)||^2 ~ ||X||_F^2 within sampling error
    rng = np.random.default_rng(1)
    B = rng.standard_normal((6, 6))
    X = B + B.T
    ratio = float(np.sum(op.apply(X) ** 2)) / float(np.sum(X * X))
    assert abs(ratio - 1.0) < 0.1


def test_seeded_storage_matches_dense():
    d = GaussianDesign(5, 5, 37, symmetric=True, seed=4, block_size=8)
    s = GaussianDesign(5, 5, 37, symmetric=True, seed=4, block_size=8, storage="seeded")
    X = np.arange(25.0).reshape(5, 5)
    y = np.linspace(-1, 1, 37)
    assert_allclose(s.apply(X), d.apply(X), rtol=1e-13)
    assert_allclose(s.adjoint(y), d.adjoint(y), rtol=1e-13)
    assert s._A is None  # nothing stored


def test_entry_sampling(xp):
    rows = xp.asarray([0, 1, 2, 2, 0])
    cols = xp.asarray([1, 0, 3, 3, 2])
    op = EntrySampling((3, 4), rows, cols, scale=2.0)
    X = np.arange(12.0).reshape(3, 4)
    assert_allclose(to_numpy(op.apply(xp.asarray(X))), 2.0 * X[[0, 1, 2, 2, 0], [1, 0, 3, 3, 2]])
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    D = np.zeros((3, 4))
    np.add.at(D, ([0, 1, 2, 2, 0], [1, 0, 3, 3, 2]), 2.0 * y)  # duplicates accumulate
    assert_allclose(to_numpy(op.adjoint(xp.asarray(y))), D)
    V = np.arange(8.0).reshape(4, 2)
    U = np.arange(6.0).reshape(3, 2)
    assert_allclose(to_numpy(op.adjoint_matmul(xp.asarray(y), xp.asarray(V))), D @ V)
    assert_allclose(to_numpy(op.adjoint_rmatmul(xp.asarray(y), xp.asarray(U))), D.T @ U)
    assert_allclose(to_numpy(op.apply_factored(xp.asarray(U), xp.asarray(V))), op.to_matrix() @ (U @ V.T).ravel())


def test_operator_norm_estimate():
    M, *_ = low_rank_matrix(8, rank=2, kappa=3.0, symmetric=True, seed=0)
    op = EntrySampling.random(8, 8, 64, seed=0)  # all entries: A*A = Id * n1 n2 / m = Id
    assert_allclose(operator_norm_estimate(op, op.apply(M), iters=60), 1.0, rtol=1e-6)


def test_operator_validation():
    with pytest.raises(ValueError, match="symmetric"):
        GaussianDesign(3, 4, 10, symmetric=True)
    with pytest.raises(ValueError, match="m must be"):
        GaussianDesign(3, 3, 0)
    with pytest.raises(ValueError, match="storage"):
        GaussianDesign(3, 3, 5, storage="disk")
    op = GaussianDesign(3, 3, 5)
    with pytest.raises(ValueError, match="shape"):
        op.apply(np.ones((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        op.apply(np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="y must have shape"):
        op.adjoint(np.ones(4))
    with pytest.raises(ValueError, match="columns"):
        op.apply_factored(np.ones((3, 2)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="lie in"):
        EntrySampling((3, 3), np.array([0, 3]), np.array([0, 0]))
    with pytest.raises(ValueError, match="empty"):
        EntrySampling((3, 3), np.zeros(0, dtype=int), np.zeros(0, dtype=int))
    with pytest.raises(TypeError, match="integer"):
        EntrySampling((3, 3), np.array([0.0]), np.array([0]))
    with pytest.raises(ValueError, match="exceeds"):
        EntrySampling.random(2, 2, 5)


# ----------------------------------------------------------------------------- problems


def test_problem_generator():
    P = sensing_problem(12, 3, kappa=50.0, c=4.0, outlier_fraction=0.2, seed=5)
    s = np.linalg.svd(P.M_star, compute_uv=False)
    assert_allclose(s[:3], [1.0, 0.5 + 0.5 / 50, 1 / 50], rtol=1e-10)
    assert s[3] < 1e-12
    assert_allclose(P.L @ P.R.T, P.M_star, atol=1e-14)
    assert len(P.outliers) == round(0.2 * P.op.m)
    clean = np.setdiff1d(np.arange(P.op.m), P.outliers)
    assert_allclose(P.y[clean], P.y_clean[clean])
    assert np.all(P.y[P.outliers] != P.y_clean[P.outliers])
    with pytest.raises(ValueError, match="rank"):
        low_rank_matrix(4, rank=5)
    with pytest.raises(ValueError, match="kappa"):
        low_rank_matrix(4, rank=2, kappa=0.5)
    with pytest.raises(ValueError, match="outlier_fraction"):
        sensing_problem(5, 1, outlier_fraction=1.0)


# ----------------------------------------------------------------------------- solvers


def _grad_sym(op, y, X):
    r = op.apply(X @ X.T) - y
    S = op.adjoint(r)
    return 0.5 * (S + S.T) @ X


def test_gd_symmetric_exact_recovers_truth_and_matches_cvxpy():
    P = sensing_problem(6, 1, kappa=1.0, c=10.0, seed=0)
    res = gd_symmetric(P.op, P.y, rank=1, alpha=1e-2, tol=1e-12, max_iter=5000)
    assert res.success, res.message
    X = res.x
    # optimality: the residual and the gradient vanish
    assert res.history["residual"][-1] <= 1e-12
    assert np.linalg.norm(_grad_sym(P.op, P.y, X)) < 1e-10
    # independent references: the ground truth and the convex relaxation
    ref = nuclear_norm_recovery(P.op, P.y, psd=True)
    assert_allclose(ref, P.M_star, atol=1e-6)
    assert_allclose(X @ X.T, ref, atol=1e-6)
    assert len(res.history["iter"]) == res.nit + 1


def test_scaled_gd_overparameterized_matches_cvxpy():
    P = sensing_problem(6, 2, kappa=5.0, c=8.0, seed=1)
    res = scaled_gd(P.op, P.y, rank=4, lam=0.5 * P.sigma_min, alpha=1e-8, tol=1e-9, max_iter=3000,
                    M_star=P.M_star)
    assert res.history["error"][-1] < 1e-6
    ref = nuclear_norm_recovery(P.op, P.y, psd=True)
    assert_allclose(res.x @ res.x.T, ref, atol=1e-5)


def test_gd_asymmetric_matches_cvxpy_nuclear_norm():
    P = sensing_problem(5, 1, kappa=1.0, n2=4, c=12.0, symmetric=False, seed=2)
    res = gd_asymmetric(P.op, P.y, rank=1, alpha=0.1, tol=1e-12, max_iter=5000)
    assert res.success, res.message
    F, G = res.F, res.G
    r = P.op.apply(F @ G.T) - P.y
    S = P.op.adjoint(r)
    assert np.linalg.norm(S @ G) + np.linalg.norm(S.T @ F) < 1e-10  # gradient
    ref = nuclear_norm_recovery(P.op, P.y, psd=False)
    assert_allclose(F @ G.T, ref, atol=1e-5)
    assert_allclose(ref, P.M_star, atol=1e-5)


def test_rebalance_keeps_product_and_speeds_up():
    P = sensing_problem(10, 1, kappa=1.0, c=10.0, symmetric=False, seed=3)
    base = gd_asymmetric(P.op, P.y, rank=3, alpha=0.05, step=0.2, max_iter=1500, M_star=P.M_star,
                         criterion="error", tol=1e-9)
    mod = gd_asymmetric(P.op, P.y, rank=3, alpha=0.05, step=0.2, max_iter=1500, M_star=P.M_star,
                        criterion="error", tol=1e-9, modification="rebalance")
    assert mod.success and mod.modified_at is not None
    assert mod.nit < base.nit
    k = mod.modified_at
    # the modification leaves F G^T (hence the residual) unchanged at that iteration
    assert_allclose(mod.history["residual"][k], base.history["residual"][k], rtol=1e-12)
    # and creates an O(1) imbalance
    assert mod.history["imbalance"][k + 1] > 100 * base.history["imbalance"][k + 1]


def test_subgradient_outliers_recovers_truth():
    P = sensing_problem(10, 1, kappa=1.0, c=20.0, outlier_fraction=0.3, seed=4)
    res = subgradient_l1(P.op, P.y, rank=1, M_star=P.M_star, max_iter=700, tol=0.0)
    assert res.history["error"][-1] < 1e-8
    # l2 gradient descent is thrown off by the outliers
    l2 = gd_symmetric(P.op, P.y, rank=1, max_iter=700, tol=0.0, M_star=P.M_star, alpha=1e-3)
    assert l2.history["error"][-1] > 1e-2
    # the convex robust formulation (PSD, l1 loss) finds the same matrix
    ref = nuclear_norm_recovery(P.op, P.y, psd=True, loss="l1")
    assert_allclose(res.x @ res.x.T, ref, atol=1e-5)
    # loss at the truth equals the l1 loss of the outliers alone (residual zero elsewhere)
    U = P.L
    assert_allclose(sensing_loss(P.op, P.y, U, loss="l1"),
                    float(np.sum(np.abs(P.y - P.y_clean))) / math.sqrt(P.op.m))


def test_backends_agree(xp):
    P = sensing_problem(6, 1, c=10.0, seed=0)
    like = _like(xp)
    op = GaussianDesign(6, 6, P.op.m, symmetric=True, seed=1, like=like)
    y = op.apply(xp.asarray(P.M_star))
    M = xp.asarray(P.M_star)
    for fn, kw in ((gd_symmetric, {}), (scaled_gd, {"lam": 0.5}), (subgradient_l1, {})):
        res = fn(op, y, rank=1, M_star=M, max_iter=400, tol=1e-9, criterion="error", **kw)
        assert get_ns(res.x) is get_ns(y)
        assert res.history["error"][-1] < 1e-5, (fn.__name__, res.message)
    # a symmetric design only sees the symmetric part of F G^T: the asymmetric
    # parameterization needs a general design
    op = GaussianDesign(6, 6, P.op.m, seed=1, like=like)
    y = op.apply(M)
    res = gd_asymmetric(op, y, rank=1, M_star=(xp.asarray(P.L), xp.asarray(P.L)), alpha=0.1,
                        max_iter=3000, tol=1e-9, criterion="error")
    assert res.success, res.message
    assert get_ns(res.G) is get_ns(y)


def get_ns(a):
    from optlab._backend import get_namespace

    return get_namespace(a)


def test_lowrank_error_factored_is_accurate():
    rng = np.random.default_rng(0)
    L = rng.standard_normal((30, 2))
    F = L + 1e-11 * rng.standard_normal((30, 2))
    dense = np.linalg.norm(F @ F.T - L @ L.T) / np.linalg.norm(L @ L.T)
    assert_allclose(lowrank_error(F, F, (L, L)), dense, rtol=1e-4)


def test_failures_are_reported_not_raised():
    P = sensing_problem(6, 1, c=10.0, seed=0)
    res = gd_symmetric(P.op, P.y, rank=1, step=50.0, alpha=0.5, max_iter=200)
    assert not res.success
    assert res.status in (Status.DIVERGED, Status.NUMERICAL_ERROR)
    assert "iteration" in res.message
    assert len(res.history["iter"]) == res.nit + 1
    res = gd_symmetric(P.op, P.y, rank=1, max_iter=3)
    assert res.status == Status.MAX_ITER and res.nit == 3
    stop = gd_symmetric(P.op, P.y, rank=1, max_iter=50, callback=lambda r: r.nit >= 2)
    assert stop.status == Status.CALLBACK and stop.nit == 2


def test_solver_validation():
    P = sensing_problem(5, 1, c=6.0, seed=0)
    op, y = P.op, P.y
    with pytest.raises(ValueError, match="rank"):
        gd_symmetric(op, y, rank=0)
    with pytest.raises(ValueError, match="rank"):
        scaled_gd(op, y, rank=6, lam=1.0)
    with pytest.raises(ValueError, match="alpha"):
        gd_symmetric(op, y, rank=1, alpha=0.0)
    with pytest.raises(ValueError, match="step"):
        gd_symmetric(op, y, rank=1, step=-1.0)
    with pytest.raises(ValueError, match="lam"):
        scaled_gd(op, y, rank=1, lam=0.0)
    with pytest.raises(ValueError, match="y must"):
        gd_symmetric(op, y[:-1], rank=1)
    with pytest.raises(ValueError, match="NaN"):
        gd_symmetric(op, np.full(op.m, np.nan), rank=1)
    with pytest.raises(ValueError, match="rows"):
        gd_symmetric(op, y, X0=np.ones((4, 1)))
    with pytest.raises(ValueError, match="M_star"):
        gd_symmetric(op, y, rank=1, criterion="error")
    with pytest.raises(ValueError, match="M_star"):
        gd_symmetric(op, y, rank=1, M_star=np.ones((4, 4)))
    with pytest.raises(TypeError, match="SensingOperator"):
        gd_symmetric(np.eye(5), y, rank=1)
    with pytest.raises(ValueError, match="decay"):
        subgradient_l1(op, y, rank=1, decay=1.5)
    with pytest.raises(ValueError, match="rank"):
        gd_asymmetric(op, y)
    with pytest.raises(ValueError, match="modification"):
        gd_asymmetric(op, y, rank=1, modification="balance")
    asym = GaussianDesign(4, 3, 20, seed=0)
    with pytest.raises(ValueError, match="square"):
        gd_symmetric(asym, np.ones(20), rank=1)


def test_problem_in_namespace_and_entry_sampling_solver(xp):
    P = sensing_problem(20, 2, kappa=3.0, c=4.0, design="entries", seed=0, like=_like(xp))
    assert get_ns(P.y) is get_ns(_like(xp))
    # matrix completion as sensing: ScaledGD(lambda) through gathers and scatter-adds only
    res = scaled_gd(P.op, P.y, rank=2, lam=0.5 * P.sigma_min, alpha=1e-3, M_star=P.M_star,
                    criterion="error", tol=1e-8, max_iter=2000)
    assert res.success, res.message
    assert res.history["residual"][-1] < 1e-7
    assert_allclose(to_numpy(res.x @ res.x.T), to_numpy(P.M_star), atol=1e-7)
