"""Tests for the single-loop bilevel solvers (LV-HBA, sl-BAMM, MEHA, BDA) and their toy problems."""

from __future__ import annotations

import math

import cvxpy as cp
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize_scalar

from optlab.bilevel.bda import bda
from optlab.bilevel.lvhba import lvhba
from optlab.bilevel.meha import meha
from optlab.bilevel.slbamm import slbamm
from optlab.result import Status
from problems.bilevel_toy import (
    halfspace_toy,
    lvhba_constrained_toy,
    nonsingleton_toy,
    sine_toy,
    strongly_convex_toy,
)

SOLVERS = {
    "bda": (bda, {"step": 0.5, "max_iter": 1000}),
    "slbamm": (slbamm, {"mu_power": 0.5, "step": 0.1, "y_step": 0.5, "max_iter": 3000}),
    "meha": (meha, {"step": 0.1, "theta_step": 0.2, "max_iter": 5000}),
    "lvhba": (lvhba, {"step": 0.05, "theta_step": 0.1, "gamma1": 1.0, "c0": 0.2, "max_iter": 5000}),
}


# ----------------------------------------------------------------------------- problems


def _qp_reference(toy: str, n: int):
    """The optimistic bilevel problem as a QP over the lower-level solution set (cvxpy)."""
    x, y1, y2 = cp.Variable(n), cp.Variable(n), cp.Variable(n)
    obj = 0.5 * cp.sum_squares(x - y2) + 0.5 * cp.sum_squares(y1 - 1)
    if toy == "nonsingleton":
        cons = [y1 == x]  # S(x) = {y1 = x}
    else:  # lvhba: stationarity of the equality-constrained LL: y1 - x + lam = 0, 1 + lam = 0
        cons = [y1 == x + 1, cp.sum(x) + cp.sum(y1) + cp.sum(y2) == 0]
    cp.Problem(cp.Minimize(obj), cons).solve(solver=cp.CLARABEL)
    return x.value, np.concatenate([y1.value, y2.value])


@pytest.mark.parametrize("toy", ["nonsingleton", "lvhba"])
def test_known_solutions_match_qp(toy):
    n = 7
    p = nonsingleton_toy(n) if toy == "nonsingleton" else lvhba_constrained_toy(n)
    xq, yq = _qp_reference(toy, n)
    assert_allclose(p.x_star, xq, atol=1e-6)
    assert_allclose(p.y_opt, yq, atol=1e-6)
    assert_allclose(p.F(p.x_star), p.F_star, atol=1e-9)
    assert_allclose(p.hypergrad(p.x_star), 0.0, atol=1e-12)
    assert p.lower_gap(p.x_star, p.y_opt) == pytest.approx(0.0, abs=1e-12)


def test_sine_toy_global_solution_by_enumeration():
    p = sine_toy(1, a=2.0, c=2.0)
    best = min(
        (minimize_scalar(lambda t, k=k: 0.5 * (t - 2) ** 2 + 0.5 * (2 - t - math.pi / 2 + 2 * k * math.pi - 4) ** 2,
                         bounds=(-20, 20), method="bounded").fun, k)
        for k in range(-3, 4)
    )  # fmt: skip
    assert best[1] == p.params["k_star"]
    assert_allclose(p.F_star, best[0], rtol=1e-6)
    assert_allclose(p.F(p.x_star), p.F_star, rtol=1e-12)


@pytest.mark.parametrize(
    "make", [nonsingleton_toy, lvhba_constrained_toy, strongly_convex_toy, sine_toy, halfspace_toy]
)
def test_problem_gradients_and_hypergrad_by_finite_differences(make):
    p = make(3)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=p.dim_x), rng.normal(size=p.dim_y)
    v = rng.normal(size=p.dim_y)
    h = 1e-6
    fd = lambda fun, z, e: (fun(z + h * e) - fun(z - h * e)) / (2 * h)  # noqa: E731
    for i in range(p.dim_x):
        e = np.eye(p.dim_x)[i]
        assert_allclose(p.grad_f_x(x, y)[i], fd(lambda z: p.f(z, y), x, e), atol=1e-6)
        assert_allclose(p.grad_g_x(x, y)[i], fd(lambda z: p.g(z, y), x, e), atol=1e-6)
        assert_allclose(p.hypergrad(x)[i], fd(p.F, x, e), atol=1e-5)
        assert_allclose(p.jvp_g_xy(x, y, v)[i], fd(lambda z: float(p.grad_g_y(z, y) @ v), x, e), atol=1e-6)
        assert_allclose(p.jvp_f_xy(x, y, v)[i], fd(lambda z: float(p.grad_f_y(z, y) @ v), x, e), atol=1e-6)
    for i in range(p.dim_y):
        e = np.eye(p.dim_y)[i]
        assert_allclose(p.grad_f_y(x, y)[i], fd(lambda z: p.f(x, z), y, e), atol=1e-6)
        assert_allclose(p.grad_g_y(x, y)[i], fd(lambda z: p.g(x, z), y, e), atol=1e-6)
    assert_allclose(p.hvp_g_yy(x, y, v), fd(lambda z: p.grad_g_y(x, z), y, v), atol=1e-5)
    assert_allclose(p.hvp_f_yy(x, y, v), fd(lambda z: p.grad_f_y(x, z), y, v), atol=1e-5)


def test_problem_bad_input():
    with pytest.raises(ValueError, match="n must be"):
        nonsingleton_toy(0)
    with pytest.raises(ValueError, match="x0"):
        nonsingleton_toy(3, x0=np.zeros(2))
    with pytest.raises(ValueError, match="A must be symmetric positive definite"):
        strongly_convex_toy(2, A=-np.eye(2))


# ----------------------------------------------------------------------------- solvers


@pytest.mark.parametrize("name", list(SOLVERS))
def test_solvers_reach_nonsingleton_solution(name):
    solver, opts = SOLVERS[name]
    p = nonsingleton_toy(5)
    res = solver(p, **opts)
    xq, yq = _qp_reference("nonsingleton", 5)
    assert_allclose(res.x, xq, atol=1e-5)  # independent reference (cvxpy)
    assert_allclose(res.y, yq, atol=1e-5)
    assert res.lower_gap == pytest.approx(0.0, abs=1e-9)  # optimality residual of the lower level
    assert np.linalg.norm(p.hypergrad(res.x)) < 1e-5  # stationarity of the optimistic value
    h = res.history
    assert len(h["iter"]) == res.nit + 1
    assert h["error"][-1] < 1e-5 < h["error"][0]
    assert res.n_grad > 0 and res.njev == res.n_grad
    if name in ("meha", "lvhba"):
        assert res.n_hvp == 0 and res.n_jvp == 0  # Hessian-free


@pytest.mark.parametrize("name", ["bda", "meha", "slbamm"])
def test_strongly_convex_toy_against_closed_form(name):
    solver, _ = SOLVERS[name]
    p = strongly_convex_toy(4)
    opts = {"bda": {"step": 0.5, "alpha": 0.0, "max_iter": 500},
            "meha": {"c0": 5.0, "p": 0.45, "step": 0.1, "theta_step": 0.2, "max_iter": 5000},
            "slbamm": {"average": False, "step": 0.2, "y_step": 0.5, "max_iter": 2000}}[name]  # fmt: skip
    res = solver(p, **opts)
    tol = 1e-6 if name != "meha" else 0.05  # MEHA: penalty bias O(1/c_k)
    assert_allclose(res.x, 0.5, atol=tol)
    assert_allclose(res.y, 0.5, atol=tol)


def test_lvhba_constrained_small():
    p = lvhba_constrained_toy(5)
    res = lvhba(p, theta0=np.full(10, 10.0), lam0=1.0, z0=-1.0, gamma1=1.0, gamma2=1.0, c0=1.0, p=0.45,
                max_iter=4000)  # fmt: skip
    xq, _ = _qp_reference("lvhba", 5)
    assert np.linalg.norm(res.x - xq) / np.linalg.norm(xq) < 0.03
    assert abs(res.x.sum() + res.y.sum()) < 1e-9  # feasible
    assert np.all(np.isfinite(res.history["constraint_violation"]))
    assert res.lam.shape == (1,) and res.lam[0] == pytest.approx(-1.0, abs=0.05)  # LL multiplier = -1
    assert res.n_constraint == 3 * res.nit


def test_aid_type_limit_without_averaging():
    """sl-BAMM without averaging (and BDA with alpha = 0) cannot move y2: wrong point."""
    p = nonsingleton_toy(5)
    r = bda(p, step=0.5, alpha=0.0, max_iter=500)
    assert_allclose(r.x, 0.505, atol=1e-6)
    r2 = slbamm(p, average=False, step=0.1, y_step=0.5, max_iter=500)
    assert np.linalg.norm(r2.x - 1.0) > 0.1


def test_metamorphic_dimension_scaling():
    """The toy is separable: the error grows like sqrt(n) and iteration counts do not change."""
    r5 = bda(nonsingleton_toy(5), step=0.5, max_iter=40, tol=0.0)
    r20 = bda(nonsingleton_toy(20), step=0.5, max_iter=40, tol=0.0)
    assert_allclose(r20.history["error"], 2.0 * r5.history["error"], rtol=1e-9)


def test_fd_fallback_matches_exact_products():
    p = nonsingleton_toy(4)
    r_exact = slbamm(p, mu_power=0.5, step=0.1, y_step=0.5, max_iter=200, tol=0.0)
    p.hvp_f_yy = None
    p.jvp_f_xy = None
    r_fd = slbamm(p, mu_power=0.5, step=0.1, y_step=0.5, max_iter=200, tol=0.0)
    assert_allclose(r_fd.x, r_exact.x, atol=1e-7)
    assert r_exact.n_hvp_f > 0 and r_fd.n_hvp_f == 0 and r_fd.n_grad > r_exact.n_grad


@pytest.mark.parametrize("name", ["bda", "meha", "lvhba", "slbamm"])
def test_array_api_strict(name):
    xps = pytest.importorskip("array_api_strict")
    solver, opts = SOLVERS[name]
    p = nonsingleton_toy(3)
    opts = {**opts, "max_iter": 30, "tol": 0.0}
    r_np = solver(p, **opts)
    r_st = solver(p, xps.asarray(p.x0), xps.asarray(p.y0), **opts)
    assert type(r_st.x) is type(xps.asarray(1.0))
    assert_allclose(np.asarray(r_st.x), r_np.x, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- bad input / failures


@pytest.mark.parametrize("name", list(SOLVERS))
def test_bad_input(name):
    solver, _ = SOLVERS[name]
    p = nonsingleton_toy(3)
    with pytest.raises(ValueError, match="step"):
        solver(p, step=0.0)
    with pytest.raises(ValueError, match="step"):
        solver(p, step=-1.0)
    with pytest.raises(ValueError, match="x0"):
        solver(p, np.zeros(4))
    with pytest.raises(ValueError, match="y0"):
        solver(p, None, np.zeros(3))
    with pytest.raises(ValueError, match="max_iter"):
        solver(p, max_iter=0)
    with pytest.raises(TypeError, match="problem"):
        solver(None)


def test_bad_input_specific():
    p = nonsingleton_toy(3)
    with pytest.raises(ValueError, match="alpha"):
        bda(p, alpha=1.5)
    with pytest.raises(ValueError, match="inner_steps"):
        bda(p, inner_steps=0)
    with pytest.raises(ValueError, match="mu0"):
        slbamm(p, mu0=1.0)
    with pytest.raises(ValueError, match="gamma"):
        meha(p, gamma=0.0)
    with pytest.raises(ValueError, match="c0"):
        lvhba(p, c0=-1.0)
    with pytest.raises(ValueError, match="U"):
        lvhba(p, U=0.0)
    q = lvhba_constrained_toy(3)
    q.n_constraints = 0
    with pytest.raises(ValueError, match="n_constraints"):
        lvhba(q)


@pytest.mark.parametrize("name", list(SOLVERS))
def test_nonfinite_is_reported(name):
    solver, opts = SOLVERS[name]
    p = nonsingleton_toy(3)
    good = p.grad_f_x
    calls = {"n": 0}

    def bad(x, y):
        calls["n"] += 1
        return good(x, y) * (np.nan if calls["n"] > 5 else 1.0)

    p.grad_f_x = bad
    res = solver(p, **{**opts, "max_iter": 50})
    assert not res.success and res.status == Status.NUMERICAL_ERROR
    assert "iteration" in res.message
    assert len(res.history["iter"]) == res.nit + 1
    assert np.all(np.isfinite(res.x))


def test_divergence_is_reported():
    p = nonsingleton_toy(3)
    res = meha(p, step=5.0, max_iter=2000)
    assert res.status in (Status.DIVERGED, Status.NUMERICAL_ERROR)
    assert not res.success and "iteration" in res.message


def test_callback_stops():
    p = nonsingleton_toy(3)
    res = bda(p, step=0.5, callback=lambda r: r.nit >= 3)
    assert res.status == Status.CALLBACK and res.nit == 3


def test_counts_are_the_algorithms_own():
    """Reference quantities (F, gaps) are not counted; a counted problem is not double counted."""
    from optlab.bilevel.base import OracleCounter

    p = nonsingleton_toy(3)
    r = meha(p, step=0.1, theta_step=0.2, max_iter=10, tol=0.0)
    assert r.n_grad == 6 * 10 and r.n_fval == 0  # 6 gradients per MEHA iteration
    r2 = meha(OracleCounter(p), step=0.1, theta_step=0.2, max_iter=10, tol=0.0)
    assert r2.n_grad == r.n_grad and r2.n_fval == 0
    r3 = bda(p, step=0.5, inner_steps=2, max_iter=4, tol=0.0)
    # per iteration: T (grad_g_y + grad_f_y) + grad_f_y + grad_f_x; T hvp + T jvp of g
    assert r3.n_grad == 4 * (2 * 2 + 2) and r3.n_hvp == 4 * 2 and r3.n_jvp == 4 * 2


def test_lvhba_inequality_constraint_multiplier_nonnegative():
    """Inequality path: lambda in [0, U]; active constraint with multiplier 1 (halfspace_toy)."""
    p = halfspace_toy(6)
    x0, y0 = np.linspace(-1.0, 2.0, 6), np.linspace(1.0, -2.0, 6)
    xq = cp.Variable(6)  # reference: the optimistic value over the active-constraint branch
    obj = 0.5 * cp.sum_squares(xq - 1) + 0.5 * cp.sum_squares(xq - cp.sum(xq) / 6 - 1)
    cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL)
    assert_allclose(xq.value, p.x_star, atol=1e-6)
    res = lvhba(p, x0, y0, lam0=0.0, gamma1=1.0, gamma2=1.0, c0=1.0, p=0.45, step=0.05, theta_step=0.1,
                z_step=0.1, max_iter=5000)  # fmt: skip
    assert_allclose(res.x, p.x_star, atol=1e-3)
    assert_allclose(res.y, p.y_opt, atol=1e-3)
    assert_allclose(res.lam, [1.0], atol=1e-3)  # the lower-level multiplier
    assert res.history["constraint_violation"].max() <= 1e-12
    assert np.linalg.norm(p.hypergrad(res.x)) < 1e-2


@pytest.mark.parametrize("make", [halfspace_toy, lvhba_constrained_toy])
def test_lvhba_constrained_array_api_strict(make):
    xps = pytest.importorskip("array_api_strict")
    p = make(4)
    r_np = lvhba(p, max_iter=50, tol=0.0)
    r_st = lvhba(p, xps.asarray(p.x0), xps.asarray(p.y0), max_iter=50, tol=0.0)
    assert_allclose(np.asarray(r_st.x), r_np.x, rtol=1e-12, atol=1e-12)
    assert_allclose(np.asarray(r_st.lam), r_np.lam, rtol=1e-12, atol=1e-12)
