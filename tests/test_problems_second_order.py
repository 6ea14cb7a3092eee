"""Tests for the second-order problems: ill-conditioned logistic, softmax, non-convex.

Derivatives against central finite differences (and scipy's Rosenbrock), Hessian
approximations for positive definiteness and their documented Loewner bounds at
random points, solutions by their optimality residual and against independent
solvers (scikit-learn, scipy's trust-exact), stationary points by gradient norm
and Hessian inertia.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import problems as P
from problems._paths import missing_data_reason, shared_data_dir

SHARED = shared_data_dir()
NO_MNIST = None
if SHARED is None or not (SHARED / "mnist-t10k-images-idx3-ubyte.gz").is_file():
    NO_MNIST = missing_data_reason() + " (MNIST test images)"


@pytest.fixture(scope="module", autouse=True)
def _tmp_cache(tmp_path_factory):
    """Solutions are cached in a temporary folder, not the repository's .cache/."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPTLAB_CACHE", str(tmp_path_factory.mktemp("problems-cache")))
        yield


def _mnist():
    if NO_MNIST:
        pytest.skip(NO_MNIST)
    return P.softmax_mnist(n=300, pooling=7, lam=1e-2, seed=1, data_home=SHARED, download=False)


def _mushrooms():
    if SHARED is None:
        pytest.skip(missing_data_reason())
    return P.logistic_mushrooms(lam=1e-3, data_home=SHARED, download=False)


FACTORIES = {
    "logistic_regression": lambda: P.logistic_regression(40, 4, lam=0.05, seed=0),
    "logistic_synthetic": lambda: P.logistic_synthetic(200, 12, lam=1e-3, seed=0),
    "logistic_mushrooms": _mushrooms,
    "softmax_regression": lambda: P.softmax_regression(60, 3, 4, lam=0.02, seed=0),
    "softmax_mnist": _mnist,
    "rosenbrock-2": lambda: P.rosenbrock(2),
    "rosenbrock-6": lambda: P.rosenbrock(6),
    "rosenbrock-a": lambda: P.rosenbrock(5, a=0.5, b=20.0),
    "strict_saddle": lambda: P.strict_saddle(),
    "strict_saddle-4": lambda: P.strict_saddle(4, k=2),
    "nonconvex_logistic": lambda: P.nonconvex_logistic_regression(),
}
LOGISTIC = ["logistic_regression", "logistic_synthetic", "logistic_mushrooms"]
SOFTMAX = ["softmax_regression", "softmax_mnist"]
CONVEX = LOGISTIC + SOFTMAX
NONCONVEX = ["rosenbrock-2", "rosenbrock-6", "rosenbrock-a", "strict_saddle", "strict_saddle-4",
             "nonconvex_logistic"]  # fmt: skip
SMALL = [k for k in FACTORIES if k != "logistic_mushrooms"]  # cheap enough for dense FD

_built: dict[str, P.Problem] = {}


def _get(name: str) -> P.Problem:
    if name not in _built:
        _built[name] = FACTORIES[name]()
    return _built[name]


def _points(p: P.Problem, k: int = 3, seed: int = 5) -> list[np.ndarray]:
    """Random points around x_star (inside the box where the constants hold)."""
    rng = np.random.default_rng(seed)
    scale = max(1.0, float(np.linalg.norm(p.x0 - p.x_star)))
    R = p.params.get("box")
    pts = []
    for _ in range(k):
        x = p.x_star + scale * rng.standard_normal(p.dim) / np.sqrt(p.dim)
        if R is not None:
            x = np.clip(x, -0.95 * R, 0.95 * R)
        pts.append(x)
    return pts


def _fd_grad(f, x, h=1e-6):
    E = np.eye(x.size) * h
    return np.array([(f(x + e) - f(x - e)) / (2 * h) for e in E])


def _fd_jac(F, x, h=1e-6):
    E = np.eye(x.size) * h
    return np.stack([(F(x + e) - F(x - e)) / (2 * h) for e in E], axis=1)


def _loewner_min(M) -> float:
    return float(np.linalg.eigvalsh((M + M.T) / 2)[0])


# ---------------------------------------------------------------------------- oracles
@pytest.mark.parametrize("name", SMALL)
def test_derivatives_match_finite_differences(name):
    p = _get(name)
    rng = np.random.default_rng(1)
    for x in _points(p, k=2):
        g = p.grad(x)
        assert g.shape == (p.dim,)
        assert_allclose(g, _fd_grad(p.value, x), rtol=1e-6, atol=1e-7 * max(1.0, np.abs(g).max()))
        H = p.hess(x)
        assert H.shape == (p.dim, p.dim)
        assert_allclose(H, H.T, atol=1e-14 * max(1.0, np.abs(H).max()))
        assert_allclose(H, _fd_jac(p.grad, x), atol=1e-6 * max(1.0, np.abs(H).max()))
        v = rng.standard_normal(p.dim)
        Hv = H @ v
        assert_allclose(p.hvp(x, v), Hv, rtol=1e-11, atol=1e-12 * np.abs(Hv).max())


def test_rosenbrock_matches_scipy():
    so = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(0)
    for d in (2, 5, 30):
        p = P.rosenbrock(d)
        for _ in range(3):
            x = rng.uniform(-2, 2, d)
            assert_allclose(p.value(x), so.rosen(x), rtol=1e-14)
            assert_allclose(p.grad(x), so.rosen_der(x), rtol=1e-13, atol=1e-12)
            assert_allclose(p.hess(x), so.rosen_hess(x), rtol=1e-13, atol=1e-12)
            v = rng.standard_normal(d)
            assert_allclose(p.hvp(x, v), so.rosen_hess_prod(x, v), rtol=1e-12, atol=1e-11)


@pytest.mark.parametrize("name", ["logistic_synthetic", "softmax_regression", "nonconvex_logistic"])
def test_grad_i_is_the_finite_sum(name):
    p = _get(name)
    x = _points(p, k=1)[0]
    n = p.n_samples
    assert_allclose(p.grad_i(x, np.arange(n)), p.grad(x), rtol=1e-10, atol=1e-14)
    idx = np.array([0, 3, 7])
    single = np.mean([p.grad_i(x, [i]) for i in idx], axis=0)
    assert_allclose(p.grad_i(x, idx), single, rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------------------- approximations
@pytest.mark.parametrize("name", CONVEX)
def test_hess_approx_psd_and_bounds(name):
    p = _get(name)
    assert set(p.hess_approx) == {"gauss_newton", "fisher", "bohning"}
    lam = p.params["lam"]
    rng = np.random.default_rng(2)
    pts = _points(p, k=2) + [p.x0, 5 * rng.standard_normal(p.dim)]  # incl. large margins
    B0 = p.hess_approx["bohning"](p.x0)
    for x in pts:
        H = p.hess(x)
        scale = max(1.0, float(np.abs(B0).max()))
        for key, approx in p.hess_approx.items():
            M = approx(x)
            assert M.shape == H.shape
            assert_allclose(M, M.T, atol=1e-13 * scale)
            assert _loewner_min(M) >= lam * (1 - 1e-8), key  # PSD part + lam I
        # documented bounds: hess <= gauss_newton, hess <= bohning (Loewner)
        assert _loewner_min(p.hess_approx["gauss_newton"](x) - H) >= -1e-12 * scale
        assert _loewner_min(p.hess_approx["bohning"](x) - H) >= -1e-12 * scale
        assert_allclose(p.hess_approx["bohning"](x), B0)  # constant
    # L is the largest eigenvalue of the Bohning bound
    assert_allclose(np.linalg.eigvalsh(B0)[-1], p.L, rtol=1e-10)
    saved = B0.copy()
    B0[0, 0] += 1.0  # callers get a copy
    assert_array_equal(p.hess_approx["bohning"](p.x0), saved)


@pytest.mark.parametrize("name", ["logistic_regression", "logistic_synthetic"])
def test_logistic_approx_identities(name):
    p = _get(name)
    lam = p.params["lam"]
    I = np.eye(p.dim)
    for x in _points(p, k=2):
        H, GN, F = p.hess(x), p.hess_approx["gauss_newton"](x), p.hess_approx["fisher"](x)
        assert_allclose(GN, H + F - lam * I, atol=1e-13 * np.abs(GN).max())
        # Fisher from the per-sample gradients (grad_i includes lam x: remove it)
        G = np.stack([p.grad_i(x, [i]) - lam * x for i in range(p.n_samples)])
        assert_allclose(F, G.T @ G / p.n_samples + lam * I, rtol=1e-10, atol=1e-14)
    z = np.zeros(p.dim)  # at 0 every margin is 0: Fisher = Hessian = Bohning
    assert_allclose(p.hess_approx["fisher"](z), p.hess(z), rtol=1e-12)
    assert_allclose(p.hess_approx["bohning"](z), p.hess(z), rtol=1e-12)


@pytest.mark.parametrize("name", SOFTMAX)
def test_softmax_approx_structure(name):
    p = _get(name)
    lam, K, q = p.params["lam"], p.params["K"], p.params["p"]
    x = _points(p, k=1)[0]
    GN = p.hess_approx["gauss_newton"](x)
    off = GN.copy()
    for k in range(K):
        off[k * q : (k + 1) * q, k * q : (k + 1) * q] = 0.0
    assert_array_equal(off, 0.0)  # block diagonal over classes
    G = np.stack([p.grad_i(x, [i]) - lam * x for i in range(p.n_samples)])
    F = p.hess_approx["fisher"](x)
    assert_allclose(F, G.T @ G / p.n_samples + lam * np.eye(p.dim), rtol=1e-10, atol=1e-14)
    # hess <= GN: the gap is (1/n) sum_i (p_i p_i^T) (x) a_i a_i^T
    A = p.data["A"]
    Z = A @ x.reshape(K, q).T
    Pr = np.exp(Z - Z.max(axis=1, keepdims=True))
    Pr /= Pr.sum(axis=1, keepdims=True)
    M = (Pr[:, :, None] * A[:, None, :]).reshape(p.n_samples, -1)
    assert_allclose(GN - p.hess(x), M.T @ M / p.n_samples, atol=1e-12 * np.abs(GN).max())


# ---------------------------------------------------------------------------- constants
@pytest.mark.parametrize("name", CONVEX + NONCONVEX)
def test_curvature_within_L_and_mu(name):
    p = _get(name)
    if p.dim > 500:
        pytest.skip("dense eigenvalues of a large Hessian")
    for x in _points(p, k=3) + [p.x_star, p.x0]:
        ev = np.linalg.eigvalsh(p.hess(x))
        assert ev[-1] <= p.L * (1 + 1e-12), (ev[-1], p.L)
        assert ev[0] >= p.mu - 1e-10 * p.L, (ev[0], p.mu)
    if name in SOFTMAX:  # mu = lam is attained (the loss is flat along 1 (x) v)
        ev = np.linalg.eigvalsh(p.hess(p.x_star))
        assert_allclose(ev[0], p.mu, rtol=1e-8)
    assert p.L <= (p.L_max or p.L) * (1 + 1e-12)


@pytest.mark.parametrize("name", NONCONVEX)
def test_hessian_lipschitz_constant(name):
    p = _get(name)
    L_H = p.params["hess_lipschitz"]
    R = p.params["box"]
    rng = np.random.default_rng(4)
    worst = 0.0
    for _ in range(30):
        x, z = _points(p, k=2, seed=int(rng.integers(1 << 30)))
        if R is None:
            x = x + rng.standard_normal(p.dim) * 3
        ratio = np.linalg.norm(p.hess(x) - p.hess(z), 2) / np.linalg.norm(x - z)
        worst = max(worst, ratio)
    assert 0 < worst <= L_H


# ---------------------------------------------------------------------------- solutions
@pytest.mark.parametrize("name", CONVEX + NONCONVEX)
def test_x_star_is_stationary(name):
    p = _get(name)
    scale = max(1.0, float(np.abs(p.grad(p.x0)).max()))
    assert p.residual(p.x_star) <= 1e-11 * scale, p.residual(p.x_star)
    assert_allclose(p.f_star, p.value(p.x_star), rtol=1e-14, atol=1e-15)
    for x in _points(p, k=2) + [p.x0]:
        assert p.value(x) >= p.f_star - 1e-12
    if name in NONCONVEX:
        assert np.linalg.eigvalsh(p.hess(p.x_star))[0] > 0  # a strict local minimizer


@pytest.mark.parametrize("name", ["softmax_regression", "softmax_mnist"])
def test_softmax_agrees_with_sklearn(name):
    lm = pytest.importorskip("sklearn.linear_model")
    p = _get(name)
    A, c, lam, n, K = p.data["A"], p.data["labels"], p.params["lam"], p.n_samples, p.params["K"]
    # sklearn: C sum_i CE_i + ||W||_F^2 / 2  ==  n C f(W) with lam = 1/(n C); all K classes
    sk = lm.LogisticRegression(C=1.0 / (n * lam), fit_intercept=False, tol=1e-12, max_iter=10_000)
    sk.fit(A, c)
    assert sk.coef_.shape == (K, p.params["p"])
    assert_allclose(p.x_star, sk.coef_.ravel(), rtol=1e-5, atol=1e-6)
    assert p.value(sk.coef_.ravel()) >= p.f_star - 1e-15
    # the minimizer has zero class sum (lam sum_k w_k = 0 at the optimum)
    assert_allclose(p.x_star.reshape(K, -1).sum(axis=0), 0.0, atol=1e-12)


def test_logistic_synthetic_instance_and_reference():
    p = _get("logistic_synthetic")
    A, y, lam = p.data["A"], p.data["y"], p.params["lam"]
    assert p.dim == 12 and p.n_samples == 200 and p.mu == lam
    s = p.params["scales"]
    assert_allclose([s[0], s[-1]], p.params["col_scale"])
    assert_allclose(np.diff(np.log(s)), np.log(3.0 / 0.05) / 11)  # log-spaced columns
    # independent reference: scipy trust-exact (+ polish) on the same data
    q = P.logistic(A, y, lam=lam, solver="trust-exact", use_cache=False)
    assert_allclose(p.x_star, q.x_star, rtol=1e-10, atol=1e-12)
    res = P.newton_cholesky(p.value, p.grad, p.hess, p.x0)
    assert res["grad_norm"] < 1e-13 and res["nit"] < 20


# ---------------------------------------------------------------------------- stationary points
def _check_recorded(p: P.Problem, key: str, index_range):
    for info in p.params[key]:
        x = info["x"]
        assert np.linalg.norm(p.grad(x)) <= 1e-10
        ev = np.linalg.eigvalsh(p.hess(x))
        assert int(np.sum(ev < 0)) == info["index"] and info["index"] in index_range
        assert_allclose(ev[0], info["lambda_min"], rtol=1e-8, atol=1e-14)
        assert_allclose(p.value(x), info["f"], rtol=1e-13)
        assert info["f"] >= p.f_star - 1e-12
        assert ev[0] >= p.mu - 1e-10 * p.L
        if info["index"] > 0:  # a genuine saddle: f decreases along the negative eigenvector
            v = np.linalg.eigh(p.hess(x))[1][:, 0]
            for t in (1e-3, -1e-3):
                assert p.value(x + t * v) < info["f"]


@pytest.mark.parametrize("name", NONCONVEX)
def test_recorded_stationary_points(name):
    p = _get(name)
    _check_recorded(p, "saddles", range(1, p.dim))
    _check_recorded(p, "local_minima", [0])
    assert p.params["convex"] is False


def test_rosenbrock_landscape():
    for d in (2, 3):
        p = P.rosenbrock(d)
        assert p.params["saddles"] == [] and p.params["local_minima"] == []
    for d in (4, 6, 12):
        p = P.rosenbrock(d)
        assert_array_equal(p.x_star, np.ones(d))
        assert p.f_star == 0.0 and p.params["x_star_certified"]
        (loc,) = p.params["local_minima"]
        (sad,) = p.params["saddles"]
        assert loc["x"][0] < -0.7 and 3.7 < loc["f"] < 4.0  # near (-1, 1, ..., 1)
        assert sad["index"] == 1 and sad["lambda_min"] < -0.5
    assert P.rosenbrock(4).params["local_minima"][0]["f"] == pytest.approx(3.70143, abs=1e-5)
    assert P.rosenbrock(20).params["local_minima"][0]["f"] == pytest.approx(3.98662, abs=1e-5)
    p = P.rosenbrock(5, a=0.5, b=20.0)
    assert not p.params["x_star_certified"] and p.params["saddles"] == []


def test_strict_saddle_closed_form():
    p = P.strict_saddle()
    x = np.array([0.3, -0.7])
    assert_allclose(p.value(x), 0.3**2 / 2 + 0.7**4 / 4 - 0.7**2 / 2, rtol=1e-15)
    origin = p.params["saddles"][0]
    assert_array_equal(origin["x"], [0.0, 0.0])
    assert origin["index"] == 1 and origin["lambda_min"] == -1.0
    assert_array_equal(p.x_star, [0.0, 1.0]) and p.f_star == -0.25 and p.mu == -1.0
    q = P.strict_saddle(5, k=3)
    assert len(q.params["saddles"]) == 3**3 - 2**3
    assert q.params["saddles"][0]["index"] == 3 and q.f_star == -0.75
    assert len(P.strict_saddle(6, k=5).params["saddles"]) == 1  # only the origin listed


def test_nonconvex_logistic_instance():
    p = _get("nonconvex_logistic")
    alpha, lam = p.params["alpha"], p.params["lam"]
    assert p.mu == lam - alpha / 2 < 0
    assert not p.params["x_star_certified"]
    assert len(p.params["saddles"]) == 5 and len(p.params["local_minima"]) == 4
    assert sorted(s["index"] for s in p.params["saddles"]) == [1, 1, 1, 1, 2]
    assert p.f_star == pytest.approx(0.681332, abs=1e-6)
    # the origin is not a saddle: Hessian there is A^T A/(4n) + (2 alpha + lam) I > 0
    z = np.zeros(p.dim)
    A = p.data["A"]
    assert_allclose(p.hess(z), A.T @ A / (4 * p.n_samples) + (2 * alpha + lam) * np.eye(p.dim),
                    rtol=1e-12)  # fmt: skip
    # regularizer constants: max r'' = 2 (t = 0), min r'' = -1/2 (|t| = 1), max |r'''|
    t = np.linspace(-6, 6, 200_001)
    r2 = (2 - 6 * t**2) / (1 + t**2) ** 3
    r3 = 24 * t * (t**2 - 1) / (1 + t**2) ** 4
    assert_allclose([r2.max(), r2.min()], [2.0, -0.5], atol=1e-8)
    assert_allclose(np.abs(r3).max(), P._nonconvex.REG_THIRD, rtol=1e-6)
    s = 1 / (1 + np.exp(-t))
    assert_allclose(np.abs(s * (1 - s) * (1 - 2 * s)).max(), P._nonconvex.LOGISTIC_THIRD, rtol=1e-6)


def test_find_stationary_point_and_classify():
    p = P.strict_saddle(3, k=2)
    x = P.find_stationary_point(p.grad, p.hess, np.array([0.2, 0.1, 0.9]))
    assert_allclose(x, [0.0, 0.0, 1.0], atol=1e-12)
    info = P.classify_stationary_point(p, None, x)
    assert info["index"] == 1 and info["grad_norm"] <= 1e-12
    assert P.classify_stationary_point(p, None, np.array([0.0, 1 / math.sqrt(3), 1.0])) is None


# ---------------------------------------------------------------------------- MNIST features
def test_mnist_features_pooling_and_pca():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    for pool, p in ((1, 784), (2, 196), (4, 49), (7, 16)):
        F = P.mnist_features(X, pooling=pool)
        assert F.shape == (40, p)
        assert_allclose(F.mean(axis=1), X.reshape(40, -1).mean(axis=1) / 255, rtol=1e-12)
    F = P.mnist_features(X, pooling=2, pca=5)
    C = np.cov(F, rowvar=False)
    assert_allclose(C - np.diag(np.diag(C)), 0.0, atol=1e-10)  # uncorrelated scores
    assert np.all(np.diff(np.diag(C)) <= 1e-12)  # decreasing variance
    with pytest.raises(ValueError, match="pooling must divide 28"):
        P.mnist_features(X, pooling=3)
    with pytest.raises(ValueError, match="pca must be <="):
        P.mnist_features(X, pooling=7, pca=17)


def test_softmax_mnist_instance():
    p = _get("softmax_mnist")
    assert p.params["K"] == 10 and p.params["p"] == 16 and p.dim == 160
    assert p.n_samples == 300 and p.seed == 1
    assert p.data["A"].min() >= 0 and p.data["A"].max() <= 1


# ---------------------------------------------------------------------------- cache
def test_searches_and_solves_come_from_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTLAB_CACHE", str(tmp_path))
    a = P.softmax_regression(30, 2, 3, lam=0.1, seed=3)
    b = P.nonconvex_logistic_regression(60, 3, seed=3, n_starts=8)
    c = P.logistic_synthetic(40, 3, seed=3)
    assert len(list(tmp_path.glob("*.npz"))) == 3

    def boom(*args, **kwargs):
        raise AssertionError("solver called although the solution is cached")

    monkeypatch.setattr("problems._softmax.newton_cholesky", boom)
    monkeypatch.setattr("problems._nonconvex._ncl_search", boom)
    monkeypatch.setattr("problems._logistic._solve_newton", boom)
    assert_array_equal(P.softmax_regression(30, 2, 3, lam=0.1, seed=3).x_star, a.x_star)
    assert_array_equal(P.nonconvex_logistic_regression(60, 3, seed=3, n_starts=8).x_star, b.x_star)
    assert_array_equal(P.logistic_synthetic(40, 3, seed=3).x_star, c.x_star)


# ---------------------------------------------------------------------------- bad input
def test_bad_input():
    A = np.ones((4, 2))
    with pytest.raises(ValueError, match="lam must be positive"):
        P.softmax(A, np.array([0, 1, 0, 1]), lam=0.0)
    with pytest.raises(ValueError, match="labels must"):
        P.softmax(A, np.array([0, 1, 0]), lam=0.1)
    with pytest.raises(ValueError, match="labels must"):
        P.softmax(A, np.array([0, -1, 0, 1]), lam=0.1)
    with pytest.raises(ValueError, match="labels must"):
        P.softmax(A, np.array([0, 3, 0, 1]), lam=0.1, n_classes=3)
    with pytest.raises(ValueError, match="finite"):
        P.softmax(np.full((4, 2), np.nan), np.array([0, 1, 0, 1]), lam=0.1)
    with pytest.raises(ValueError, match="K must be >= 2"):
        P.softmax_regression(10, 2, 1)
    with pytest.raises(ValueError, match="d must be >= 2"):
        P.rosenbrock(1)
    with pytest.raises(ValueError, match="k must be <= d"):
        P.strict_saddle(2, k=3)
    with pytest.raises(ValueError, match="alpha must be positive"):
        P.nonconvex_logistic(A, np.array([1.0, -1, 1, -1]), alpha=0.0)
    with pytest.raises(ValueError, match="y must take values"):
        P.nonconvex_logistic(A, np.array([1.0, 0, 1, -1]), alpha=0.1)
    with pytest.raises(ValueError, match="col_scale"):
        P.logistic_synthetic(10, 2, col_scale=(-1.0, 2.0))
    with pytest.raises(TypeError, match="col_scale"):
        P.logistic_synthetic(10, 2, col_scale=3.0)
    with pytest.raises(ValueError, match="solver must be"):
        P.logistic(A, np.array([1.0, -1, 1, -1]), lam=0.1, solver="lbfgs")


def test_problem_accepts_nonconvex_mu():
    common = dict(name="x", value=sum, grad=np.asarray, L=1.0, x0=[0.0], x_star=[0.0], f_star=0.0)
    assert P.Problem(mu=-0.5, **common).kappa == math.inf
    assert math.isnan(P.Problem(mu=math.nan, **common).mu)
    assert P.Problem(mu=0.5, **common).hess_approx == {}
    with pytest.raises(ValueError, match="mu must be in"):
        P.Problem(mu=-2.0, **common)
