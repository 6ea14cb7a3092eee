"""Tests for optlab.convex.gradient_descent."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
from numpy.testing import assert_allclose, assert_array_equal

from optlab._backend import to_numpy
from optlab.convex import gradient_descent
from optlab.result import Status


def least_squares(xp, m=30, n=6, seed=0, ridge=0.0):
    """f(x) = 0.5 ||Ax - b||^2 + 0.5 ridge ||x||^2 in namespace xp, with L, mu, x*."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    b = rng.standard_normal(m)
    H = A.T @ A + ridge * np.eye(n)
    eig = np.linalg.eigvalsh(H)
    x_star = np.linalg.solve(H, A.T @ b)
    Ax, bx = xp.asarray(A), xp.asarray(b)

    def fun(x):
        r = Ax @ x - bx
        return 0.5 * xp.sum(r * r) + 0.5 * ridge * xp.sum(x * x)

    def grad(x):
        return Ax.T @ (Ax @ x - bx) + ridge * x

    f_star = 0.5 * np.sum((A @ x_star - b) ** 2) + 0.5 * ridge * x_star @ x_star
    return dict(fun=fun, grad=grad, A=A, b=b, L=eig[-1], mu=eig[0], x_star=x_star, f_star=f_star)


def logistic(seed=0, m=60, n=5, reg=0.1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    y = np.sign(X @ rng.standard_normal(n) + 0.5 * rng.standard_normal(m))

    def fun(w):
        return np.mean(np.logaddexp(0.0, -y * (X @ w))) + 0.5 * reg * w @ w

    def grad(w):
        s = -y * scipy.special.expit(-y * (X @ w))
        return X.T @ s / m + reg * w

    L = np.linalg.norm(X, 2) ** 2 / (4 * m) + reg
    return fun, grad, L


def test_least_squares_matches_lstsq(xp):
    p = least_squares(xp)
    x0 = xp.zeros(6)
    res = gradient_descent(p["fun"], p["grad"], x0, L=p["L"], tol=1e-9, max_iter=5000)
    assert res.success and res.status == Status.CONVERGED
    assert type(res.x) is type(x0) and res.x.dtype == x0.dtype
    x = to_numpy(res.x)
    ref = np.linalg.lstsq(p["A"], p["b"], rcond=None)[0]
    assert_allclose(x, ref, rtol=1e-8, atol=1e-9)
    # optimality residual, computed independently
    assert np.linalg.norm(p["A"].T @ (p["A"] @ x - p["b"])) <= 1e-9
    h = res.history
    assert len(h["iter"]) == res.nit + 1
    assert_array_equal(h["iter"], np.arange(res.nit + 1))
    assert h["grad_norm"][-1] <= 1e-9 < h["grad_norm"][-2]
    assert math.isnan(h["step"][0]) and np.all(h["step"][1:] == 1.0 / p["L"])
    assert np.all(np.diff(h["fun"]) <= 1e-12)  # descent with step 1/L
    assert res.nfev == res.njev == res.nit + 1
    assert_allclose(res.fun, p["f_star"], rtol=1e-12)


def test_ridge_line_search_matches_solve(xp):
    p = least_squares(xp, ridge=0.5, seed=1)
    res = gradient_descent(p["fun"], p["grad"], xp.ones(6), line_search=True, tol=1e-9)
    assert res.success
    assert_allclose(to_numpy(res.x), p["x_star"], rtol=1e-8, atol=1e-10)
    h = res.history
    assert np.all(np.diff(h["fun"]) <= 1e-10 * abs(h["fun"][-1]))  # monotone up to rounding
    assert np.all(h["step"][1:] > 0)
    assert res.nfev >= res.nit + 1 and res.njev >= res.nit + 1


def test_logistic_regression_matches_scipy():
    fun, grad, L = logistic()
    res = gradient_descent(fun, grad, np.zeros(5), L=L, tol=1e-10, max_iter=20000)
    ref = scipy.optimize.minimize(
        fun, np.zeros(5), jac=grad, method="BFGS", options={"gtol": 1e-12}
    )
    assert res.success
    assert_allclose(res.x, ref.x, rtol=1e-7, atol=1e-8)
    assert np.linalg.norm(grad(res.x)) <= 1e-10
    res_ls = gradient_descent(fun, grad, np.zeros(5), line_search=True, tol=1e-10)
    assert res_ls.success
    assert_allclose(res_ls.x, ref.x, rtol=1e-7, atol=1e-8)


def test_pinned_iteration_count_closed_form():
    # f = 0.5 (x1^2 + 0.1 x2^2), step 1/L = 1 from (1, 1): x_k = (0, 0.9^k) for k >= 1,
    # ||grad f(x_k)|| = 0.1 * 0.9^k, so nit = ceil(log(tol / 0.1) / log(0.9)) = 110.
    d = np.array([1.0, 0.1])
    res = gradient_descent(
        lambda x: 0.5 * d @ (x * x), lambda x: d * x, np.ones(2), L=1.0, tol=1e-6
    )
    assert res.nit == math.ceil(math.log(1e-5) / math.log(0.9)) == 110
    assert_allclose(res.history["grad_norm"][1:], 0.1 * 0.9 ** np.arange(1, 111), rtol=1e-12)


def test_smooth_convex_rate_bounds():
    # Garrigos & Gower Thm 3.4 and Bubeck Thm 3.3 (step 1/L), on a rank-deficient problem
    p = least_squares(np, m=8, n=12, seed=2)
    x0 = np.ones(12)
    res = gradient_descent(p["fun"], p["grad"], x0, L=p["L"], tol=1e-14, max_iter=200)
    A, b = p["A"], p["b"]
    x_star = np.linalg.lstsq(A, b, rcond=None)[0] + (np.eye(12) - np.linalg.pinv(A) @ A) @ x0
    f_star = 0.5 * np.sum((A @ x_star - b) ** 2)
    R2 = np.sum((x0 - x_star) ** 2)
    k = np.arange(1, res.nit + 1)
    gap = res.history["fun"][1:] - f_star
    assert np.all(gap <= p["L"] * R2 / (2 * k) + 1e-10)
    assert np.all(gap <= 2 * p["L"] * R2 / (k + 4) + 1e-10)


def test_strongly_convex_contraction_step_2_over_L_plus_mu():
    # Bubeck Thm 3.12 (proof): ||x_k - x*|| <= ((kappa-1)/(kappa+1))^k ||x_0 - x*||
    p = least_squares(np, ridge=0.1, seed=3)
    xs = []
    step = 2.0 / (p["L"] + p["mu"])
    gradient_descent(
        p["fun"], p["grad"], np.zeros(6), step=step, tol=1e-12, max_iter=60,
        callback=lambda r: xs.append(r.x.copy()),
    )  # fmt: skip
    kappa = p["L"] / p["mu"]
    q = (kappa - 1) / (kappa + 1)
    d0 = np.linalg.norm(p["x_star"])
    for k, x in enumerate(xs):
        assert np.linalg.norm(x - p["x_star"]) <= q**k * d0 * (1 + 1e-9) + 1e-13


def test_metamorphic_scaling_gives_identical_iterates(xp):
    p = least_squares(xp, seed=4)
    c = 4.0  # a power of two: the iterates are bit-identical
    r1 = gradient_descent(p["fun"], p["grad"], xp.zeros(6), L=p["L"], tol=1e-8)
    r2 = gradient_descent(
        lambda x: c * p["fun"](x),
        lambda x: c * p["grad"](x),
        xp.zeros(6),
        L=c * p["L"],
        tol=c * 1e-8,
    )
    assert r1.nit == r2.nit
    assert_array_equal(to_numpy(r1.x), to_numpy(r2.x))
    assert_array_equal(c * r1.history["fun"], r2.history["fun"])


def test_metamorphic_permutation():
    p = least_squares(np, seed=5)
    perm = np.random.default_rng(0).permutation(6)
    Ap = p["A"][:, perm]
    r1 = gradient_descent(p["fun"], p["grad"], np.zeros(6), L=p["L"], tol=1e-10)
    r2 = gradient_descent(
        lambda z: 0.5 * np.sum((Ap @ z - p["b"]) ** 2),
        lambda z: Ap.T @ (Ap @ z - p["b"]),
        np.zeros(6), L=p["L"], tol=1e-10,
    )  # fmt: skip
    assert_allclose(r2.x, r1.x[perm], rtol=1e-9, atol=1e-11)
    assert abs(r1.nit - r2.nit) <= 1


def test_float32_input_keeps_dtype():
    p = least_squares(np, seed=6)
    A32, b32 = p["A"].astype(np.float32), p["b"].astype(np.float32)
    res = gradient_descent(
        lambda x: 0.5 * np.sum((A32 @ x - b32) ** 2), lambda x: A32.T @ (A32 @ x - b32),
        np.zeros(6, dtype=np.float32), L=p["L"], tol=1e-3, max_iter=5000,
    )  # fmt: skip
    assert res.x.dtype == np.float32
    assert_allclose(res.x, p["x_star"], rtol=1e-3, atol=1e-4)


def test_integer_x0_and_2d_variable():
    # integer x0 becomes float64; a matrix variable uses the Frobenius norm
    C = np.arange(6.0).reshape(2, 3)
    res = gradient_descent(lambda X: 0.5 * np.sum((X - C) ** 2), lambda X: X - C,
                           np.zeros((2, 3), dtype=int), L=1.0)  # fmt: skip
    assert res.x.dtype == np.float64 and res.x.shape == (2, 3)
    assert_array_equal(res.x, C)
    assert res.nit == 1


def test_callback_stop_and_record_off():
    p = least_squares(np, seed=7)
    res = gradient_descent(
        p["fun"], p["grad"], np.zeros(6), L=p["L"], callback=lambda r: r.nit == 3
    )
    assert res.status == Status.CALLBACK and res.nit == 3 and not res.success
    assert len(res.history["fun"]) == 4
    res = gradient_descent(p["fun"], p["grad"], np.zeros(6), L=p["L"], record=False, tol=1e-9)
    assert res.success and len(res.history["iter"]) == 0
    res = gradient_descent(p["fun"], p["grad"], np.zeros(6), L=p["L"], max_iter=5)
    assert res.status == Status.MAX_ITER and res.nit == 5 and "5 iterations" in res.message


def test_converged_at_x0():
    res = gradient_descent(lambda x: 0.5 * x @ x, lambda x: x, np.zeros(3), L=1.0)
    assert res.success and res.nit == 0 and res.nfev == res.njev == 1


def test_divergence_is_reported():
    p = least_squares(np, seed=8)
    res = gradient_descent(p["fun"], p["grad"], np.ones(6), step=3.0 / p["L"], max_iter=1000)
    assert not res.success and res.status == Status.DIVERGED
    assert f"iteration {res.nit + 1}" in res.message
    assert len(res.history["fun"]) == res.nit + 1 and np.all(np.isfinite(res.history["fun"]))
    assert res.nit > 5


def test_nan_oracle_is_reported_with_iteration():
    calls = {"n": 0}

    def grad(x):
        calls["n"] += 1
        return x * np.nan if calls["n"] == 5 else x - 1.0

    res = gradient_descent(lambda x: 0.5 * np.sum((x - 1.0) ** 2), grad, np.zeros(3), step=0.1)
    assert res.status == Status.NUMERICAL_ERROR and not res.success
    assert "non-finite grad at iteration 4" in res.message
    assert res.nit == 3 and len(res.history["fun"]) == 4
    assert np.all(np.isfinite(res.x))


def test_nan_fun_is_backtracked_by_line_search():
    # f is NaN outside |x| < 2: Armijo treats NaN trials as failures and backtracks
    def fun(x):
        return 0.5 * float(x @ x) if np.max(np.abs(x)) < 2 else float("nan")

    res = gradient_descent(fun, lambda x: x, np.array([1.5]), line_search=True, step=100.0)
    assert res.success and abs(res.x[0]) <= 1e-8


def test_line_search_failure_is_stagnation():
    # a wrong-sign gradient: no step decreases f
    res = gradient_descent(lambda x: 0.5 * x @ x, lambda x: -x, np.ones(2), line_search=True,
                           max_backtrack=5)  # fmt: skip
    assert res.status == Status.STAGNATION
    assert "line search failed at iteration 1" in res.message
    assert res.nit == 0 and res.nfev == 1 + 6


def _quad():
    return (lambda x: 0.5 * float(x @ x)), (lambda x: x)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(), ValueError, "line_search"),
        (dict(L=1.0, step=1.0), ValueError, "at most one"),
        (dict(L=1.0, step=1.0, line_search=True), ValueError, "at most one"),
        (dict(L=0.0), ValueError, "L"),
        (dict(L=-1.0), ValueError, "L"),
        (dict(L=float("inf")), ValueError, "L"),
        (dict(L=float("nan")), ValueError, "L"),
        (dict(L="1"), TypeError, "L"),
        (dict(step=0.0), ValueError, "step"),
        (dict(step=-0.5), ValueError, "step"),
        (dict(L=1.0, tol=0.0), ValueError, "tol"),
        (dict(L=1.0, tol=-1e-8), ValueError, "tol"),
        (dict(L=1.0, max_iter=0), ValueError, "max_iter"),
        (dict(L=1.0, max_iter=2.5), TypeError, "max_iter"),
        (dict(L=1.0, max_iter=True), TypeError, "max_iter"),
        (dict(line_search="yes"), TypeError, "line_search"),
        (dict(line_search=True, armijo=1.5), ValueError, "armijo"),
        (dict(line_search=True, armijo=0.0), ValueError, "armijo"),
        (dict(line_search=True, backtrack=1.0), ValueError, "backtrack"),
        (dict(line_search=True, max_backtrack=0), ValueError, "max_backtrack"),
    ],
)
def test_bad_options(kwargs, exc, match):
    f, g = _quad()
    with pytest.raises(exc, match=match):
        gradient_descent(f, g, np.ones(2), **kwargs)


@pytest.mark.parametrize(
    "fun, grad, x0, exc, match",
    [
        (None, lambda x: x, np.ones(2), TypeError, "fun"),
        (lambda x: 0.0, "grad", np.ones(2), TypeError, "grad"),
        (lambda x: 0.5 * x @ x, lambda x: x, np.array([1.0, np.nan]), ValueError, "x0"),
        (lambda x: 0.5 * x @ x, lambda x: x, np.array([np.inf, 1.0]), ValueError, "x0"),
        (lambda x: 0.5 * x @ x, lambda x: x, np.array(1.0), ValueError, "x0"),
        (lambda x: 0.5 * x @ x, lambda x: x, np.zeros(0), ValueError, "x0"),
        (lambda x: 0.5 * x @ x, lambda x: x, "abc", TypeError, "x0"),
        (lambda x: float("nan"), lambda x: x, np.ones(2), ValueError, "x0"),
        (lambda x: 0.5 * x @ x, lambda x: x * np.inf, np.ones(2), ValueError, "x0"),
        (lambda x: 0.5 * x @ x, lambda x: x[:1], np.ones(2), ValueError, "shape"),
        (lambda x: x, lambda x: x, np.ones(2), TypeError, "scalar"),
        (lambda x: 0.5 * x @ x, lambda x: list(x), np.ones(2), ValueError, "shape"),
    ],
)
def test_bad_oracles_and_x0(fun, grad, x0, exc, match):
    with pytest.raises(exc, match=match):
        gradient_descent(fun, grad, x0, L=1.0)


def test_grad_in_wrong_namespace_is_rejected():
    import array_api_strict as xs

    with pytest.raises(TypeError, match="namespace"):
        gradient_descent(lambda x: 0.0, lambda x: np.ones(2), xs.ones(2), L=1.0)
