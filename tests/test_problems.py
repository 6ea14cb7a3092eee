"""Tests for the problems/ lab package: oracles, constants, solutions, cache, worst cases.

Derivatives are checked against central finite differences, constants against the
Hessian's eigenvalues, solutions by their optimality residual and (where
scikit-learn is available) against an independent solver.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import problems as P
from problems import _cache
from problems._paths import missing_data_reason, shared_data_dir

SHARED = shared_data_dir()
NO_DATA = missing_data_reason()


@pytest.fixture(scope="module", autouse=True)
def _tmp_cache(tmp_path_factory):
    """Solutions are cached in a temporary folder, not the repository's .cache/."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPTLAB_CACHE", str(tmp_path_factory.mktemp("problems-cache")))
        yield


def _mushrooms():
    if SHARED is None:
        pytest.skip(NO_DATA)
    return P.logistic_mushrooms(lam=1e-3, data_home=SHARED, download=False)


def _breast_cancer():
    pytest.importorskip("sklearn")
    return P.logistic_breast_cancer(lam=1e-2)


FACTORIES = {
    "quadratic-uniform": lambda: P.quadratic(6, L=3.0, mu=0.1, spectrum="uniform", seed=0),
    "quadratic-log": lambda: P.quadratic(6, L=1.0, mu=1e-3, spectrum="log", seed=1),
    "quadratic-two_point": lambda: P.quadratic(5, L=2.0, mu=0.5, spectrum="two_point", seed=2),
    "quadratic-mu0": lambda: P.quadratic(4, L=1.0, mu=0.0, seed=3),
    "least_squares": lambda: P.least_squares(20, 5, seed=0),
    "least_squares-under": lambda: P.least_squares(5, 8, seed=1),
    "ridge": lambda: P.ridge(20, 5, 0.1, seed=0),
    "lasso": lambda: P.lasso(30, 10, seed=0, sparsity=0.3),
    "lasso-under": lambda: P.lasso(15, 30, seed=1),
    "logistic": lambda: P.logistic_regression(40, 4, lam=0.05, seed=0),
    "logistic_breast_cancer": _breast_cancer,
    "logistic_mushrooms": _mushrooms,
    "huber": lambda: P.huber_worst_case(5, L=2.0, R=3.0, d=3),
    "huber-1d": lambda: P.huber_worst_case(4),
    "nesterov": lambda: P.nesterov_worst_case(6, L=2.0),
    "nesterov-k": lambda: P.nesterov_worst_case(8, k=5),
    "sc_worst": lambda: P.strongly_convex_worst_quadratic(L=1.0, mu=0.05),
}
FINITE_SUMS = [
    "least_squares",
    "ridge",
    "lasso",
    "logistic",
    "logistic_breast_cancer",
    "logistic_mushrooms",
]

_built: dict[str, P.Problem] = {}


def _get(name: str) -> P.Problem:
    if name not in _built:
        _built[name] = FACTORIES[name]()
    return _built[name]


@pytest.fixture(params=sorted(FACTORIES))
def prob(request):
    return _get(request.param)


def _points(p: P.Problem, k: int = 3, seed: int = 7) -> list[np.ndarray]:
    """Random test points around x_star at the problem's scale (off Huber's kink)."""
    rng = np.random.default_rng(seed)
    scale = max(1.0, float(np.linalg.norm(p.x0 - p.x_star)))
    pts = []
    while len(pts) < k:
        x = p.x_star + scale * rng.standard_normal(p.dim) / np.sqrt(p.dim)
        if "eta" in p.params and abs(np.linalg.norm(x) - p.params["eta"]) < 1e-2:
            continue
        pts.append(x)
    if "eta" in p.params:  # one point on the quadratic piece of the Huber function
        pts.append(0.3 * p.params["eta"] * rng.standard_normal(p.dim) / np.sqrt(p.dim))
    return pts


def _fd_grad(f, x, h=1e-6):
    g = np.empty_like(x)
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        g[j] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _fd_jac(F, x, h=1e-6):
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        cols.append((F(x + e) - F(x - e)) / (2 * h))
    return np.stack(cols, axis=1)


# ---------------------------------------------------------------------------- oracles
def test_gradient_matches_finite_differences(prob):
    for x in _points(prob):
        g = prob.grad(x)
        assert g.shape == (prob.dim,)
        fd = _fd_grad(prob.value, x)
        assert_allclose(g, fd, rtol=1e-6, atol=1e-7 * max(1.0, np.abs(g).max()))


def test_hessian_matches_finite_differences_of_grad(prob):
    assert prob.hess is not None
    rng = np.random.default_rng(3)
    for x in _points(prob, k=2):
        H = prob.hess(x)
        assert H.shape == (prob.dim, prob.dim)
        assert_allclose(H, H.T, atol=1e-14 * max(1.0, np.abs(H).max()))
        fd = _fd_jac(prob.grad, x)
        assert_allclose(H, fd, atol=1e-6 * max(1.0, np.abs(H).max()))
        v = rng.standard_normal(prob.dim)
        assert_allclose(prob.hvp(x, v), H @ v, rtol=1e-12, atol=1e-12 * np.abs(H @ v).max())


def test_prox_is_soft_threshold_and_optimal(prob):
    if prob.prox is None:
        assert prob.g is None
        return
    rng = np.random.default_rng(0)
    v = rng.standard_normal(prob.dim)
    t = 0.7
    u = prob.prox(v, t)
    lam = prob.params["lam"]
    # prox optimality: (v - u)/t is a subgradient of lam ||.||_1 at u
    s = (v - u) / t
    nz = u != 0
    assert_allclose(s[nz], lam * np.sign(u[nz]), rtol=1e-12)
    assert np.all(np.abs(s[~nz]) <= lam * (1 + 1e-12))
    assert_allclose(prob.g(u), lam * np.abs(u).sum())


# ---------------------------------------------------------------------------- constants
def test_L_mu_against_hessian_eigenvalues(prob):
    if prob.name.startswith("logistic") or prob.name.startswith("huber"):
        pts = _points(prob, k=3) + [prob.x_star, prob.x0]
        for x in pts:
            ev = np.linalg.eigvalsh(prob.hess(x))
            assert ev[-1] <= prob.L * (1 + 1e-12), (ev[-1], prob.L)
            assert ev[0] >= prob.mu * (1 - 1e-10) - 1e-14, (ev[0], prob.mu)
        if prob.name.startswith("logistic"):
            # L = ||A||^2/(4n) + lam exactly; mu = lam exactly
            A, n, lam = prob.data["A"], prob.n_samples, prob.params["lam"]
            A = A.toarray() if hasattr(A, "toarray") else A
            assert_allclose(prob.L, np.linalg.norm(A, 2) ** 2 / (4 * n) + lam, rtol=1e-10)
            assert prob.mu == lam
        return
    ev = np.linalg.eigvalsh(prob.hess(prob.x0))
    if not prob.name.startswith("nesterov"):  # constant Hessian: L and mu are exact
        assert_allclose(ev[-1], prob.L, rtol=1e-10)
        assert_allclose(ev[0], prob.mu, rtol=1e-8, atol=1e-12 * prob.L)
    else:  # Nesterov's function: L and mu = 0 are class constants
        assert ev[-1] <= prob.L and ev[0] >= -1e-14
        assert_allclose(ev[-1], prob.params["lambda_max"], rtol=1e-12)
        assert_allclose(ev[0], prob.params["lambda_min"], atol=1e-14)


def test_quadratic_spectrum_is_prescribed():
    for spectrum in ("uniform", "log", "two_point"):
        p = P.quadratic(7, L=5.0, mu=0.2, spectrum=spectrum, seed=4)
        ev = np.linalg.eigvalsh(p.hess(p.x0))
        assert_allclose(ev, np.sort(p.params["eigenvalues"]), rtol=1e-12, atol=1e-13)
    ev = P.quadratic(6, L=1.0, mu=1e-3, spectrum="log", seed=0).params["eigenvalues"]
    assert_allclose(np.diff(np.log(ev)), np.log(1e3) / 5)


# ---------------------------------------------------------------------------- solutions
def test_x_star_is_optimal(prob):
    scale = max(1.0, float(np.abs(prob.grad(prob.x0)).max()))
    assert prob.residual(prob.x_star) <= 1e-10 * scale, prob.residual(prob.x_star)
    assert_allclose(prob.f_star, prob.objective(prob.x_star), rtol=1e-13, atol=1e-15)
    assert prob.objective(prob.x0) >= prob.f_star
    for x in _points(prob, k=2):  # no random point does better
        assert prob.objective(x) >= prob.f_star - 1e-12


def test_underdetermined_least_squares_is_min_norm():
    p = P.least_squares(5, 8, seed=1)
    A = p.data["A"]
    # min-norm solution lies in the row space of A
    proj = A.T @ np.linalg.lstsq(A.T, p.x_star, rcond=None)[0]
    assert_allclose(proj, p.x_star, atol=1e-12)
    assert p.mu == 0.0
    assert p.f_star < 1e-25  # interpolation


def test_lasso_agrees_with_sklearn():
    lm = pytest.importorskip("sklearn.linear_model")
    p = P.lasso(30, 10, seed=0, sparsity=0.3)
    A, b, lam = p.data["A"], p.data["b"], p.params["lam"]
    sk = lm.Lasso(alpha=lam, fit_intercept=False, tol=1e-14, max_iter=100_000).fit(A, b)
    assert_allclose(p.x_star, sk.coef_, atol=1e-9)
    assert p.params["polished"]


@pytest.mark.parametrize("which", ["logistic", "logistic_breast_cancer"])
def test_logistic_agrees_with_sklearn(which):
    lm = pytest.importorskip("sklearn.linear_model")
    p = _get(which)
    A, y, lam, n = p.data["A"], p.data["y"], p.params["lam"], p.n_samples
    # sklearn: C sum_i loss_i + ||w||^2/2  ==  n C (f(w)) with lam = 1/(n C)
    sk = lm.LogisticRegression(C=1.0 / (n * lam), fit_intercept=False, tol=1e-12, max_iter=10_000)
    sk.fit(A, y)
    assert_allclose(p.x_star, sk.coef_.ravel(), rtol=1e-5, atol=1e-6)
    assert p.objective(sk.coef_.ravel()) >= p.f_star - 1e-15


def test_mushrooms_instance():
    p = _mushrooms()
    assert p.dim == 112 and p.n_samples == 8124
    assert p.residual(p.x_star) < 1e-12
    assert 0 < p.f_star < np.log(2)


# ---------------------------------------------------------------------------- finite sums
@pytest.mark.parametrize("name", FINITE_SUMS)
def test_grad_i_and_L_max(name):
    p = _get(name)
    x = _points(p, k=1)[0]
    n = p.n_samples
    assert_allclose(p.grad_i(x, np.arange(n)), p.grad(x), rtol=1e-10, atol=1e-14)
    rng = np.random.default_rng(0)
    idx = rng.choice(n, size=min(n, 7), replace=False)
    single = np.mean([p.grad_i(x, [i]) for i in idx], axis=0)
    assert_allclose(p.grad_i(x, idx), single, rtol=1e-10, atol=1e-14)
    assert p.L <= p.L_max * (1 + 1e-12)
    A = p.data["A"]
    A = A.toarray() if hasattr(A, "toarray") else A
    row = np.max(np.sum(A * A, axis=1))
    curv = 0.25 if name.startswith("logistic") else 1.0
    assert_allclose(p.L_max, curv * row + p.params.get("lam", 0.0) * (name != "lasso"), rtol=1e-12)


# ---------------------------------------------------------------------------- reproducibility
def test_seeds_reproducible():
    for make in (
        lambda s: P.quadratic(5, seed=s),
        lambda s: P.least_squares(10, 3, seed=s),
        lambda s: P.ridge(10, 3, 0.1, seed=s),
        lambda s: P.lasso(12, 6, seed=s),
        lambda s: P.logistic_regression(15, 3, lam=0.1, seed=s),
    ):
        a, b, c = make(0), make(0), make(1)
        for k in a.data:
            assert_array_equal(a.data[k], b.data[k])
        assert_array_equal(a.x_star, b.x_star)
        assert a.f_star == b.f_star
        assert a.seed == 0 and c.seed == 1
        k0 = next(iter(a.data))
        assert not np.array_equal(a.data[k0], c.data[k0])


# ---------------------------------------------------------------------------- cache
def test_cache_roundtrip(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTLAB_CACHE", str(tmp_path))
    assert P.cache_dir() == tmp_path
    calls = []
    A = np.arange(6.0).reshape(2, 3)

    def compute():
        calls.append(1)
        return {"x": A.sum(axis=0), "flag": True}

    a = P.cached("demo-v1", {"lam": 0.5}, {"A": A}, compute)
    b = P.cached("demo-v1", {"lam": 0.5}, {"A": A}, compute)
    assert len(calls) == 1
    assert_array_equal(a["x"], b["x"])
    assert bool(b["flag"])
    files = list(tmp_path.glob("demo-v1-*.npz"))
    assert len(files) == 1
    P.cached("demo-v1", {"lam": 0.25}, {"A": A}, compute)  # new params -> new entry
    P.cached("demo-v1", {"lam": 0.5}, {"A": A.copy()}, compute)  # same data: a hit
    P.cached("demo-v1", {"lam": 0.5}, {"A": A.astype(np.float32)}, compute)  # ...new dtype
    assert len(calls) == 3
    files[0].write_bytes(b"garbage")  # a corrupt entry is recomputed, not an error
    c = P.cached("demo-v1", {"lam": 0.5}, {"A": A}, compute)
    assert len(calls) == 4
    assert_array_equal(c["x"], a["x"])
    P.cached("demo-v1", {"lam": 0.5}, {"A": A}, compute, use_cache=False)
    assert len(calls) == 5


def test_cache_key_distinguishes_sparse_and_dense():
    sp = pytest.importorskip("scipy.sparse")
    A = np.eye(3)
    k1 = P.cache_key("x", {}, {"A": A})
    k2 = P.cache_key("x", {}, {"A": sp.csr_matrix(A)})
    assert k1 != k2 and len(k1) == 64
    assert P.cache_key("x", {"a": 1, "b": 2}, {}) == P.cache_key("x", {"b": 2, "a": 1}, {})


def test_solver_results_come_from_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTLAB_CACHE", str(tmp_path))
    p1 = P.lasso(20, 8, seed=5)
    q1 = P.logistic_regression(30, 3, lam=0.1, seed=5)
    assert len(list(tmp_path.glob("*.npz"))) == 2

    def boom(*args, **kwargs):
        raise AssertionError("solver called although the solution is cached")

    monkeypatch.setattr("problems._least_squares._solve_lasso", boom)
    monkeypatch.setattr("problems._logistic._solve", boom)
    p2 = P.lasso(20, 8, seed=5)
    q2 = P.logistic_regression(30, 3, lam=0.1, seed=5)
    assert_array_equal(p1.x_star, p2.x_star)
    assert_array_equal(q1.x_star, q2.x_star)
    assert _cache.cache_dir() == tmp_path


# ---------------------------------------------------------------------------- worst cases
@pytest.mark.parametrize(
    ("N", "L", "R", "d"), [(1, 1.0, 1.0, 1), (10, 1.0, 1.0, 1), (7, 3.0, 0.5, 4)]
)
def test_huber_worst_case_gradient_descent(N, L, R, d):
    p = P.huber_worst_case(N, L=L, R=R, d=d)
    assert_allclose(np.linalg.norm(p.x0 - p.x_star), R)
    x = p.x0.copy()
    for _ in range(N):  # plain gradient descent with step 1/L, written here on purpose
        x = x - p.grad(x) / L
        assert np.linalg.norm(x) >= p.params["eta"]  # stays on the linear piece
    gap = p.value(x) - p.f_star
    assert_allclose(gap, L * R**2 / (4 * N + 2), rtol=1e-12)
    assert_allclose(gap, p.params["gd_gap"], rtol=1e-12)
    assert_allclose(np.linalg.norm(x), R * (N + 1) / (2 * N + 1), rtol=1e-12)


def test_huber_is_convex_and_L_smooth():
    p = P.huber_worst_case(3, L=2.0, R=1.0, d=2)
    rng = np.random.default_rng(1)
    for _ in range(200):
        x, y = rng.standard_normal(2) * 0.5, rng.standard_normal(2) * 0.5
        gx, gy = p.grad(x), p.grad(y)
        lin = p.value(x) + gx @ (y - x)
        # convexity and smoothness (descent lemma); co-coercivity for convex L-smooth f
        assert p.value(y) >= lin - 1e-14
        assert p.value(y) <= lin + p.L / 2 * np.sum((y - x) ** 2) + 1e-14
        assert (gx - gy) @ (x - y) >= np.sum((gx - gy) ** 2) / p.L - 1e-14


def test_nesterov_worst_case_solution_and_krylov_structure():
    d, L = 9, 2.0
    p = P.nesterov_worst_case(d, L=L)
    k = d
    i = np.arange(1, k + 1)
    assert_allclose(p.x_star, 1 - i / (k + 1))
    assert_allclose(p.f_star, L / 8 * (-1 + 1 / (k + 1)), rtol=1e-14)
    assert_allclose(p.value(p.x_star), p.f_star, rtol=1e-13)
    x = p.x0.copy()
    for j in range(1, 5):  # GD iterates span one more coordinate per step
        x = x - p.grad(x) / L
        assert np.all(x[j:] == 0) and x[j - 1] != 0
    q = P.nesterov_worst_case(8, k=5)
    assert np.all(q.x_star[5:] == 0)
    assert q.params["lambda_min"] == 0.0


def test_strongly_convex_worst_quadratic_rates():
    L, mu = 1.0, 0.05
    p = P.strongly_convex_worst_quadratic(L=L, mu=mu)
    assert np.all(p.x0 != 0)
    x = p.x0.copy()
    t = 2 / (L + mu)
    for _ in range(5):
        x_new = x - t * p.grad(x)
        assert_allclose(np.linalg.norm(x_new) / np.linalg.norm(x), (L - mu) / (L + mu), rtol=1e-12)
        x = x_new
    x = p.x0.copy()
    for _ in range(5):
        x = x - p.grad(x) / L
    assert_allclose(x[0], (1 - mu / L) ** 5)


# ---------------------------------------------------------------------------- bad input
def test_bad_input():
    with pytest.raises(ValueError, match="d must be >= 1"):
        P.quadratic(0)
    with pytest.raises(ValueError, match="mu must be <= L"):
        P.quadratic(3, L=1.0, mu=2.0)
    with pytest.raises(ValueError, match="spectrum"):
        P.quadratic(3, spectrum="cubic")
    with pytest.raises(ValueError, match="mu > 0"):
        P.quadratic(3, mu=0.0, spectrum="log")
    with pytest.raises(ValueError, match="lam must be positive"):
        P.ridge(5, 2, -1.0)
    with pytest.raises(ValueError, match="sparsity"):
        P.lasso(5, 3, sparsity=2.0)
    with pytest.raises(ValueError, match="y must take values"):
        P.logistic(np.ones((3, 2)), np.array([0.0, 1.0, 1.0]), lam=0.1)
    with pytest.raises(ValueError, match="k must be <= d"):
        P.nesterov_worst_case(3, k=4)
    with pytest.raises(TypeError, match="N must be an integer"):
        P.huber_worst_case(2.5)
    with pytest.raises(ValueError, match="mu must be in"):
        P.Problem(
            name="x", value=sum, grad=np.asarray, L=1.0, mu=2.0, x0=[0.0], x_star=[0.0], f_star=0.0
        )
