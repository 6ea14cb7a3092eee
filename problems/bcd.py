"""Instances of Nutini, Laradji & Schmidt (JMLR 2022), Sec. 7 / Appendix, for block coordinate descent.

Every generator returns a :class:`~problems.base.Problem` whose ``data["objective"]`` is the
structured :mod:`optlab.bcd` objective (``Quadratic``, ``LeastSquares``, ``Logistic``) and whose
``params`` hold the nonsmooth part (``l1``, ``lower``) to pass to :func:`optlab.bcd.bcd`. The
solution comes from an independent solver, computed once and cached (``problems._cache``):

=================  ===========================================================  ==========================
generator          problem (recipe of the reference code's ``datasets.py``)     f*, x* from
=================  ===========================================================  ==========================
dataset_a          1/2 ||A x - b||^2, A 1000 x 10000 sparse (p = 10 log(m)/m)    min-norm solve (A A^T), dense
dataset_a_l1       dataset A + lam sum x, x >= 0, lam = 50000                    scikit-learn Lasso(positive)
dataset_b          sum log(1 + exp(-b_i a_i^T x)) + lam2/2 ||x||^2 (lam2 = 1)    scipy Newton-CG (hessp)
dataset_c          50-class softmax, A 1000 x 1000, + lam2/2 ||W||^2 (lam2 = 1)  scipy Newton-CG (hessp)
dataset_d          label propagation, 50 x 50 lattice, w = 1e5, 100 labels       scipy spsolve (SuperLU)
dataset_e          label propagation, two moons (2000), 5-NN graph, 100 labels   scipy spsolve (SuperLU)
logistic_mushrooms_bcd  LIBSVM mushrooms, sum-form logistic (lam = 1e-3 n)       problems.logistic_mushrooms
=================  ===========================================================  ==========================

Deviation: the paper's B and C have no L2 term; the data are separable (B: 1000 samples, 10000
features) or nearly so and f* is not attained, so ``lam2 = 1`` is added to both.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._cache import cached
from .base import Problem

__all__ = ["dataset_a", "dataset_a_l1", "dataset_b", "dataset_c", "dataset_d", "dataset_e", "lattice_graph",
           "logistic_mushrooms_bcd", "recipe_matrix"]


def recipe_matrix(m: int, n: int, rng: np.random.Generator) -> sp.csc_matrix:
    """``A = (randn + 1) diag(10 randn)``, each entry kept with probability ``10 log(m)/m``."""
    A = (rng.standard_normal((m, n)) + 1.0) * (10.0 * rng.standard_normal(n))[None, :]
    keep = rng.random((m, n)) < min(1.0, 10.0 * np.log(m) / m)
    return sp.csc_matrix(A * keep)


def _planted(n, rng):
    w = np.zeros(n)
    idx = rng.choice(n, max(1, n // 10), replace=False)
    w[idx] = rng.standard_normal(idx.size)
    return w


def _wrap(name, obj, f_star, x_star, *, seed, params, data, L=None, mu=0.0):
    from optlab.bcd._objectives import _State  # noqa: F401  (objective API)

    def value(x):
        st = obj.init_state(np.asarray(x, dtype=float))
        return obj.value(st)

    def grad(x):
        st = obj.init_state(np.asarray(x, dtype=float))
        return np.array(obj.grad(st))

    if L is None:
        L = float(obj.L_max_eig())
    data = dict(data)
    data["objective"] = obj
    return Problem(name=name, value=value, grad=grad, L=L, mu=mu, x0=np.zeros(obj.n),
                   x_star=x_star, f_star=f_star, seed=seed, params=params, data=data)


def dataset_a(*, m: int = 1000, n: int = 10000, seed: int = 1, use_cache: bool = True) -> Problem:
    """Data set A: sparse least squares ``1/2 ||A x - b||^2`` (underdetermined when n > m).

    ``b = A w + N(0, 1)`` with ``w`` 10% nonzero ``N(0, 1)``. ``x_star`` is the minimum-norm
    least-squares solution (``A^T (A A^T)^+ b``, dense), ``f_star`` its value (~0 when
    ``A`` has full row rank).
    """
    from optlab.bcd import LeastSquares

    rng = np.random.default_rng(seed)
    A = recipe_matrix(m, n, rng)
    b = A @ _planted(n, rng) + rng.standard_normal(m)

    def solve():
        Ad = A.toarray()
        if m <= n:
            z = np.linalg.lstsq(Ad @ Ad.T, b, rcond=1e-13)[0]
            x = Ad.T @ z
        else:
            x = np.linalg.lstsq(Ad, b, rcond=None)[0]
        r = Ad @ x - b
        return {"x": x, "f": 0.5 * float(r @ r)}

    sol = cached("bcd-dataset-a-v1", {"m": m, "n": n, "seed": seed}, {"A": A, "b": b}, solve,
                 use_cache=use_cache)
    obj = LeastSquares(A, b)
    return _wrap(f"dataset_a(m={m}, n={n})", obj, float(sol["f"]), sol["x"], seed=seed,
                 params={"m": m, "n": n, "l1": 0.0, "lower": None}, data={"A": A, "b": b})


def dataset_a_l1(*, m: int = 1000, n: int = 10000, lam: float = 50000.0, seed: int = 1,
                 use_cache: bool = True) -> Problem:
    """Data set A + L1: ``1/2 ||A x - b||^2 + lam sum_i x_i`` over ``x >= 0`` (lam = 50000).

    ``x_star``/``f_star``: scikit-learn ``Lasso(alpha=lam/m, positive=True,
    fit_intercept=False, tol=1e-14)`` (an independent cyclic CD), dense data, cached.
    ``params["support"]`` is ``supp(x_star)``.
    """
    from optlab.bcd import LeastSquares

    rng = np.random.default_rng(seed)
    A = recipe_matrix(m, n, rng)
    b = A @ _planted(n, rng) + rng.standard_normal(m)

    def solve():
        from sklearn.linear_model import Lasso

        est = Lasso(alpha=lam / m, positive=True, fit_intercept=False, tol=1e-14, max_iter=200000)
        est.fit(A.toarray(), b)
        x = est.coef_.copy()
        r = A @ x - b
        return {"x": x, "f": 0.5 * float(r @ r) + lam * float(x.sum()), "gap": est.dual_gap_ * m}

    sol = cached("bcd-dataset-a-l1-v1", {"m": m, "n": n, "lam": lam, "seed": seed}, {"A": A, "b": b},
                 solve, use_cache=use_cache)
    obj = LeastSquares(A, b)
    x = sol["x"]
    return _wrap(f"dataset_a_l1(m={m}, n={n}, lam={lam:g})", obj, float(sol["f"]), x, seed=seed,
                 params={"m": m, "n": n, "l1": lam, "lower": 0.0, "support": np.flatnonzero(x),
                         "sklearn_gap": float(sol["gap"])},
                 data={"A": A, "b": b})


def dataset_b(*, m: int = 1000, n: int = 10000, lam2: float = 1.0, seed: int = 1,
              use_cache: bool = True) -> Problem:
    """Data set B: logistic regression, labels ``sign(A w)`` with 10% flipped, plus ``lam2/2 ||x||^2``.

    ``x_star``: scipy ``Newton-CG`` (exact Hessian-vector products) to ``xtol = 1e-12``, cached.
    """
    from scipy.optimize import minimize
    from scipy.special import expit

    from optlab.bcd import Logistic

    rng = np.random.default_rng(seed)
    A = recipe_matrix(m, n, rng)
    y = np.sign(A @ _planted(n, rng))
    y[y == 0] = 1.0
    flip = rng.random(m) < 0.1
    y[flip] = -y[flip]
    Ar = sp.csr_matrix(A)

    def solve():
        def fg(x):
            z = y * (Ar @ x)
            f = float(np.logaddexp(0, -z).sum() + 0.5 * lam2 * x @ x)
            g = Ar.T @ (-y * expit(-z)) + lam2 * x
            return f, g

        def hp(x, v):
            s = expit(y * (Ar @ x))
            return Ar.T @ (s * (1 - s) * (Ar @ v)) + lam2 * v

        r = minimize(fg, np.zeros(n), jac=True, hessp=hp, method="Newton-CG",
                     options={"xtol": 1e-14, "maxiter": 200})
        return {"x": r.x, "f": fg(r.x)[0], "gnorm": float(np.linalg.norm(fg(r.x)[1]))}

    sol = cached("bcd-dataset-b-v1", {"m": m, "n": n, "lam2": lam2, "seed": seed}, {"A": A, "y": y},
                 solve, use_cache=use_cache)
    obj = Logistic(A, y, lam=lam2)
    return _wrap(f"dataset_b(m={m}, n={n})", obj, float(sol["f"]), sol["x"], seed=seed,
                 params={"m": m, "n": n, "l1": 0.0, "lower": None, "lam2": lam2,
                         "grad_norm_star": float(sol["gnorm"])},
                 data={"A": A, "y": y}, mu=lam2)


def dataset_c(*, m: int = 1000, d: int = 1000, n_classes: int = 50, lam2: float = 1.0, seed: int = 1,
              use_cache: bool = True) -> Problem:
    """Data set C: softmax regression, ``A`` from the recipe (m x d), labels
    ``argmax(A W + N(0, 1))`` with ``W`` Gaussian (d x 50), plus ``lam2/2 ||W||_F^2``.

    Variables: ``W`` flattened row-major (``d * n_classes`` coordinates). ``x_star``: scipy
    ``Newton-CG`` with exact Hessian-vector products, cached.
    """
    from scipy.optimize import minimize

    from optlab.bcd import Softmax

    rng = np.random.default_rng(seed)
    A = recipe_matrix(m, d, rng)
    Wt = rng.standard_normal((d, n_classes))
    y = np.argmax(A @ Wt + rng.standard_normal((m, n_classes)), axis=1).astype(np.int64)
    obj = Softmax(A, y, n_classes, lam=lam2)

    def solve():
        def fg(x):
            st = obj.init_state(x)
            return obj.value(st), np.array(obj.grad(st))

        def hp(x, v):
            return obj.hvp(obj.init_state(x), v)

        r = minimize(fg, np.zeros(obj.n), jac=True, hessp=hp, method="Newton-CG",
                     options={"xtol": 1e-14, "maxiter": 300})
        return {"x": r.x, "f": fg(r.x)[0], "gnorm": float(np.linalg.norm(fg(r.x)[1]))}

    sol = cached("bcd-dataset-c-v1", {"m": m, "d": d, "K": n_classes, "lam2": lam2, "seed": seed},
                 {"A": A, "y": y}, solve, use_cache=use_cache)
    return _wrap(f"dataset_c(m={m}, d={d}, K={n_classes})", obj, float(sol["f"]), sol["x"], seed=seed,
                 params={"m": m, "d": d, "n_classes": n_classes, "l1": 0.0, "lower": None, "lam2": lam2,
                         "grad_norm_star": float(sol["gnorm"])},
                 data={"A": A, "y": y}, L=float(obj.L_max_eig()), mu=lam2)


def lattice_graph(nrows: int, ncols: int, weight: float = 1.0) -> sp.csr_matrix:
    """Weighted adjacency of the ``nrows x ncols`` 4-neighbour lattice (node ``i = r + c nrows``)."""
    idx = np.arange(nrows * ncols).reshape(ncols, nrows).T
    r = np.r_[idx[:-1, :].ravel(), idx[:, :-1].ravel()]
    c = np.r_[idx[1:, :].ravel(), idx[:, 1:].ravel()]
    n = nrows * ncols
    W = sp.coo_matrix((np.full(r.size, weight), (r, c)), shape=(n, n))
    return sp.csr_matrix(W + W.T)


def _label_propagation(W: sp.csr_matrix, y: np.ndarray):
    """``f(x) = 1/2 sum_ij W_ij (x_i - x_j)^2`` over the unlabelled ``x`` (labels fixed):
    ``A = (D - W)[U, U]`` with ``D`` the full degrees, ``c = W[U, L] y_L`` (reference code)."""
    lab = y != 0
    U = np.flatnonzero(~lab)
    deg = np.asarray(W.sum(axis=1)).ravel()
    A = (sp.diags(deg) - W).tocsr()[U][:, U]
    c = np.asarray(W.tocsr()[U][:, np.flatnonzero(lab)] @ y[lab]).ravel()
    return sp.csc_matrix(A), c, U


def _lp_problem(name, W, y, seed, use_cache, extra):
    from scipy.sparse.linalg import eigsh, spsolve

    from optlab.bcd import Quadratic

    A, c, U = _label_propagation(W, y)
    # constant: the labelled-labelled edges, so that f equals 1/2 sum W_ij (x_i - x_j)^2
    lab = np.flatnonzero(y != 0)
    WL = W.tocsr()[lab][:, lab].tocoo()
    d = y[lab]
    const = 0.25 * float((WL.data * (d[WL.row] - d[WL.col]) ** 2).sum())
    const += 0.5 * float(np.asarray(W.tocsr()[U][:, lab].sum(axis=0)).ravel() @ (d * d))

    def solve():
        x = spsolve(A.tocsc(), c)
        lmax = eigsh(A, k=1, which="LA", return_eigenvectors=False, tol=1e-8)[0]
        lmin = eigsh(A, k=1, sigma=0, which="LM", return_eigenvectors=False, tol=1e-8)[0]
        return {"x": x, "f": -0.5 * float(c @ x) + const, "L": lmax, "mu": lmin}

    sol = cached(name.split("(")[0] + "-v1", {"seed": seed, **extra}, {"W": W, "y": y}, solve,
                 use_cache=use_cache)
    obj = Quadratic(A, c, const=const)
    return _wrap(name, obj, float(sol["f"]), sol["x"], seed=seed,
                 params={"l1": 0.0, "lower": None, "unlabelled": U, **extra},
                 data={"A": A, "c": c, "W": W, "y": y}, L=float(sol["L"]), mu=float(sol["mu"]))


def dataset_d(*, nrows: int = 50, ncols: int = 50, n_labels: int = 100, weight: float = 1e5,
              seed: int = 1, use_cache: bool = True) -> Problem:
    """Data set D: label propagation on a lattice (edge weights 1e5, labels ``N(0, 100)``)."""
    rng = np.random.default_rng(seed)
    W = lattice_graph(nrows, ncols, weight)
    n = nrows * ncols
    y = np.zeros(n)
    y[rng.choice(n, n_labels, replace=False)] = 10.0 * rng.standard_normal(n_labels)
    return _lp_problem(f"bcd-dataset-d(nrows={nrows}, ncols={ncols})", W, y, seed, use_cache,
                       {"nrows": nrows, "ncols": ncols, "n_labels": n_labels, "weight": weight})


def dataset_e(*, n_samples: int = 2000, n_neighbors: int = 5, n_labels: int = 100, seed: int = 1,
              use_cache: bool = True) -> Problem:
    """Data set E: label propagation on two moons with a symmetric 5-NN graph (weights 1).

    ``n_labels`` nodes get their class as label (+-1); labels are redrawn (same stream) until
    every connected component of the graph holds one, so that the system is positive definite.
    """
    from scipy.sparse.csgraph import connected_components
    from sklearn.datasets import make_moons
    from sklearn.neighbors import kneighbors_graph

    rng = np.random.default_rng(seed)
    X, cls = make_moons(n_samples=n_samples, noise=0.1, random_state=seed)
    K = kneighbors_graph(X, n_neighbors, mode="connectivity", include_self=False)
    W = sp.csr_matrix(K.maximum(K.T))
    W.data[:] = 1.0
    ncomp, comp = connected_components(W, directed=False)
    for _ in range(1000):
        idx = rng.choice(n_samples, n_labels, replace=False)
        if np.unique(comp[idx]).size == ncomp:
            break
    y = np.zeros(n_samples)
    y[idx] = 2.0 * cls[idx] - 1.0
    return _lp_problem(f"bcd-dataset-e(n={n_samples}, k={n_neighbors})", W, y, seed, use_cache,
                       {"n_samples": n_samples, "n_neighbors": n_neighbors, "n_labels": n_labels})


def logistic_mushrooms_bcd(*, lam: float = 1e-3, use_cache: bool = True) -> Problem:
    """LIBSVM mushrooms, sum-form logistic loss + ``(lam n)/2 ||x||^2`` (= n times the mean form of
    :func:`problems.logistic_mushrooms`, whose cached ``x_star`` is reused)."""
    from optlab.bcd import Logistic

    from ._logistic import logistic_mushrooms

    p = logistic_mushrooms(lam=lam, use_cache=use_cache)
    A, y = p.data["A"], p.data["y"]
    nsamp = A.shape[0]
    obj = Logistic(A, y, lam=lam * nsamp)
    return _wrap(f"logistic_mushrooms_bcd(lam={lam:g})", obj, nsamp * p.f_star, p.x_star, seed=None,
                 params={"l1": 0.0, "lower": None, "lam": lam}, data={"A": A, "y": y},
                 L=nsamp * p.L, mu=nsamp * p.mu)
