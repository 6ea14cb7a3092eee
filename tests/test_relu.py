"""optlab.relu: arrangements, the convex formulation, ADMM (vs CVXPY/Clarabel), recovery, validation."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from optlab._backend import to_numpy
from optlab.relu import (
    AdmmFactor,
    constraint_violation,
    convex_objective,
    enumerate_patterns,
    max_patterns,
    network_forward,
    network_objective,
    recover_network,
    relu_admm,
    sample_patterns,
    solve_cvxpy,
    train_network,
    unique_patterns,
)


def _data(n=30, d=3, seed=0, bias=True):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d - 1 if bias else d))
    X = np.c_[Z, np.ones(n)] if bias else Z
    y = np.sin(2 * X[:, 0]) + 0.1 * rng.standard_normal(n)
    return X, y


@pytest.fixture(scope="module")
def tiny():
    from problems.relu import relu_synthetic

    p = relu_synthetic(n=30, d=3, seed=1)
    X, y = p.X, p.y
    D = sample_patterns(X, 16, seed=0)
    beta = 0.05
    ref = solve_cvxpy(X, y, D, beta, tol=1e-10)
    return X, y, D, beta, ref


# ------------------------------------------------------------------------------ arrangements


@pytest.mark.parametrize("n,d", [(12, 2), (15, 3), (9, 4)])
def test_enumeration_count_and_completeness(n, d):
    X, _ = _data(n=n, d=d, seed=n + d)
    D = enumerate_patterns(X)
    # general position with a bias column: every cell but the all-zero one
    assert D.shape[1] == max_patterns(n, d) - 1
    assert_allclose(unique_patterns(D).shape, D.shape)
    # sampling many directions never finds a pattern outside the enumeration
    Ds = sample_patterns(X, 20000, seed=3)
    allp = {tuple(c) for c in D.T.astype(int)}
    assert {tuple(c) for c in Ds.T.astype(int)} <= allp
    assert Ds.shape[1] >= 0.8 * D.shape[1]


def test_sample_patterns_distinct_nonzero():
    X, _ = _data(n=50, d=5)
    D, H = sample_patterns(X, 40, seed=0, return_generators=True)
    assert D.shape[0] == 50 and D.shape[1] <= 40 and H.shape == (5, D.shape[1])
    assert_allclose(D, (X @ H >= 0).astype(float))
    assert np.all(D.sum(axis=0) > 0)
    assert unique_patterns(D).shape == D.shape


# ------------------------------------------------------------------------------ Woodbury


@pytest.mark.parametrize("method", ["eigh", "cholesky"])
def test_woodbury_matches_dense_solve(method):
    X, _ = _data(n=14, d=3)
    D = sample_patterns(X, 5, seed=1)
    n, d = X.shape
    P = D.shape[1]
    rho = 0.7
    F = np.hstack([D[:, [i]] * X for i in range(P)] + [-D[:, [i]] * X for i in range(P)])
    G = np.zeros((2 * n * P, 2 * d * P))
    for j in range(2 * P):
        i = j % P
        G[j * n:(j + 1) * n, j * d:(j + 1) * d] = (2 * D[:, [i]] - 1) * X
    A = np.eye(2 * d * P) + G.T @ G + F.T @ F / rho
    assert_allclose(G.T @ G, np.kron(np.eye(2 * P), X.T @ X), atol=1e-12)
    b = np.random.default_rng(0).standard_normal((2 * P, d))
    u_dense = np.linalg.solve(A, b.ravel()).reshape(2 * P, d)
    fac = AdmmFactor(X, D, rho=rho, method=method)
    u, XU = fac.solve_u(b, X, D, rho)
    assert_allclose(u, u_dense, rtol=1e-10, atol=1e-12)
    assert_allclose(XU, X @ u.T, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------ ADMM vs CVXPY


def test_cvxpy_reference_is_optimal(tiny):
    X, y, D, beta, ref = tiny
    assert ref.success, ref.message
    assert ref.violation <= 1e-7
    assert_allclose(ref.fun, ref.solver_fun, rtol=1e-7)


def test_admm_matches_cvxpy(tiny):
    X, y, D, beta, ref = tiny
    res = relu_admm(X, y, D, beta, rho=0.3, tol=1e-7, max_iter=4000, f_star=ref.fun)
    # optimality residuals and feasibility (the dual residual stalls near 1e-7 on this
    # instance: several patterns carry the same neuron and ADMM drifts slowly along that face)
    assert res.primal_res <= 1e-6 and res.dual_res <= 1e-6
    assert res.violation <= 1e-6
    # agreement with the independent reference: 1e-6 relative
    assert abs(res.fun - ref.fun) <= 1e-6 * ref.fun
    # the blocks are not unique (several patterns can carry the same neuron), the fit is
    yhat = (D * (X @ (to_numpy(res.V) - to_numpy(res.W)).T)).sum(axis=1)
    assert_allclose(yhat, (D * (X @ (ref.V - ref.W).T)).sum(axis=1), atol=1e-4)
    h = res.history
    assert len(h["iter"]) == res.nit + 1
    assert np.all(np.isfinite(h["primal_res"][1:]))


def test_admm_records_and_counts(tiny):
    X, y, D, beta, _ = tiny
    res = relu_admm(X, y, D, beta, max_iter=5, tol=1e-12)
    assert res.status == 1 and res.nit == 5
    assert set(res.history) >= {"iter", "time", "fun", "primal_res", "dual_res"}
    n, d = X.shape
    P = D.shape[1]
    assert res.flops_per_iter > 10 * n * d * P
    stop = relu_admm(X, y, D, beta, max_iter=50, callback=lambda r: r.nit >= 3)
    assert stop.nit == 3 and stop.status == 5


def test_admm_exact_formulation_small():
    X, y = _data(n=15, d=2, seed=4)
    D = enumerate_patterns(X)
    ref = solve_cvxpy(X, y, D, 0.1, tol=1e-10)
    res = relu_admm(X, y, D, 0.1, rho=0.1, tol=1e-7, max_iter=2000)
    # the exact arrangement has many nearly parallel patterns: ADMM's tail is slow here
    # (gap 4e-4 after 2000 iterations, 3e-4 after 5000); CVXPY is the accurate tool at this size
    assert abs(res.fun - ref.fun) <= 1e-3 * ref.fun
    assert res.violation <= 1e-3


def test_admm_metamorphic_permutations(tiny):
    X, y, D, beta, ref = tiny
    rng = np.random.default_rng(5)
    pr, pc = rng.permutation(X.shape[0]), rng.permutation(D.shape[1])
    ref2 = solve_cvxpy(X[pr], y[pr], D[pr][:, pc], beta, tol=1e-10)
    assert_allclose(ref2.fun, ref.fun, rtol=1e-7)
    res = relu_admm(X[pr], y[pr], D[pr][:, pc], beta, rho=0.3, tol=1e-7, max_iter=4000)
    assert abs(res.fun - ref.fun) <= 1e-6 * ref.fun


def test_admm_array_api_strict(tiny, xp):
    X, y, D, beta, ref = tiny
    Xx, yx, Dx = xp.asarray(X), xp.asarray(y), xp.asarray(D)
    res = relu_admm(Xx, yx, Dx, beta, rho=0.3, max_iter=300)
    assert type(res.x) is type(Xx)
    ref_np = relu_admm(X, y, D, beta, rho=0.3, max_iter=300)
    assert_allclose(to_numpy(res.x), to_numpy(ref_np.x), atol=1e-8)
    assert_allclose(res.fun, ref_np.fun, rtol=1e-10)
    assert abs(res.fun - ref.fun) <= 5e-2 * ref.fun
    r2 = relu_admm(Xx, yx, Dx, beta, rho=0.3, max_iter=300, method="cholesky")
    assert_allclose(to_numpy(r2.x), to_numpy(ref_np.x), atol=1e-8)


# ------------------------------------------------------------------------------ recovery


def test_recovery_exact_objective(tiny):
    X, y, D, beta, ref = tiny
    U, a = recover_network(ref.V, ref.W)
    assert U.shape[0] == a.shape[0] >= 1
    assert_allclose(network_forward(X, U, a), (D * (X @ (ref.V - ref.W).T)).sum(axis=1), atol=1e-6)
    assert_allclose(network_objective(X, y, U, a, beta), ref.fun, rtol=1e-6)
    assert_allclose(convex_objective(X, y, D, ref.V, ref.W, beta), ref.fun, rtol=1e-12)
    assert constraint_violation(X, D, ref.V, ref.W) <= 1e-7


def test_exact_enumeration_beats_nonconvex_training():
    X, y = _data(n=14, d=2, seed=7)
    D = enumerate_patterns(X)
    beta = 0.05
    ref = solve_cvxpy(X, y, D, beta, tol=1e-10)
    U, a = recover_network(ref.V, ref.W)
    best = min(train_network(X, y, 2 * D.shape[1], beta, max_iter=1500, step=2e-2, seed=s).best_fun
               for s in range(4))
    assert best >= ref.fun * (1 - 1e-6)
    assert_allclose(network_objective(X, y, U, a, beta), ref.fun, rtol=1e-6)


# ------------------------------------------------------------------------------ validation


def test_bad_input():
    X, y = _data(n=10, d=3)
    D = sample_patterns(X, 5)
    with pytest.raises(ValueError, match="beta"):
        relu_admm(X, y, D, -1.0)
    with pytest.raises(ValueError, match="y must have shape"):
        relu_admm(X, y[:-1], D, 0.1)
    with pytest.raises(ValueError, match="D must have 10 rows"):
        relu_admm(X, y, D[:-1], 0.1)
    with pytest.raises(ValueError, match="0/1"):
        relu_admm(X, y, D * 2, 0.1)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        relu_admm(Xn, y, D, 0.1)
    with pytest.raises(ValueError, match="P must be >= 1"):
        sample_patterns(X, 0)
    with pytest.raises(ValueError, match="rho"):
        relu_admm(X, y, D, 0.1, rho=0.0)
    with pytest.raises(ValueError, match="labels -1/\\+1"):
        solve_cvxpy(X, y, D, 0.1, loss="hinge")
    with pytest.raises(ValueError, match="loss"):
        solve_cvxpy(X, y, D, 0.1, loss="l7")
    with pytest.raises(ValueError, match="max_candidates"):
        enumerate_patterns(np.random.default_rng(0).standard_normal((200, 8)))


def test_nonfinite_during_run_is_reported():
    X, y = _data(n=10, d=3)
    D = sample_patterns(X, 5)
    with np.errstate(all="ignore"):
        res = relu_admm(X, y * 1e300, D, 0.1, max_iter=20)
    assert not res.success
    assert "iteration" in res.message
