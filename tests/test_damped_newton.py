"""Tests for optlab.newton.damped_newton: references, global and local rates, counts,
affine invariance, backends, failures and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize as so
from _oracles import logistic
from numpy.testing import assert_allclose, assert_array_equal

from optlab._backend import to_numpy
from optlab.newton import damped_newton
from optlab.newton._damped import damped_newton_bound
from optlab.rates import convergence_order, sublinear_order
from optlab.result import Status

STEPSIZES = [("rn", 1.0), ("grls", None), ("un", None)]

# --------------------------------------------------------------------------------------
# problems, written against an array namespace
# --------------------------------------------------------------------------------------


def logistic_data(n=60, d=4, seed=0):
    gen = np.random.default_rng(seed)
    A = gen.standard_normal((n, d))
    w = gen.standard_normal(d)
    y = np.where(A @ w + 0.5 * gen.standard_normal(n) > 0, 1.0, -1.0)
    return A, y


def quartic():
    """sum_i x_i^4/4 + x_i^2/2: Hessian >= I, third derivative 6-Lipschitz in the local
    norm, so q = 4 and M = 6 are valid constants; x* = 0, f* = 0."""
    return (
        lambda x: float(np.sum(x**4 / 4 + x**2 / 2)),
        lambda x: x**3 + x,
        lambda x: np.diag(3 * x**2 + 1),
    )


def atan_huber(mu):
    r"""f(x) = x atan(x) - log(1 + x^2)/2 + mu x^2/2 (1-D, x* = 0, f* = 0).

    f'' = 1/(1 + x^2) + mu >= mu and |f''''_Phi| <= 2, so the third derivative is
    M-Lipschitz in the local norm with M = 2/mu^2 (q = 4). For 3 <= |x| << mu^-1/2 the
    function grows linearly and f - f* is proportional to the local dual gradient norm,
    the regime where the RN step's O(k^-3) bound is attained.
    """
    return (
        lambda x: float(np.sum(x * np.arctan(x) - 0.5 * np.log1p(x**2) + 0.5 * mu * x**2)),
        lambda x: np.arctan(x) + mu * x,
        lambda x: np.reshape(1.0 / (1.0 + x**2) + mu, (1, 1)),
    )


@pytest.fixture(scope="module")
def breast_cancer():
    from problems import logistic_breast_cancer

    p = logistic_breast_cancer(lam=1e-3, use_cache=False)
    x0 = np.zeros(p.params["d"])
    ref = so.minimize(
        p.value, x0, jac=p.grad, hess=p.hess, method="trust-exact", options={"gtol": 1e-12}
    )
    return p, x0, ref


# --------------------------------------------------------------------------------------
# correctness against references
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stepsize", "M"), STEPSIZES)
def test_logistic_breast_cancer_matches_scipy_trust_exact(breast_cancer, stepsize, M):
    p, x0, ref = breast_cancer
    res = damped_newton(p.value, p.grad, p.hess, x0, stepsize=stepsize, M=M, tol=1e-11)
    assert res.success, res.message
    assert np.linalg.norm(p.grad(res.x)) <= 1e-11  # optimality residual
    assert_allclose(res.x, ref.x, rtol=0, atol=1e-8)  # scipy trust-exact
    assert_allclose(res.x, p.x_star, rtol=0, atol=1e-9)  # Newton-polished reference
    assert_allclose(res.fun, p.f_star, rtol=1e-13)
    assert_allclose(res.jac, p.grad(res.x))
    h = res.history
    assert len(h["iter"]) == res.nit + 1
    assert np.all(np.diff(h["fun"]) <= 1e-15)  # monotone on a convex problem
    a = h["alpha"][:-1]
    assert np.all((a > 0) & (a <= 1))


@pytest.mark.parametrize(("stepsize", "M"), STEPSIZES)
def test_backends_agree(xp, stepsize, M):
    A, y = logistic_data()
    lam = 1e-2
    fun, grad, hess = logistic(xp, A, y, lam)
    x0 = xp.asarray(np.full(A.shape[1], 3.0))
    res = damped_newton(fun, grad, hess, x0, stepsize=stepsize, M=M, tol=1e-12)
    assert res.success, res.message
    assert type(res.x) is type(x0) and res.x.dtype == x0.dtype

    fn, gn, hn = logistic(np, A, y, lam)
    ref = so.minimize(fn, np.zeros(A.shape[1]), jac=gn, hess=hn, method="trust-exact",
                      options={"gtol": 1e-10})  # fmt: skip
    x = to_numpy(res.x)
    assert np.linalg.norm(gn(x)) <= 1e-12
    # scipy stalls near ||grad|| ~ 1e-9 here; strong convexity (mu = lam) bounds its error
    assert_allclose(x, ref.x, rtol=0, atol=np.linalg.norm(gn(ref.x)) / lam + 1e-12)

    base = damped_newton(fn, gn, hn, np.full(A.shape[1], 3.0), stepsize=stepsize, M=M, tol=1e-12)
    assert (res.nit, res.nfev, res.njev, res.nhev) == (base.nit, base.nfev, base.njev, base.nhev)
    assert_allclose(x, base.x, rtol=0, atol=1e-13)
    assert_allclose(res.history["alpha"], base.history["alpha"], rtol=1e-10)


def test_grls_solves_a_quadratic_in_one_step_and_rn_damps_it():
    gen = np.random.default_rng(1)
    B = gen.standard_normal((5, 5))
    Q = B @ B.T + np.eye(5)
    b = gen.standard_normal(5)
    f, g, h = (lambda x: float(0.5 * x @ Q @ x - b @ x)), (lambda x: Q @ x - b), (lambda x: Q)
    xs = np.linalg.solve(Q, b)
    res = damped_newton(f, g, h, np.zeros(5), stepsize="grls", tol=1e-10)
    assert res.success and res.nit == 1 and res.history["alpha"][0] == 1.0
    assert_allclose(res.x, xs, rtol=1e-12)
    # RN does not know that M_q = 0 here: it damps the first steps, alpha < 1
    rn = damped_newton(f, g, h, np.zeros(5), M=1.0, tol=1e-10)
    assert rn.success and rn.nit > 1 and rn.history["alpha"][0] < 1
    assert_allclose(rn.x, xs, rtol=1e-9)


# --------------------------------------------------------------------------------------
# rates
# --------------------------------------------------------------------------------------


def test_rn_global_phase_k3_on_atan_huber():
    """Global phase of RN with the certified constant M = 2/mu^2 (q = 4).

    Measured here: 21928 iterations; over the linear regime (f - f* >= 2.6, i.e.
    |x_k| >= 3, k <= 10157) the fitted log-log slope of f(x_k) - f* is -3.34 (last 3/4 of
    the regime, r2 0.997) and -3.64 (second half, r2 0.999): the O(k^-3) of Theorem 4.
    """
    mu = 1e-5
    f, g, h = atan_huber(mu)
    res = damped_newton(f, g, h, np.array([1e3]), M=2.0 / mu**2, tol=1e-10, max_iter=30000)
    assert res.success, res.message
    assert abs(res.x[0]) <= 1e-9  # x* = 0
    hist = res.history
    gap, k = hist["fun"], hist["iter"]  # f* = 0
    assert np.all(np.diff(gap) <= 0)  # monotone decrease
    a = hist["alpha"][:-1]
    assert np.all((a > 0) & (a <= 1)) and np.all(np.diff(a) >= 0) and a[-1] > 0.98
    stop = int(np.argmax(gap < 2.6))  # end of the linear regime |x| >= 3
    fit = sublinear_order(gap, k, floor=2.6, skip=stop // 4)
    assert fit.window == (stop // 4, stop)
    assert fit.r2 > 0.99
    assert -4.0 < -fit.value < -3.0  # measured -3.34
    half = sublinear_order(gap, k, floor=2.6, skip=stop // 2)
    assert -4.0 < -half.value < -3.0 and half.r2 > 0.99  # measured -3.64


def test_rn_local_phase_superlinear(breast_cancer):
    """alpha_k -> 1 and 1 - alpha_k ~ theta_k ~ (g_k*)^{2/3}: Q-order 5/3 for q = 4
    (measured 1.69 on the gradient norm)."""
    p, x0, _ = breast_cancer
    res = damped_newton(p.value, p.grad, p.hess, x0, M=1.0, tol=1e-11)
    h = res.history
    assert h["alpha"][-2] > 0.999 and np.all(np.diff(h["alpha"][:-1]) > 0)
    fit = convergence_order(h["grad_norm"], tail=5)
    assert fit.extra["superlinear"]
    assert 1.4 < fit.value < 2.0
    # theta_k follows the RN formula from the recorded local norms
    theta = (9.0 * 1.0) ** (1 / 3) * h["local_norm"][:-1] ** (2 / 3)
    assert_allclose(h["theta"][:-1], theta, rtol=1e-12)
    assert_allclose(h["alpha"][:-1], 1 / (1 + theta), rtol=1e-12)


def test_rn_q2_is_a_constant_step():
    f, g, h = quartic()
    res = damped_newton(f, g, h, np.array([2.0, -1.0]), M=0.05, q=2.0, tol=1e-10)
    assert res.success
    assert_allclose(res.history["alpha"][:-1], 1 / (1 + 9 * 0.05), rtol=1e-14)
    # a constant step < 1 converges linearly: Q-order 1 with ratio 1 - alpha
    assert_allclose(convergence_order(res.history["grad_norm"], tail=6).value, 1.0, atol=0.05)


def test_un_trial_count_identity():
    """With the warm start theta_k^(0) = theta_{k-1}/rho, the trials of K iterations
    number exactly 2K - 1 + log_rho(theta_{K-1} / theta0) (<= 2K + log_rho(.))."""
    p_fun, p_grad, p_hess = logistic(np, *logistic_data(), 1e-2)
    for rho, theta0 in [(2.0, 1e-2), (3.0, 1e-4)]:
        res = damped_newton(p_fun, p_grad, p_hess, np.full(4, 5.0), stepsize="un", rho=rho,
                            theta0=theta0, tol=1e-10)  # fmt: skip
        h = res.history
        K = res.nit
        trials = h["n_trials"][:-1]
        assert trials.sum() == res.njev - 1
        assert_allclose(trials.sum(), 2 * K - 1 + math.log(h["theta"][K - 1] / theta0, rho))


# --------------------------------------------------------------------------------------
# counts, invariance, options
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stepsize", "M", "counts"),
    [
        ("rn", 6.0, (40, 41, 41, 40, 40)),
        ("grls", None, (7, 15, 15, 7, 7)),
        ("un", None, (12, 13, 22, 12, 12)),
    ],
)
def test_counts_pinned(stepsize, M, counts):
    f, g, h = quartic()
    res = damped_newton(f, g, h, np.array([3.0, -2.0]), stepsize=stepsize, M=M, tol=1e-12)
    assert res.success
    got = (res.nit, res.nfev, res.njev, res.nhev, res.n_factorizations)
    assert got == counts
    assert_allclose(res.x, 0.0, atol=1e-12)


@pytest.mark.parametrize(("stepsize", "M"), STEPSIZES)
def test_affine_invariance(stepsize, M):
    """Newton steps with local-norm step sizes are affine invariant: minimizing
    f(Bz) from z0 = B^-1 x0 gives z_k = B^-1 x_k and the same f, g*, alpha histories."""
    fun, grad, hess = logistic(np, *logistic_data(), 1e-2)
    B = np.array([[2.0, 1.0, 0.0, 0.0], [0.0, 0.5, 0.0, 3.0], [1.0, 0.0, 4.0, 0.0],
                  [0.0, 0.0, 1.0, 1.0]])  # fmt: skip
    x0 = np.array([1.0, -2.0, 3.0, 0.5])
    a = damped_newton(fun, grad, hess, x0, stepsize=stepsize, M=M, tol=1e-9)
    b = damped_newton(lambda z: fun(B @ z), lambda z: B.T @ grad(B @ z),
                      lambda z: B.T @ hess(B @ z) @ B, np.linalg.solve(B, x0),
                      stepsize=stepsize, M=M, tol=1e-9)  # fmt: skip
    assert a.success and b.success
    n = min(a.nit, b.nit) - 1  # the gradient-norm stopping test is not invariant
    for key in ("fun", "local_norm", "alpha"):
        assert_allclose(b.history[key][:n], a.history[key][:n], rtol=1e-8, atol=1e-14)
    assert_allclose(B @ b.x, a.x, atol=1e-8)


def test_callback_max_iter_record():
    f, g, h = quartic()
    seen = []
    res = damped_newton(
        f, g, h, np.array([3.0]), M=6.0, callback=lambda r: seen.append(r.nit) or r.nit == 2
    )
    assert res.status == Status.CALLBACK and not res.success and res.nit == 2 and seen == [0, 1, 2]
    res = damped_newton(f, g, h, np.array([3.0]), M=6.0, max_iter=3)
    assert res.status == Status.MAX_ITER and res.nit == 3 and "3 iterations" in res.message
    assert len(res.history["iter"]) == 4 and math.isnan(res.history["alpha"][-1])
    res = damped_newton(f, g, h, np.array([3.0]), M=6.0, record=False, tol=1e-10)
    assert res.success and len(res.history["iter"]) == 0
    res = damped_newton(f, g, h, np.array([0.0]), M=6.0)  # already optimal
    assert res.success and res.nit == 0 and (res.nfev, res.njev, res.nhev) == (1, 1, 0)


def test_bound_is_order_k_minus_q_minus_one():
    b = damped_newton_bound(np.array([10, 20, 40]), M=2.0, q=4.0, D=3.0, g0=0.0, gamma=0.5)
    assert_allclose(b[:-1] / b[1:], 8.0)
    assert_allclose(b[0], 9 * 2.0 * 3.0 * (4 * 3.0 * 3 / (0.5 * 10)) ** 3)
    b3 = damped_newton_bound(10, M=1.0, q=3.0, D=1.0, g0=2.0, gamma=1.0)
    assert_allclose(b3, 9 * (8 / 10) ** 2 + 2.0 * math.exp(-2.5))
    with pytest.raises(ValueError, match="q"):
        damped_newton_bound(1, M=1.0, q=5.0, D=1.0, g0=0.0, gamma=1.0)
    with pytest.raises(ValueError, match="k"):
        damped_newton_bound(0, M=1.0, q=4.0, D=1.0, g0=0.0, gamma=1.0)


# --------------------------------------------------------------------------------------
# failures during a run
# --------------------------------------------------------------------------------------


def test_nan_gradient_during_run():
    f, g, h = quartic()
    calls = {"n": 0}

    def bad_grad(x):
        calls["n"] += 1
        return g(x) * np.nan if calls["n"] == 4 else g(x)

    res = damped_newton(f, bad_grad, h, np.array([3.0, -2.0]), M=6.0)
    assert res.status == Status.NUMERICAL_ERROR and not res.success
    assert "iteration 3" in res.message and "x_2" in res.message
    assert res.nit == 2 and len(res.history["iter"]) == 3
    assert np.all(np.isfinite(res.x)) and math.isfinite(res.fun)


@pytest.mark.parametrize("stepsize", ["rn", "un"])
def test_nan_fun_during_run(stepsize):
    f, g, h = quartic()
    calls = {"n": 0}

    def bad_fun(x):
        calls["n"] += 1
        return math.nan if calls["n"] == 3 else f(x)

    res = damped_newton(bad_fun, g, h, np.array([3.0, -2.0]), stepsize=stepsize,
                        M=6.0 if stepsize == "rn" else None)  # fmt: skip
    assert res.status == Status.NUMERICAL_ERROR
    assert "non-finite fun" in res.message and "iteration 2" in res.message
    assert res.nit == 1 and np.all(np.isfinite(res.x))


def test_nan_gradient_at_x0_and_nan_hessian():
    f, g, h = quartic()
    res = damped_newton(f, lambda x: x * np.nan, h, np.array([1.0]), M=1.0)
    assert res.status == Status.NUMERICAL_ERROR and "iteration 0" in res.message
    res = damped_newton(f, g, lambda x: h(x) * np.nan, np.array([1.0]), M=1.0)
    assert res.status == Status.NUMERICAL_ERROR and "hessian at iteration 0" in res.message


@pytest.mark.parametrize(("stepsize", "M"), STEPSIZES)
def test_nonconvex_hessian_stops(stepsize, M):
    # f = x^4/4 - x^2/2 has f''(0.1) = -0.97 < 0
    res = damped_newton(lambda x: float(np.sum(x**4 / 4 - x**2 / 2)), lambda x: x**3 - x,
                        lambda x: np.diag(3 * x**2 - 1), np.array([0.1]), stepsize=stepsize,
                        M=M)  # fmt: skip
    assert res.status == Status.STAGNATION and not res.success
    assert "not positive definite at iteration 0" in res.message
    assert res.n_factorizations == 1 and res.nit == 0


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------


def _args():
    f, g, h = quartic()
    return f, g, h, np.array([1.0, 2.0])


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"stepsize": "rn"}, ValueError, "M .*required.*grls"),
        ({"M": 0.0}, ValueError, "M must be positive"),
        ({"M": -1.0}, ValueError, "M must be positive"),
        ({"M": math.nan}, ValueError, "M must not be NaN"),
        ({"M": "1"}, TypeError, "M must be a real number"),
        ({"stepsize": "grls", "M": 1.0}, ValueError, "M is used only by stepsize='rn'"),
        ({"M": 1.0, "q": 1.5}, ValueError, r"q must be in \[2, 4\]"),
        ({"M": 1.0, "q": 4.5}, ValueError, r"q must be in \[2, 4\]"),
        ({"stepsize": "armijo"}, ValueError, "stepsize must be one of"),
        ({"M": 1.0, "tol": 0.0}, ValueError, "tol must be positive"),
        ({"M": 1.0, "max_iter": -1}, ValueError, "max_iter must be >= 0"),
        ({"M": 1.0, "max_iter": 2.5}, TypeError, "max_iter must be an integer"),
        ({"stepsize": "un", "rho": 1.0}, ValueError, "rho must be > 1"),
        ({"stepsize": "un", "theta0": 0.0}, ValueError, "theta0 must be positive"),
        ({"stepsize": "grls", "max_backtrack": 0}, ValueError, "max_backtrack must be >= 1"),
        ({"M": 1.0, "callback": 3}, TypeError, "callback must be callable"),
    ],
)
def test_bad_options(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        damped_newton(*_args(), **kwargs)


def test_bad_oracles_and_x0():
    f, g, h, x0 = _args()
    with pytest.raises(TypeError, match="fun must be callable"):
        damped_newton(None, g, h, x0, M=1.0)
    with pytest.raises(TypeError, match="grad must be callable"):
        damped_newton(f, 1.0, h, x0, M=1.0)
    with pytest.raises(TypeError, match="hess must be callable"):
        damped_newton(f, g, "H", x0, M=1.0)
    with pytest.raises(ValueError, match="x0 contains NaN"):
        damped_newton(f, g, h, np.array([1.0, np.nan]), M=1.0)
    with pytest.raises(ValueError, match="x0 must be 1-D"):
        damped_newton(f, g, h, np.ones((2, 2)), M=1.0)
    with pytest.raises(TypeError, match="x0 must be a real"):
        damped_newton(f, g, h, np.ones(2, dtype=complex), M=1.0)
    with pytest.raises(ValueError, match=r"fun\(x0\) is not finite"):
        damped_newton(lambda x: math.inf, g, h, x0, M=1.0)
    with pytest.raises(ValueError, match=r"grad must return an array of shape \(2,\)"):
        damped_newton(f, lambda x: np.ones(3), h, x0, M=1.0)
    with pytest.raises(ValueError, match=r"hess must return a square array of shape \(2, 2\)"):
        damped_newton(f, g, lambda x: np.eye(3), x0, M=1.0)
    with pytest.raises(ValueError, match="hess must return a symmetric matrix"):
        damped_newton(f, g, lambda x: h(x) + np.array([[0.0, 1e-3], [0.0, 0.0]]), x0, M=1.0)
    # a symmetric Hessian up to rounding is accepted
    res = damped_newton(f, g, lambda x: h(x) + np.array([[0.0, 1e-14], [0.0, 0.0]]), x0, M=1.0)
    assert res.success
    assert_array_equal(res.history["iter"], np.arange(res.nit + 1))
