"""Tests for optlab.convex.newton: references, rates, oracle counts, failures, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _oracles import logistic
from numpy.testing import assert_allclose, assert_array_equal

from optlab.convex import newton
from optlab.result import Status

# --------------------------------------------------------------------------------------
# problems (written against an array namespace so that they run on every backend)
# --------------------------------------------------------------------------------------


def logistic_data(n=80, d=5, seed=0):
    gen = np.random.default_rng(seed)
    A = gen.standard_normal((n, d))
    w_true = gen.standard_normal(d)
    y = np.where(A @ w_true + 0.5 * gen.standard_normal(n) > 0, 1.0, -1.0)
    return A, y


def quadratic(xp, Q, b):
    Q, b = xp.asarray(Q), xp.asarray(b)
    return (
        lambda x: float(0.5 * xp.sum(x * (Q @ x)) - xp.sum(b * x)),
        lambda x: Q @ x - b,
        lambda x: Q,
    )


def barrier_data(n=6, m=24, seed=3):
    gen = np.random.default_rng(seed)
    A = gen.standard_normal((m, n))
    b = 1.0 + gen.random(m)
    c = 3.0 * gen.standard_normal(n)
    return A, b, c


def log_barrier(xp, A, b, c):
    """f(x) = c^T x - sum_i log(b_i - a_i^T x): standard self-concordant."""
    A, b, c = xp.asarray(A), xp.asarray(b), xp.asarray(c)

    def fun(x):
        s = b - A @ x
        if not bool(xp.all(s > 0)):
            return math.inf
        return float(xp.sum(c * x) - xp.sum(xp.log(s)))

    def grad(x):
        return c + A.T @ (1.0 / (b - A @ x))

    def hess(x):
        s = b - A @ x
        return (A.T * (1.0 / s**2)) @ A

    return fun, grad, hess


def q_order(lam, *, upper=0.3, lower=1e-12):
    """Least-squares slope of log lam_{k+1} against log lam_k in the local region."""
    lam = np.asarray(lam, dtype=float)
    pairs = [(a, b) for a, b in zip(lam[:-1], lam[1:], strict=True) if a < upper and b > lower]
    assert len(pairs) >= 2, f"too few local pairs in {lam}"
    x, y = np.log([p[0] for p in pairs]), np.log([p[1] for p in pairs])
    return np.polyfit(x, y, 1)[0]


LAM = 1e-2


@pytest.fixture(scope="module")
def logreg():
    A, y = logistic_data()
    return A, y, logistic(np, A, y, LAM)


# --------------------------------------------------------------------------------------
# correctness against independent references
# --------------------------------------------------------------------------------------


def test_logistic_matches_sklearn_and_scipy(logreg):
    from scipy.optimize import minimize
    from sklearn.linear_model import LogisticRegression

    A, y, (fun, grad, hess) = logreg
    n, d = A.shape
    res = newton(fun, grad, hess, np.zeros(d), tol=1e-20)
    assert res.success, res.message
    assert np.linalg.norm(grad(res.x)) <= 1e-9  # optimality residual
    assert_allclose(res.jac, grad(res.x))

    # sklearn minimizes 1/2 ||w||^2 + C sum_i loss_i: the same problem with C = 1/(n lam)
    clf = LogisticRegression(C=1.0 / (n * LAM), fit_intercept=False, tol=1e-12, max_iter=10_000)
    clf.fit(A, y)
    assert_allclose(res.x, clf.coef_.ravel(), rtol=1e-5, atol=1e-7)

    ref = minimize(
        fun, np.zeros(d), jac=grad, hess=hess, method="trust-exact", options={"gtol": 1e-12}
    )
    assert_allclose(res.x, ref.x, rtol=1e-8, atol=1e-10)
    assert res.fun <= ref.fun + 1e-14


def test_logistic_oracle_counts_pinned(logreg):
    A, y, (fun, grad, hess) = logreg
    res = newton(fun, grad, hess, np.zeros(A.shape[1]))
    # machine-independent: every unit step is accepted on this instance
    assert (res.nit, res.nfev, res.njev, res.nhev) == (5, 6, 6, 6)
    h = res.history
    assert len(h["iter"]) == res.nit + 1
    assert_array_equal(h["iter"], np.arange(res.nit + 1))
    assert set(h) >= {"iter", "time", "fun", "grad_norm", "newton_decrement", "step", "shift"}
    assert math.isnan(h["step"][0]) and np.all(h["step"][1:] == 1.0)
    assert np.all(h["shift"] == 0.0)
    assert np.all(np.diff(h["fun"]) < 0)
    assert 0.5 * h["newton_decrement"][-1] ** 2 <= 1e-10 < 0.5 * h["newton_decrement"][-2] ** 2


def test_quadratic_one_pure_newton_step():
    gen = np.random.default_rng(1)
    M = gen.standard_normal((6, 6))
    Q = M @ M.T + 0.1 * np.eye(6)
    b = gen.standard_normal(6)
    fun, grad, hess = quadratic(np, Q, b)
    x_star = np.linalg.solve(Q, b)
    for damping in (None, "armijo"):  # Armijo accepts t = 1 on a quadratic (c1 < 1/2)
        res = newton(fun, grad, hess, 10.0 * np.ones(6), damping=damping)
        assert res.success and res.nit == 1
        assert (res.nfev, res.njev, res.nhev) == (2, 2, 2)
        assert_allclose(res.x, x_star, rtol=1e-10)
        assert np.linalg.norm(Q @ res.x - b) <= 1e-10 * np.linalg.norm(b)


def test_affine_invariance(logreg):
    """Newton's iterates commute with x = T y (Boyd & Vandenberghe Sec. 9.5.1)."""
    A, y, (fun, grad, hess) = logreg
    d = A.shape[1]
    T = np.random.default_rng(7).standard_normal((d, d)) + 3.0 * np.eye(d)
    x0 = 0.3 * np.ones(d)
    rx = newton(fun, grad, hess, x0)
    ry = newton(
        lambda v: fun(T @ v),
        lambda v: T.T @ grad(T @ v),
        lambda v: T.T @ hess(T @ v) @ T,
        np.linalg.solve(T, x0),
    )
    assert (rx.nit, rx.nfev) == (ry.nit, ry.nfev)
    assert_allclose(T @ ry.x, rx.x, rtol=1e-9, atol=1e-12)
    assert_allclose(ry.history["newton_decrement"], rx.history["newton_decrement"], rtol=1e-6)


# --------------------------------------------------------------------------------------
# rates
# --------------------------------------------------------------------------------------


def test_quadratic_order_in_local_region():
    """Q-order ~2 once in the local region (Nesterov 2004 Thm 1.2.5; B&V Sec. 9.5.3)."""
    A, y = logistic_data(n=200, d=8, seed=4)
    fun, grad, hess = logistic(np, 3.0 * A, y, 1e-3)  # far from the solution at x0 = 0
    res = newton(fun, grad, hess, np.zeros(8), tol=1e-20)
    assert res.success, res.message
    lam = res.history["newton_decrement"]
    # a slow (roughly linear) phase from lambda ~ 0.8 down to ~ 0.05, then the quadratic one
    assert lam[0] > 0.5 and lam[3] > 0.1
    p = q_order(lam, upper=0.05)
    assert 1.8 <= p <= 2.4, (p, lam)
    # errors to the solution tell the same story
    err = np.array([np.linalg.norm(xk - res.x) for xk in _iterates(fun, grad, hess, 8, res.nit)])
    p_err = q_order(err, upper=0.2, lower=1e-10)
    assert 1.7 <= p_err <= 2.5, (p_err, err)


def _iterates(fun, grad, hess, d, nit):
    """x_0 .. x_{nit-1} (the callback sees every iterate that does not meet tol)."""
    xs = []
    newton(
        fun,
        grad,
        hess,
        np.zeros(d),
        tol=1e-20,
        callback=lambda r: xs.append(np.array(r.x)) and False,
    )
    assert len(xs) == nit
    return xs


def test_self_concordant_damping_theory():
    """t = 1/(1+lambda): f decreases by >= lambda - log(1+lambda) (B&V Sec. 9.6.4) and
    lambda_{k+1} <= 2 lambda_k^2 (Nesterov 2018, Sec. 5.2.1); matches cvxpy."""
    import cvxpy as cp

    A, b, c = barrier_data()
    fun, grad, hess = log_barrier(np, A, b, c)
    res = newton(fun, grad, hess, np.zeros(A.shape[1]), damping="self_concordant", tol=1e-18)
    assert res.success, res.message
    assert res.nfev == res.nit + 1  # no line search: one value per step
    h = res.history
    lam, f = h["newton_decrement"], h["fun"]
    assert lam[0] > 1.0  # starts in the damped phase
    assert_allclose(h["step"][1:], 1.0 / (1.0 + lam[:-1]))
    omega = lam[:-1] - np.log1p(lam[:-1])
    assert np.all(f[:-1] - f[1:] >= omega - 1e-12)
    assert np.all(lam[1:] <= 2.0 * lam[:-1] ** 2 * (1 + 1e-8) + 1e-13)
    assert np.linalg.norm(grad(res.x)) <= 1e-8

    x = cp.Variable(A.shape[1])
    prob = cp.Problem(cp.Minimize(c @ x - cp.sum(cp.log(b - A @ x))))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    assert_allclose(res.x, x.value, rtol=1e-7, atol=1e-8)
    assert res.fun <= prob.value + 1e-7


# --------------------------------------------------------------------------------------
# array namespaces and dtypes
# --------------------------------------------------------------------------------------


def test_namespaces(xp, logreg):
    A, y, (fun_np, grad_np, hess_np) = logreg
    ref = newton(fun_np, grad_np, hess_np, np.zeros(A.shape[1]))
    fun, grad, hess = logistic(xp, A, y, LAM)
    x0 = xp.zeros(A.shape[1], dtype=xp.float64)
    res = newton(fun, grad, hess, x0)
    assert res.success, res.message
    assert type(res.x) is type(x0) and res.x.dtype == xp.float64
    assert (res.nit, res.nfev, res.njev, res.nhev) == (ref.nit, ref.nfev, ref.njev, ref.nhev)
    assert_allclose(np.asarray(res.x), ref.x, rtol=1e-10, atol=1e-12)
    assert isinstance(res.fun, float)


def test_namespaces_self_concordant_and_shift(xp):
    A, b, c = barrier_data()
    fun, grad, hess = log_barrier(xp, A, b, c)
    res = newton(
        fun,
        grad,
        hess,
        xp.zeros(A.shape[1], dtype=xp.float64),
        damping="self_concordant",
        tol=1e-16,
    )
    ref = newton(
        *log_barrier(np, A, b, c), np.zeros(A.shape[1]), damping="self_concordant", tol=1e-16
    )
    assert res.success and res.nit == ref.nit
    assert_allclose(np.asarray(res.x), ref.x, rtol=1e-9, atol=1e-12)
    # the indefinite-Hessian path through xp.linalg
    res = newton(*double_well(xp), xp.asarray([0.1, 1.0]), tol=1e-20)
    assert res.success and res.history["shift"][0] > 0
    assert_allclose(np.asarray(res.x), [1.0, 0.0], atol=1e-8)


def test_float32_kept(logreg):
    A, y, _ = logreg
    fun, grad, hess = logistic(np, A.astype(np.float32), y.astype(np.float32), LAM)
    res = newton(fun, grad, hess, np.zeros(A.shape[1], dtype=np.float32), tol=1e-7)
    assert res.x.dtype == np.float32
    assert res.success, res.message


# --------------------------------------------------------------------------------------
# trouble during a run
# --------------------------------------------------------------------------------------


def double_well(xp=np):
    """f(x) = x1^4/4 - x1^2/2 + x2^2/2: Hessian indefinite for |x1| < 1/sqrt(3)."""
    return (
        lambda x: float(x[0] ** 4 / 4 - x[0] ** 2 / 2 + x[1] ** 2 / 2),
        lambda x: xp.stack([x[0] ** 3 - x[0], x[1]]),
        lambda x: xp.stack(
            [xp.stack([3 * x[0] ** 2 - 1, 0 * x[0]]), xp.stack([0 * x[0], 0 * x[0] + 1])]
        ),
    )


def test_indefinite_hessian_stop():
    res = newton(*double_well(), np.array([0.1, 1.0]), on_indefinite="stop")
    assert not res.success and res.status == Status.STAGNATION
    assert "positive definite" in res.message and "iteration 0" in res.message
    assert res.nit == 0 and len(res.history["iter"]) == 1
    assert_array_equal(res.x, [0.1, 1.0])


def test_indefinite_hessian_shift():
    res = newton(*double_well(), np.array([0.1, 1.0]), tol=1e-20)
    assert res.success, res.message
    shift = res.history["shift"]
    assert shift[0] > 0 and shift[-1] == 0.0
    assert_allclose(res.x, [1.0, 0.0], atol=1e-8)  # a local minimizer: gradient 0, Hessian PD
    assert np.linalg.norm(double_well()[1](res.x)) <= 1e-9


def test_nan_gradient_reports_iteration(logreg):
    A, y, (fun, grad, hess) = logreg
    calls = {"n": 0}

    def bad_grad(w):
        calls["n"] += 1
        return grad(w) if calls["n"] < 3 else np.full_like(w, np.nan)

    res = newton(fun, bad_grad, hess, np.zeros(A.shape[1]))
    assert not res.success and res.status == Status.NUMERICAL_ERROR
    assert "iteration 2" in res.message
    assert res.nit == 2 and len(res.history["iter"]) == 3
    assert np.all(np.isfinite(res.x))


def x_minus_log():
    """f(x) = sum_i x_i - log x_i (self-concordant, x* = 1): from x = 3 the pure Newton
    step lands on -3, outside dom f; the damped step 1/(1+lambda) lands on x*."""

    def fun(x):
        return float(np.sum(x - np.log(x))) if np.all(x > 0) else math.inf

    return fun, lambda x: 1.0 - 1.0 / x, lambda x: np.diag(1.0 / x**2)


def test_pure_newton_leaving_domain():
    fun, grad, hess = x_minus_log()
    x0 = np.full(3, 3.0)
    res = newton(fun, grad, hess, x0, damping=None)
    assert res.status == Status.NUMERICAL_ERROR and not res.success
    assert "iteration 0" in res.message and "dom f" in res.message
    assert res.nit == 0 and res.fun == fun(x0) and (res.nfev, res.njev, res.nhev) == (2, 1, 1)
    assert_array_equal(res.x, x0)
    # Armijo treats non-finite trial values as failures: t = 1 (x = -3), 1/2 (x = 0), 1/4
    res = newton(fun, grad, hess, x0)
    assert res.success and res.history["step"][1] == 0.25
    assert_allclose(res.x, np.ones(3), rtol=1e-8)
    # self-concordant damping: t = 1/(1 + lambda) = 1/(1 + 2 sqrt(3)) ... stays inside
    res = newton(fun, grad, hess, x0, damping="self_concordant", tol=1e-20)
    assert res.success and np.all(res.history["step"][1:] < 1.0 + 1e-15)
    assert_allclose(res.x, np.ones(3), rtol=1e-10)


def test_line_search_failure(logreg):
    A, y, (fun, grad, hess) = logreg
    res = newton(fun, lambda w: -grad(w), hess, 0.1 * np.ones(A.shape[1]), max_backtrack=10)
    assert res.status == Status.STAGNATION
    assert "line search failed at iteration 0" in res.message
    assert (res.nit, res.nfev, res.njev, res.nhev) == (0, 12, 1, 1)


def test_max_iter_and_callback(logreg):
    A, y, (fun, grad, hess) = logreg
    d = A.shape[1]
    res = newton(fun, grad, hess, np.zeros(d), max_iter=2)
    assert res.status == Status.MAX_ITER and not res.success and res.nit == 2
    assert len(res.history["iter"]) == 3 and "2 iterations" in res.message
    seen = []
    res = newton(fun, grad, hess, np.zeros(d), callback=lambda r: seen.append(r.nit) or r.nit >= 3)
    assert res.status == Status.CALLBACK and res.nit == 3 and seen == [0, 1, 2, 3]
    res = newton(fun, grad, hess, np.zeros(d), record=False)
    assert res.success and len(res.history["iter"]) == 0


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"tol": 0.0}, ValueError, "tol"),
        ({"tol": -1.0}, ValueError, "tol"),
        ({"max_iter": -1}, ValueError, "max_iter"),
        ({"max_iter": 2.5}, TypeError, "max_iter"),
        ({"damping": "wolfe"}, ValueError, "damping"),
        ({"c1": 0.5}, ValueError, "c1"),
        ({"c1": 0.0}, ValueError, "c1"),
        ({"backtrack": 1.0}, ValueError, "backtrack"),
        ({"max_backtrack": 0}, ValueError, "max_backtrack"),
        ({"on_indefinite": "ignore"}, ValueError, "on_indefinite"),
        ({"callback": 3}, TypeError, "callback"),
    ],
)
def test_bad_options(logreg, kwargs, exc, match):
    A, y, (fun, grad, hess) = logreg
    with pytest.raises(exc, match=match):
        newton(fun, grad, hess, np.zeros(A.shape[1]), **kwargs)


def test_bad_oracles_and_x0(logreg):
    A, y, (fun, grad, hess) = logreg
    d = A.shape[1]
    with pytest.raises(TypeError, match="fun"):
        newton(None, grad, hess, np.zeros(d))
    with pytest.raises(TypeError, match="hess"):
        newton(fun, grad, "H", np.zeros(d))
    with pytest.raises(ValueError, match="x0"):
        newton(fun, grad, hess, np.zeros((d, 1)))
    with pytest.raises(ValueError, match="x0"):
        newton(fun, grad, hess, np.full(d, np.nan))
    with pytest.raises(ValueError, match="fun"):
        newton(lambda w: math.nan, grad, hess, np.zeros(d))
    with pytest.raises(ValueError, match="hess"):
        newton(fun, grad, lambda w: np.eye(d + 1), np.zeros(d))
    with pytest.raises(ValueError, match="grad"):
        newton(fun, lambda w: np.zeros(d + 1), hess, np.zeros(d))
