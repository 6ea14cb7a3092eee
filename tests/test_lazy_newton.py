"""Tests for optlab.newton.lazy_cubic_newton / lazy_regularized_newton and their shared core.

References: scipy trust-exact and scikit-learn on logistic regression, direct dense
implementations of the classical (m = 1) and lazy iterations, a brute-force solution of
the cubic subproblem, known minimizers of non-convex test functions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _oracles import logistic
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import brentq, minimize

from optlab.newton import lazy_cubic_newton, lazy_regularized_newton
from optlab.newton._lazy_common import cubic_step_eig, solve_cubic_subproblem
from optlab.result import Status

SOLVERS = [lazy_cubic_newton, lazy_regularized_newton]

# --------------------------------------------------------------------------------------
# problems (written against an array namespace so that they run on every backend)
# --------------------------------------------------------------------------------------


def logistic_data(n=120, d=6, seed=0):
    gen = np.random.default_rng(seed)
    A = gen.standard_normal((n, d)) * np.linspace(0.3, 2.0, d)
    w_true = gen.standard_normal(d)
    y = np.where(A @ w_true + 0.7 * gen.standard_normal(n) > 0, 1.0, -1.0)
    return A, y


def saddle():
    """f(x, y) = x^2 - y^2 + y^4/4: saddle at 0, minima (0, +-sqrt 2), f* = -1."""
    fun = lambda z: float(z[0] ** 2 - z[1] ** 2 + z[1] ** 4 / 4)  # noqa: E731
    grad = lambda z: np.array([2 * z[0], -2 * z[1] + z[1] ** 3])  # noqa: E731
    hess = lambda z: np.diag([2.0, -2.0 + 3 * z[1] ** 2])  # noqa: E731
    return fun, grad, hess


def rosenbrock():
    def fun(z):
        return float(100 * (z[1] - z[0] ** 2) ** 2 + (1 - z[0]) ** 2)

    def grad(z):
        return np.array(
            [-400 * z[0] * (z[1] - z[0] ** 2) - 2 * (1 - z[0]), 200 * (z[1] - z[0] ** 2)]
        )

    def hess(z):
        return np.array([[1200 * z[0] ** 2 - 400 * z[1] + 2, -400 * z[0]], [-400 * z[0], 200.0]])

    return fun, grad, hess


LAM = 1e-2


@pytest.fixture(scope="module")
def logreg():
    A, y = logistic_data()
    return A, y, logistic(np, A, y, LAM)


# --------------------------------------------------------------------------------------
# the cubic subproblem
# --------------------------------------------------------------------------------------


def cubic_model(g, H, M):
    return lambda h: float(g @ h + 0.5 * h @ H @ h + M / 6 * np.linalg.norm(h) ** 3)


def brute_force_cubic(g, H, M, seed=0, starts=30):
    """Best local minimum of the cubic model over many BFGS starts (small d)."""
    gen = np.random.default_rng(seed)
    model = cubic_model(g, H, M)
    jac = lambda h: g + H @ h + 0.5 * M * np.linalg.norm(h) * h  # noqa: E731
    scale = 1.0 + 4.0 * (np.linalg.norm(g) + np.abs(H).max()) / M
    best = None
    for _ in range(starts):
        r = minimize(
            model,
            scale * gen.standard_normal(g.size),
            jac=jac,
            method="BFGS",
            options={"gtol": 1e-12},
        )
        if best is None or r.fun < best.fun:
            best = r
    return best


def check_cubic_optimality(g, H, M, h, sigma, *, atol=1e-9):
    d = g.size
    r = np.linalg.norm(h)
    assert_allclose(sigma, M * r / 2, rtol=1e-10, atol=1e-14)  # sigma = M r / 2
    assert_allclose((H + sigma * np.eye(d)) @ h, -g, atol=atol)  # (H + sigma I) h = -g
    assert np.linalg.eigvalsh(H + sigma * np.eye(d))[0] >= -atol  # H + sigma I PSD


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shift", [1.0, 0.0, -1.5])  # PD, mixed, mostly negative spectrum
def test_cubic_subproblem_matches_brute_force(seed, shift):
    gen = np.random.default_rng(seed)
    d = 4
    B = gen.standard_normal((d, d))
    H = (B + B.T) / 2 + shift * np.eye(d)
    g = gen.standard_normal(d)
    M = float(gen.uniform(0.3, 5.0))
    h, sigma, val = solve_cubic_subproblem(g, H, M)
    check_cubic_optimality(g, H, M, h, sigma)
    assert_allclose(val, cubic_model(g, H, M)(h), rtol=1e-12, atol=1e-14)
    ref = brute_force_cubic(g, H, M, seed=seed)
    assert val <= ref.fun + 1e-10  # our point is (at least) as good as any local minimum
    assert_allclose(h, ref.x, atol=1e-5)  # the global minimizer is unique here


def test_cubic_subproblem_hard_case():
    # g has no component on the eigenvector of lambda_min = -1, and phi(1) <= 2/M
    H = np.diag([-1.0, 2.0, 3.0])
    g = np.array([0.0, 1.0, 1.0])
    M = 1.0
    h, sigma, val = solve_cubic_subproblem(g, H, M)
    check_cubic_optimality(g, H, M, h, sigma, atol=1e-12)
    assert_allclose(sigma, 1.0, rtol=1e-14)  # sigma = -lambda_min
    assert_allclose(np.linalg.norm(h), 2.0, rtol=1e-14)  # r = 2 sigma / M
    ref = brute_force_cubic(g, H, M)
    assert val <= ref.fun + 1e-12
    assert_allclose(abs(h[0]), math.sqrt(4.0 - 1 / 9 - 1 / 16), rtol=1e-12)
    sol = cubic_step_eig(np.array([-1.0, 2.0, 3.0]), g, M)
    assert sol.hard and sol.ok


@pytest.mark.parametrize("g0", [1e-14, 1e-9, 1e-4])
def test_cubic_subproblem_near_hard_case(g0):
    H = np.diag([-1.0, 2.0, 3.0])
    g = np.array([g0, 1.0, 1.0])
    M = 1.0
    h, sigma, val = solve_cubic_subproblem(g, H, M)
    check_cubic_optimality(g, H, M, h, sigma, atol=1e-10)
    assert h[0] * g0 < 0  # moves against the small component
    assert val <= brute_force_cubic(g, H, M).fun + 1e-12


def test_cubic_subproblem_degenerate_inputs():
    # g = 0 with H PSD: h = 0; g = 0 with H indefinite: move along the lowest eigenvector
    h, sigma, val = solve_cubic_subproblem(np.zeros(3), np.diag([1.0, 2.0, 3.0]), 1.0)
    assert_array_equal(h, np.zeros(3))
    assert (sigma, val) == (0.0, 0.0)
    h, sigma, val = solve_cubic_subproblem(np.zeros(2), np.diag([-2.0, 1.0]), 4.0)
    assert_allclose(np.abs(h), [1.0, 0.0], atol=1e-14)  # r = -2 lambda_min / M = 1
    assert_allclose(val, -2.0 / 2 + 4.0 / 6, rtol=1e-12)
    # H = 0 (pure cubic regularization): h = -g * sqrt(2 / (M ||g||)) / ...
    g = np.array([3.0, 4.0])
    h, sigma, _ = solve_cubic_subproblem(g, np.zeros((2, 2)), 2.0)
    assert_allclose(np.linalg.norm(h), math.sqrt(2 * 5.0 / 2.0), rtol=1e-12)  # M r^2/2 = ||g||


# --------------------------------------------------------------------------------------
# correctness on logistic regression against independent references
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("m", [1, 3, None])
def test_logistic_matches_scipy_and_sklearn(logreg, solver, m):
    from sklearn.linear_model import LogisticRegression

    A, y, (fun, grad, hess) = logreg
    n, d = A.shape
    res = solver(fun, grad, hess, np.zeros(d), m=m, tol=1e-12)
    assert res.success, res.message
    assert np.linalg.norm(grad(res.x)) <= 1e-12  # optimality residual
    assert_allclose(res.jac, grad(res.x))
    ref = minimize(
        fun, np.zeros(d), jac=grad, hess=hess, method="trust-exact", options={"gtol": 1e-13}
    )
    assert_allclose(res.x, ref.x, rtol=1e-8, atol=1e-10)
    # sklearn: 1/2 ||w||^2 + C sum_i loss_i is the same problem with C = 1 / (n lam)
    clf = LogisticRegression(
        C=1.0 / (n * LAM), fit_intercept=False, tol=1e-14, solver="newton-cholesky", max_iter=100
    )
    clf.fit(A, y)
    assert_allclose(res.x, clf.coef_.ravel(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("solver", SOLVERS)
def test_breast_cancer_matches_problem_solution(solver):
    from problems import logistic_breast_cancer

    p = logistic_breast_cancer(lam=1e-3, use_cache=False)
    res = solver(p.value, p.grad, p.hess, p.x0, tol=1e-10)
    assert res.success, res.message
    assert p.residual(res.x) <= 1e-10
    assert_allclose(res.x, p.x_star, rtol=1e-8, atol=1e-8 * np.abs(p.x_star).max())
    assert res.nhev <= 3  # m = d = 30: at most a few snapshots


# --------------------------------------------------------------------------------------
# m = 1 is the classical method; m > 1 the lazy iteration (direct dense implementations)
# --------------------------------------------------------------------------------------


def direct_regularized(grad, hess, x0, M, m, n_steps):
    x = x0.copy()
    xs = [x.copy()]
    for t in range(n_steps):
        if t % m == 0:
            H = hess(x)
        g = grad(x)
        lam = math.sqrt(M * np.linalg.norm(g))
        x = x - np.linalg.solve(H + lam * np.eye(x.size), g)
        xs.append(x.copy())
    return np.array(xs)


def direct_cubic(grad, hess, x0, M, m, n_steps):
    """Cubic Newton by brentq on r = ||(H + M r/2 I)^{-1} g|| (convex H only)."""
    x = x0.copy()
    xs = [x.copy()]
    eye = np.eye(x.size)
    for t in range(n_steps):
        if t % m == 0:
            H = hess(x)
        g = grad(x)
        step = lambda r: -np.linalg.solve(H + 0.5 * M * r * eye, g)  # noqa: B023, E731
        r = brentq(lambda r: np.linalg.norm(step(r)) - r, 0.0, 1e3, xtol=1e-15, rtol=1e-15)  # noqa: B023
        x = x + step(r)
        xs.append(x.copy())
    return np.array(xs)


@pytest.mark.parametrize(
    "solver, direct",
    [(lazy_regularized_newton, direct_regularized), (lazy_cubic_newton, direct_cubic)],
)
@pytest.mark.parametrize("m", [1, 3])
def test_iterates_match_direct_implementation(logreg, solver, direct, m):
    A, y, (fun, grad, hess) = logreg
    d = A.shape[1]
    M, n_steps = 0.5, 7
    ref = direct(grad, hess, np.zeros(d), M, m, n_steps)
    for k in (1, 2, n_steps):
        res = solver(fun, grad, hess, np.zeros(d), m=m, M=M, max_iter=k, tol=1e-300)
        assert res.status == Status.MAX_ITER and res.nit == k
        assert_allclose(res.x, ref[k], rtol=1e-10, atol=1e-13)
    gn = [np.linalg.norm(grad(x)) for x in ref]
    assert_allclose(res.history["grad_norm"], gn, rtol=1e-9)


# --------------------------------------------------------------------------------------
# non-convex problems
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("M", [None, 1.0, 10.0])
@pytest.mark.parametrize("m", [1, 2, 5])
def test_escapes_saddle(M, m):
    fun, grad, hess = saddle()
    x0 = np.array([1e-3, 1e-6])  # H(x0) has eigenvalue -2: x0 is next to the saddle
    eps = 1e-9
    res = lazy_cubic_newton(fun, grad, hess, x0, m=m, M=M, tol=eps)
    assert res.success, res.message
    assert_allclose(np.abs(res.x), [0.0, math.sqrt(2.0)], atol=1e-8)
    assert_allclose(res.fun, -1.0, atol=1e-14)
    lam_min = np.linalg.eigvalsh(hess(res.x))[0]
    assert lam_min >= -math.sqrt(res.M * eps)  # second-order stationarity (here lam_min = 4)
    if M is None:  # the adaptive test makes f monotone; a fixed M below m*L need not
        assert np.all(np.diff(res.history["fun"]) <= 1e-15)
    assert res.nhev == math.ceil(res.nit / m)


def test_exact_saddle_hard_case_step():
    # start on the saddle's stable manifold: g has no component along the negative
    # eigenvector, so every step is the hard case until y leaves 0 (it never does here:
    # the hard-case step adds the lowest eigenvector)
    fun, grad, hess = saddle()
    res = lazy_cubic_newton(fun, grad, hess, np.array([0.5, 0.0]), m=3, tol=1e-10)
    assert res.success, res.message
    assert_allclose(np.abs(res.x), [0.0, math.sqrt(2.0)], atol=1e-9)


@pytest.mark.parametrize("m", [1, 4])
def test_rosenbrock(m):
    fun, grad, hess = rosenbrock()
    res = lazy_cubic_newton(fun, grad, hess, np.array([-1.2, 1.0]), m=m, tol=1e-9, max_iter=5000)
    assert res.success, res.message
    assert_allclose(res.x, [1.0, 1.0], atol=1e-8)
    assert np.linalg.eigvalsh(hess(res.x))[0] > 0
    assert res.nhev == math.ceil(res.nit / m)


def test_regularized_rejects_indefinite_hessian():
    fun, grad, hess = saddle()
    res = lazy_regularized_newton(fun, grad, hess, np.array([1e-3, 1e-3]))
    assert res.status == Status.STAGNATION
    assert "indefinite" in res.message and "iteration 0" in res.message
    assert len(res.history["iter"]) == 1


# --------------------------------------------------------------------------------------
# counts, cost model, history
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("m", [1, 2, 4, 100])
@pytest.mark.parametrize("M", [None, 2.0])
def test_counts_and_cost(logreg, solver, m, M):
    A, y, (fun, grad, hess) = logreg
    d = A.shape[1]
    res = solver(fun, grad, hess, np.zeros(d), m=m, M=M, tol=1e-10, grad_cost=7.0)
    assert res.success, res.message
    h = res.history
    nit = res.nit
    assert len(h["iter"]) == nit + 1
    assert res.nhev == res.n_factorizations == math.ceil(nit / m)
    expected_snap = [1.0 if (k % m == 0 and k < nit) else 0.0 for k in range(nit + 1)]
    assert_array_equal(h["snapshot"], expected_snap)
    trials = int(np.nansum(h["trials"]))
    assert res.n_solves == trials
    assert math.isnan(h["M"][0]) and math.isnan(h["lam"][0])
    if M is not None:
        assert trials == nit and np.all(h["M"][1:] == M)
    adaptive_fev = 0
    if solver is lazy_cubic_newton:
        assert res.njev == nit + 1
        if M is None:
            adaptive_fev = 1 + trials  # f(x0) and every trial point
        assert res.nfev == (1 + trials if M is None else nit + 1)
    else:
        assert res.njev == (1 + trials if M is None else nit + 1)
        assert res.nfev == nit + 1  # history only
        assert_allclose(h["lam"][1:], np.sqrt(h["M"][1:] * h["grad_norm"][:-1]), rtol=1e-12)
    cost = 7.0 * (res.njev + adaptive_fev) + 7.0 * d * res.nhev + d**3 * res.nhev
    cost += d**2 * res.n_solves
    assert res.cost == cost
    assert h["cost"][-1] == res.cost and np.all(np.diff(h["cost"]) > 0)
    assert h["grad_norm"][-1] <= 1e-10 < h["grad_norm"][-2]


def test_counts_pinned(logreg):
    A, y, (fun, grad, hess) = logreg
    d = A.shape[1]
    r1 = lazy_cubic_newton(fun, grad, hess, np.zeros(d), m=3, tol=1e-10)
    # pinned with super-newton's decrease factor 1/4
    r2 = lazy_regularized_newton(fun, grad, hess, np.zeros(d), m=3, tol=1e-10, M_decrease=0.25)
    got = [(r.nit, r.nfev, r.njev, r.nhev, r.n_solves) for r in (r1, r2)]
    assert got == [(12, 13, 13, 4, 12), (14, 15, 24, 5, 23)]


def test_default_grad_cost_and_m(logreg):
    A, y, (fun, grad, hess) = logreg
    d = A.shape[1]
    res = lazy_regularized_newton(fun, grad, hess, np.zeros(d), M=1.0, tol=1e-10)
    assert res.m == d
    assert res.cost == d**2 * res.njev + d**3 * res.nhev + d**3 * res.nhev + d**2 * res.n_solves


def test_record_off_keeps_counts(logreg):
    A, y, (fun, grad, hess) = logreg
    d = A.shape[1]
    on = lazy_regularized_newton(fun, grad, hess, np.zeros(d), m=2, tol=1e-10)
    off = lazy_regularized_newton(fun, grad, hess, np.zeros(d), m=2, tol=1e-10, record=False)
    assert_array_equal(off.x, on.x)
    assert (off.njev, off.nhev, off.cost) == (on.njev, on.nhev, on.cost)
    assert off.nfev == 2  # f(x0) and Result.fun
    assert len(off.history["iter"]) == 0
    assert_allclose(off.fun, on.fun, rtol=1e-15)


def test_regularized_local_superlinear(logreg):
    A, y, (fun, grad, hess) = logreg
    res = lazy_regularized_newton(fun, grad, hess, np.zeros(A.shape[1]), m=1, M=1.0, tol=1e-14)
    gn = res.history["grad_norm"]
    ratios = gn[1:] / gn[:-1]
    local = ratios[gn[:-1] < 1e-2]
    assert len(local) >= 2 and np.all(np.diff(local) < 0)  # contraction factor shrinks
    assert local[-1] < 1e-2


def test_approximate_hessian_linear_rate(logreg):
    """m = 1 with the Gauss-Newton upper bound B = A^T A/(4n) + lam I (Semenov et al. 2025)."""
    A, y, (fun, grad, hess) = logreg
    n, d = A.shape
    B = A.T @ A / (4 * n) + LAM * np.eye(d)
    res = lazy_regularized_newton(fun, grad, lambda w: B, np.zeros(d), m=1, tol=1e-10)
    assert res.success, res.message
    ref = minimize(
        fun, np.zeros(d), jac=grad, hess=hess, method="trust-exact", options={"gtol": 1e-13}
    )
    assert_allclose(res.x, ref.x, rtol=1e-8, atol=1e-10)
    gn = res.history["grad_norm"]
    ratios = gn[1:] / gn[:-1]
    # linear: the local contraction is bounded away from 0 and from 1, by the spectrum
    # of I - B^{-1} H(x*) in [0, 1)
    rho = 1 - np.linalg.eigvals(np.linalg.solve(B, hess(ref.x))).real.min()
    tail = ratios[len(ratios) // 2 :]
    assert np.all(tail < 0.999) and np.median(tail) > 0.05
    assert np.median(tail) <= rho + 0.05


# --------------------------------------------------------------------------------------
# adaptive M
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("M0", [1e-4, 1.0, 1e4])
def test_adaptive_M_needs_no_constant(logreg, solver, M0):
    A, y, (fun, grad, hess) = logreg
    res = solver(fun, grad, hess, np.zeros(A.shape[1]), m=2, M0=M0, tol=1e-10)
    assert res.success, res.message
    assert np.linalg.norm(grad(res.x)) <= 1e-10
    assert np.all(res.history["M"][1:] >= 1e-5)


def test_cubic_adaptive_rejects_nonfinite_trial():
    # f = -log(1 - x^2) is +inf outside (-1, 1): too long steps are rejected, M grows
    fun = lambda x: float(-np.log(1 - x[0] ** 2)) if abs(x[0]) < 1 else math.inf  # noqa: E731
    grad = lambda x: np.array([2 * x[0] / (1 - x[0] ** 2)])  # noqa: E731
    hess = lambda x: np.array([[(2 + 2 * x[0] ** 2) / (1 - x[0] ** 2) ** 2]])  # noqa: E731
    res = lazy_cubic_newton(fun, grad, hess, np.array([0.9]), m=1, M0=1e-5, tol=1e-10)
    assert res.success, res.message
    assert abs(res.x[0]) < 1e-10


def test_adaptive_search_failure_is_reported():
    # -cos(x) near its maximum: a tiny M makes the cubic step overshoot by far
    fun = lambda x: float(-np.cos(x[0]))  # noqa: E731
    grad = lambda x: np.array([np.sin(x[0])])  # noqa: E731
    hess = lambda x: np.array([[np.cos(x[0])]])  # noqa: E731
    res = lazy_cubic_newton(fun, grad, hess, np.array([3.0]), M0=1e-5, max_backtrack=1)
    assert res.status == Status.STAGNATION and not res.success
    assert "adaptive search" in res.message and "iteration 0" in res.message
    assert len(res.history["iter"]) == 1
    # sqrt(1 + x^2) from x = 3: the Newton step overshoots to -27
    fun = lambda x: float(np.sqrt(1 + x[0] ** 2))  # noqa: E731
    grad = lambda x: x / np.sqrt(1 + x**2)  # noqa: E731
    hess = lambda x: np.array([[(1 + x[0] ** 2) ** -1.5]])  # noqa: E731
    res = lazy_regularized_newton(fun, grad, hess, np.array([3.0]), M0=1e-5, max_backtrack=1)
    assert res.status == Status.STAGNATION and "adaptive search" in res.message
    res = lazy_regularized_newton(fun, grad, hess, np.array([3.0]), m=1, tol=1e-12)
    assert res.success and abs(res.x[0]) < 1e-12


# --------------------------------------------------------------------------------------
# backends, dtypes
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_namespaces(xp, logreg, solver):
    A, y, _ = logreg
    d = A.shape[1]
    fun, grad, hess = logistic(xp, A, y, LAM)
    fun_np, grad_np, hess_np = logistic(np, A, y, LAM)
    x0 = xp.zeros(d, dtype=xp.float64)
    res = solver(fun, grad, hess, x0, m=3, tol=1e-10)
    ref = solver(fun_np, grad_np, hess_np, np.zeros(d), m=3, tol=1e-10)
    assert res.success, res.message
    assert type(res.x) is type(x0) and res.x.dtype == x0.dtype
    from optlab._backend import to_numpy

    assert_allclose(to_numpy(res.x), ref.x, rtol=1e-10, atol=1e-12)
    assert (res.nit, res.njev, res.nhev) == (ref.nit, ref.njev, ref.nhev)


def test_namespace_nonconvex(xp):
    def fun(z):
        return float(z[0] ** 2 - z[1] ** 2 + z[1] ** 4 / 4)

    def grad(z):
        return xp.stack([2 * z[0], -2 * z[1] + z[1] ** 3])

    def hess(z):
        return xp.stack(
            [xp.stack([2.0 + 0 * z[0], 0 * z[0]]), xp.stack([0 * z[0], -2.0 + 3 * z[1] ** 2])]
        )

    res = lazy_cubic_newton(fun, grad, hess, xp.asarray([1e-3, 1e-6]), m=2, tol=1e-10)
    assert res.success, res.message
    from optlab._backend import to_numpy

    assert_allclose(np.abs(to_numpy(res.x)), [0.0, math.sqrt(2.0)], atol=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_kept(logreg, solver):
    A, y, _ = logreg
    fun, grad, hess = logistic(np, A.astype(np.float32), y.astype(np.float32), LAM)
    res = solver(fun, grad, hess, np.zeros(A.shape[1], dtype=np.float32), m=2, tol=1e-5)
    assert res.success, res.message
    assert res.x.dtype == np.float32


# --------------------------------------------------------------------------------------
# failures during a run, bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_nan_gradient_reports_iteration(logreg, solver):
    A, y, (fun, grad, hess) = logreg
    calls = {"n": 0}

    def bad_grad(w):
        calls["n"] += 1
        return grad(w) * (np.nan if calls["n"] == 3 else 1.0)

    res = solver(fun, bad_grad, hess, np.zeros(A.shape[1]), m=2, M=1.0)
    assert res.status == Status.NUMERICAL_ERROR and not res.success
    assert "non-finite gradient at iteration 2" in res.message
    assert res.nit == 2 and len(res.history["iter"]) == 3


@pytest.mark.parametrize("solver", SOLVERS)
def test_nan_hessian_and_fun(logreg, solver):
    A, y, (fun, grad, hess) = logreg
    d = A.shape[1]
    res = solver(fun, grad, lambda w: hess(w) * np.nan, np.zeros(d))
    assert res.status == Status.NUMERICAL_ERROR and "Hessian at iteration 0" in res.message
    calls = {"n": 0}

    def bad_fun(w):
        calls["n"] += 1
        return fun(w) if calls["n"] < 3 else math.nan

    res = solver(bad_fun, grad, hess, np.zeros(d), M=1.0)
    assert res.status == Status.NUMERICAL_ERROR and "non-finite fun at iteration 2" in res.message


@pytest.mark.parametrize("solver", SOLVERS)
def test_max_iter_and_callback(logreg, solver):
    A, y, (fun, grad, hess) = logreg
    d = A.shape[1]
    res = solver(fun, grad, hess, np.zeros(d), max_iter=2)
    assert res.status == Status.MAX_ITER and res.nit == 2 and "2 iterations" in res.message
    seen = []
    res = solver(fun, grad, hess, np.zeros(d), callback=lambda r: seen.append(r.nit) or r.nit == 1)
    assert res.status == Status.CALLBACK and res.nit == 1 and seen == [0, 1]
    res = solver(fun, grad, hess, np.zeros(d), max_iter=0)
    assert res.status == Status.MAX_ITER and res.nit == 0 and res.nhev == 0


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"m": 0}, ValueError, "m must be"),
        ({"m": -3}, ValueError, "m must be"),
        ({"m": 2.5}, ValueError, "m must be"),
        ({"m": 2.0}, ValueError, "m must be"),
        ({"m": "4"}, TypeError, "m must be"),
        ({"M": 0.0}, ValueError, "M must be positive"),
        ({"M": -1.0}, ValueError, "M must be positive"),
        ({"M": math.nan}, ValueError, "M must not be NaN"),
        ({"tol": 0.0}, ValueError, "tol"),
        ({"M0": -1.0}, ValueError, "M0"),
        ({"M_min": 0.0}, ValueError, "M_min"),
        ({"max_backtrack": 0}, ValueError, "max_backtrack"),
        ({"grad_cost": -1.0}, ValueError, "grad_cost"),
        ({"max_iter": -1}, ValueError, "max_iter"),
        ({"callback": 3}, TypeError, "callback"),
    ],
)
def test_bad_options(logreg, solver, kwargs, exc, match):
    A, y, (fun, grad, hess) = logreg
    with pytest.raises(exc, match=match):
        solver(fun, grad, hess, np.zeros(A.shape[1]), **kwargs)


@pytest.mark.parametrize("bad", [0.0, -0.5, 1.5, math.nan])
def test_bad_M_decrease(logreg, bad):
    A, y, (fun, grad, hess) = logreg
    with pytest.raises(ValueError, match="M_decrease"):
        lazy_regularized_newton(fun, grad, hess, np.zeros(A.shape[1]), M_decrease=bad)


def test_M_decrease_trades_rejections(logreg):
    # a gentler decrease rejects fewer trials (fewer gradients) at the same solution
    A, y, (fun, grad, hess) = logreg
    x0 = np.zeros(A.shape[1])
    r4 = lazy_regularized_newton(fun, grad, hess, x0, m=5, tol=1e-10, M_decrease=0.25)
    r2 = lazy_regularized_newton(fun, grad, hess, x0, m=5, tol=1e-10, M_decrease=0.5)
    assert r4.success and r2.success
    assert r2.njev - r2.nit < r4.njev - r4.nit
    np.testing.assert_allclose(r2.x, r4.x, atol=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
def test_bad_oracles_and_x0(logreg, solver):
    A, y, (fun, grad, hess) = logreg
    d = A.shape[1]
    x0 = np.zeros(d)
    with pytest.raises(ValueError, match="x0 contains NaN"):
        solver(fun, grad, hess, np.full(d, np.nan))
    with pytest.raises(ValueError, match="x0 must be 1-D"):
        solver(fun, grad, hess, np.zeros((d, 1)))
    with pytest.raises(ValueError, match=r"fun\(x0\)"):
        solver(lambda w: math.inf, grad, hess, x0)
    with pytest.raises(TypeError, match="hess must be callable"):
        solver(fun, grad, None, x0)
    with pytest.raises(ValueError, match="grad must return"):
        solver(fun, lambda w: grad(w)[:-1], hess, x0)
    with pytest.raises(ValueError, match="hess must return a square"):
        solver(fun, grad, lambda w: hess(w)[:, :-1], x0)
    with pytest.raises(ValueError, match="hess must return a square"):
        solver(fun, grad, lambda w: np.eye(d + 1), x0)
    with pytest.raises(ValueError, match="hess must return a symmetric"):
        solver(fun, grad, lambda w: hess(w) + np.triu(np.ones((d, d)), 1), x0)
    # asymmetry at the rounding level is accepted
    res = solver(fun, grad, lambda w: hess(w) + 1e-12 * np.triu(np.ones((d, d)), 1), x0)
    assert res.success, res.message


@pytest.mark.parametrize("solver", SOLVERS)
def test_start_at_solution(solver):
    fun, grad, hess = rosenbrock()
    res = solver(fun, grad, hess, np.array([1.0, 1.0]))
    # grad_cost = d^2 = 4 per gradient; the adaptive cubic method also pays for f(x0)
    cost = 8.0 if solver is lazy_cubic_newton else 4.0
    assert res.success and res.nit == 0 and (res.njev, res.nhev, res.cost) == (1, 0, cost)


def test_root_search_failure_is_reported(logreg, monkeypatch):
    import optlab.newton._lazy_common as common

    A, y, (fun, grad, hess) = logreg
    monkeypatch.setattr(common, "ROOT_MAX_ITER", 1)
    res = lazy_cubic_newton(fun, grad, hess, np.zeros(A.shape[1]), m=2)
    assert res.status == Status.STAGNATION and not res.success
    assert "root search did not converge at iteration 0" in res.message
    assert len(res.history["iter"]) == 1 and res.history["snapshot"][0] == 1.0
