"""Tests for optlab.convex.projected_gradient."""

from __future__ import annotations

from functools import partial

import cvxpy as cp
import numpy as np
import pytest
import scipy.optimize
from numpy.testing import assert_allclose, assert_array_equal

from optlab._backend import to_numpy
from optlab.convex import (
    gradient_descent,
    project_l2_ball,
    projected_gradient,
    prox_box,
    prox_nonnegative,
)
from optlab.result import Status

CLARABEL_TIGHT = dict(tol_gap_abs=1e-9, tol_gap_rel=1e-9, tol_feas=1e-9)


def ls_problem(xp, seed=0, m=20, n=7):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    b = 3.0 * rng.standard_normal(m)
    Ax, bx = xp.asarray(A), xp.asarray(b)

    def fun(x):
        r = Ax @ x - bx
        return 0.5 * xp.sum(r * r)

    def grad(x):
        return Ax.T @ (Ax @ x - bx)

    return fun, grad, A, b, np.linalg.norm(A, 2) ** 2


def grad_mapping(A, b, x, project, step):
    return (x - project(x - step * (A.T @ (A @ x - b)))) / step


def test_box_constrained_ls_matches_cvxpy_and_lsq_linear(xp):
    fun, grad, A, b, L = ls_problem(xp)
    lo, hi = -0.3 * np.ones(7), 0.5 * np.ones(7)
    proj = partial(prox_box, lower=xp.asarray(lo), upper=xp.asarray(hi))
    x0 = xp.zeros(7)
    res = projected_gradient(fun, grad, proj, x0, L=L, tol=1e-9, max_iter=20000)
    assert res.success, res.message
    assert type(res.x) is type(x0) and res.x.dtype == x0.dtype
    x = to_numpy(res.x)
    ref = scipy.optimize.lsq_linear(A, b, bounds=(lo, hi), method="bvls", tol=1e-14).x
    assert_allclose(x, ref, atol=1e-8)
    u = cp.Variable(7)
    cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ u - b)), [u >= lo, u <= hi]).solve(
        solver=cp.CLARABEL, **CLARABEL_TIGHT
    )
    assert_allclose(x, u.value, atol=1e-6)
    assert np.all((x >= lo) & (x <= hi))
    assert np.any((x == lo) | (x == hi))  # some bounds active
    pnp = partial(prox_box, lower=lo, upper=hi)
    assert np.linalg.norm(grad_mapping(A, b, x, pnp, 1 / L)) <= 1e-9
    assert res.nfev == res.njev == res.nprox == res.nit + 1


def test_ball_constrained_ls_matches_cvxpy(xp):
    fun, grad, A, b, L = ls_problem(xp, seed=1)
    c, r = np.full(7, 0.1), 0.5
    proj = partial(project_l2_ball, radius=r, center=xp.asarray(c))
    res = projected_gradient(fun, grad, proj, xp.zeros(7), step=1.0 / L, tol=1e-9, max_iter=20000)
    assert res.success
    x = to_numpy(res.x)
    u = cp.Variable(7)
    # same minimizer as 0.5 ||Au - b||^2, better conditioned as a second-order cone program
    cp.Problem(cp.Minimize(cp.norm(A @ u - b, 2)), [cp.norm(u - c, 2) <= r]).solve(
        solver=cp.CLARABEL, **CLARABEL_TIGHT
    )
    assert_allclose(x, u.value, atol=2e-5)  # Clarabel is only this accurate here
    # precise reference: x(nu) = (A'A + nu I)^{-1} (A'b + nu c) with ||x(nu) - c|| = r
    H = A.T @ A

    def x_of(nu):
        return np.linalg.solve(H + nu * np.eye(7), A.T @ b + nu * c)

    nu = scipy.optimize.brentq(lambda t: np.linalg.norm(x_of(t) - c) - r, 0.0, 1e6, xtol=1e-14)
    assert_allclose(x, x_of(nu), atol=1e-9)
    assert_allclose(np.linalg.norm(x - c), r, rtol=1e-12)  # the constraint is active
    # KKT: -grad f(x) = nu (x - c), nu >= 0
    gf = A.T @ (A @ x - b)
    nu = -gf @ (x - c) / r**2
    assert nu > 0
    assert_allclose(-gf, nu * (x - c), atol=1e-8)


def test_nonnegative_ls_matches_nnls():
    fun, grad, A, b, L = ls_problem(np, seed=2)
    res = projected_gradient(
        fun, grad, prox_nonnegative, np.zeros(7), L=L, tol=1e-10, max_iter=50000
    )
    assert res.success
    assert_allclose(res.x, scipy.optimize.nnls(A, b)[0], atol=1e-9)


def test_identity_projection_equals_gradient_descent(xp):
    fun, grad, A, b, L = ls_problem(xp, seed=3)
    r1 = projected_gradient(fun, grad, lambda v: v, xp.ones(7), L=L, tol=1e-6, max_iter=5000)
    r2 = gradient_descent(fun, grad, xp.ones(7), L=L, tol=1e-6, max_iter=5000)
    assert r1.nit == r2.nit
    assert_array_equal(r1.history["fun"], r2.history["fun"])
    assert_allclose(r1.history["grad_norm"], r2.history["grad_norm"], rtol=1e-6)
    assert_array_equal(to_numpy(r1.x), to_numpy(r2.x))


def test_rate_bound_bubeck_3_7():
    fun, grad, A, b, L = ls_problem(np, seed=4, m=6, n=10)  # rank deficient
    proj = partial(project_l2_ball, radius=1.0)
    x0 = proj(np.ones(10))  # feasible start
    N = 200
    res = projected_gradient(fun, grad, proj, x0, L=L, tol=1e-300, max_iter=N)
    assert res.status == Status.MAX_ITER and res.nit == N
    u = cp.Variable(10)
    prob = cp.Problem(cp.Minimize(cp.norm(A @ u - b, 2)), [cp.norm(u, 2) <= 1.0])
    prob.solve(solver=cp.CLARABEL, **CLARABEL_TIGHT)
    f_star = 0.5 * prob.value**2
    k = np.arange(1, N + 1)
    R2 = np.sum((x0 - u.value) ** 2)
    gap = res.history["fun"][1:] - f_star
    assert np.all(gap <= (3 * L * R2 + fun(x0) - f_star) / (k + 1) + 1e-7)


def test_pinned_iteration_count():
    # f = 0.5 ||x - c||^2, step 1 (L = 1): x_1 = P(c) is optimal and certified at k = 1
    c = np.array([2.0, -0.5, 0.25])
    res = projected_gradient(lambda x: 0.5 * np.sum((x - c) ** 2), lambda x: x - c,
                             prox_nonnegative, np.ones(3), L=1.0)  # fmt: skip
    assert res.success and res.nit == 1
    assert_array_equal(res.x, [2.0, 0.0, 0.25])
    assert_array_equal(res.history["grad_norm"][1:], [0.0])


def test_metamorphic_scaling_and_permutation(xp):
    fun, grad, A, b, L = ls_problem(xp, seed=5)
    proj = partial(prox_box, lower=-0.2, upper=0.4)
    c = 4.0
    r1 = projected_gradient(fun, grad, proj, xp.zeros(7), L=L, tol=1e-7, max_iter=5000)
    r2 = projected_gradient(lambda x: c * fun(x), lambda x: c * grad(x), proj, xp.zeros(7),
                            L=c * L, tol=c * 1e-7, max_iter=5000)  # fmt: skip
    assert r1.nit == r2.nit
    assert_array_equal(to_numpy(r1.x), to_numpy(r2.x))
    # permuted coordinates (a box with equal bounds is permutation invariant)
    perm = np.random.default_rng(3).permutation(7)
    fun_p, grad_p, *_ = ls_problem(xp, seed=5)
    Ap = xp.asarray(A[:, perm])
    bx = xp.asarray(b)
    r3 = projected_gradient(
        lambda z: 0.5 * xp.sum((Ap @ z - bx) ** 2), lambda z: Ap.T @ (Ap @ z - bx), proj,
        xp.zeros(7), L=L, tol=1e-10, max_iter=20000,
    )  # fmt: skip
    r4 = projected_gradient(fun, grad, proj, xp.zeros(7), L=L, tol=1e-10, max_iter=20000)
    assert_allclose(to_numpy(r3.x), to_numpy(r4.x)[perm], atol=1e-9)


def test_nan_projection_is_reported():
    calls = {"n": 0}

    def proj(v):
        calls["n"] += 1
        return v * np.nan if calls["n"] == 4 else np.clip(v, 0.0, 1.0)

    fun, grad, A, b, L = ls_problem(np, seed=6)
    res = projected_gradient(fun, grad, proj, np.zeros(7), L=L)
    assert res.status == Status.NUMERICAL_ERROR
    assert "non-finite x at iteration 4" in res.message
    assert res.nit == 3 and len(res.history["fun"]) == 4


def test_huge_step_diverges():
    fun, grad, A, b, L = ls_problem(np, seed=7)
    res = projected_gradient(fun, grad, lambda v: v, np.ones(7), step=5.0 / L)
    assert res.status == Status.DIVERGED and not res.success
    assert f"iteration {res.nit + 1}" in res.message
    assert np.all(np.isfinite(res.history["fun"]))


def _q():
    return (lambda x: 0.5 * float(x @ x)), (lambda x: x), prox_nonnegative


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(), ValueError, "exactly one"),
        (dict(L=1.0, step=1.0), ValueError, "exactly one"),
        (dict(L=0.0), ValueError, "L"),
        (dict(step=-1.0), ValueError, "step"),
        (dict(step=float("inf")), ValueError, "step"),
        (dict(L=1.0, tol=0.0), ValueError, "tol"),
        (dict(L=1.0, max_iter=-3), ValueError, "max_iter"),
        (dict(L=1.0, max_iter=None), TypeError, "max_iter"),
    ],
)
def test_bad_options(kwargs, exc, match):
    f, g, p = _q()
    with pytest.raises(exc, match=match):
        projected_gradient(f, g, p, np.ones(2), **kwargs)


@pytest.mark.parametrize(
    "fun, grad, project, x0, exc, match",
    [
        ("f", lambda x: x, prox_nonnegative, np.ones(2), TypeError, "fun"),
        (lambda x: 0.0, [1], prox_nonnegative, np.ones(2), TypeError, "grad"),
        (lambda x: 0.0, lambda x: x, None, np.ones(2), TypeError, "project"),
        (
            lambda x: 0.0,
            lambda x: x,
            lambda v: v[:1],
            np.ones(2),
            ValueError,
            "project must return",
        ),
        (lambda x: 0.0, lambda x: x, prox_nonnegative, np.array([np.nan, 0.0]), ValueError, "x0"),
        (lambda x: 0.0, lambda x: x, prox_nonnegative, np.float64(1.0), ValueError, "x0"),
        (
            lambda x: 0.0,
            lambda x: np.full(2, np.nan),
            prox_nonnegative,
            np.ones(2),
            ValueError,
            "x0",
        ),
    ],
)
def test_bad_oracles_and_x0(fun, grad, project, x0, exc, match):
    with pytest.raises(exc, match=match):
        projected_gradient(fun, grad, project, x0, L=1.0)
