r"""Non-convex benchmarks with verified stationary points: Rosenbrock, a strict saddle,
logistic regression with a non-convex regularizer.

Every generator records what is known about the landscape in ``params``:

- ``"saddles"``, ``"local_minima"``: lists of dicts ``{"x", "f", "index",
  "lambda_min", "grad_norm"}`` (``index`` = number of negative Hessian
  eigenvalues). Each entry is *verified* at construction: ``||grad f(x)||`` at the
  rounding floor (``<= 1e-10``) and the Hessian's eigenvalues bounded away from 0
  with the stated signs. Entries found numerically come from Newton's method on
  ``grad f = 0`` (:func:`find_stationary_point`), which converges quadratically to
  a nondegenerate stationary point, so a true stationary point lies within
  rounding of the recorded one. ``local_minima`` excludes ``x_star``.
- ``"hess_lipschitz"``: a Lipschitz constant of the Hessian (spectral norm), for
  the cubic-regularized methods, and ``"box"``: the radius ``R`` of the region
  ``||x||_inf <= R`` where ``L``, ``mu`` and ``hess_lipschitz`` hold (``None`` when
  they hold everywhere).
- ``"x_star_certified"``: whether ``x_star`` is proven to be a global minimizer.

``mu`` is a lower bound on the Hessian's smallest eigenvalue (negative), as the
:class:`~problems.base.Problem` convention for non-convex problems asks.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla
import scipy.optimize as so
from scipy.special import expit

from optlab._validate import check_int, check_nonnegative, check_positive

from ._cache import cached
from ._logistic import _gram, newton_cholesky
from .base import Problem

__all__ = [
    "rosenbrock",
    "strict_saddle",
    "nonconvex_logistic",
    "nonconvex_logistic_regression",
    "find_stationary_point",
    "classify_stationary_point",
]

#: max |l'''| of the logistic loss l(t) = log(1 + e^-t): s(1-s)(1-2s) at s = 1/2 - sqrt(3)/6.
LOGISTIC_THIRD = 1.0 / (6.0 * math.sqrt(3.0))
_T2 = 1.0 - 2.0 / math.sqrt(5.0)  # t^2 where |r'''| peaks for r(t) = t^2/(1+t^2)
#: max |r'''| of r(t) = t^2 / (1 + t^2): r''' = 24 t (t^2 - 1) / (1 + t^2)^4, peak at t^2 = 1 - 2/sqrt(5).
REG_THIRD = 24.0 * math.sqrt(_T2) * (1.0 - _T2) / (1.0 + _T2) ** 4


# ------------------------------------------------------------------------ stationary points
def find_stationary_point(grad, hess, x0, *, tol: float = 1e-12, max_iter: int = 100, solve=None):
    r"""Newton's method on ``grad f(x) = 0``, damped on ``||grad f||``.

    Step :math:`s = -\nabla^2 f(x)^{-1}\nabla f(x)` (any index: minima, saddles and
    maxima alike), halved until ``||grad f(x + t s)|| < (1 - 1e-4 t) ||grad f(x)||``.
    Returns the point once ``||grad f|| <= tol`` or no step reduces it (the rounding
    floor), or ``None`` when the Hessian is singular or the iteration stalls above
    ``100 tol``. ``solve(x, g)`` replaces the dense solve (e.g. a banded one).
    """
    x = np.array(x0, dtype=np.float64)
    g = np.asarray(grad(x))
    gn = float(np.linalg.norm(g))
    for _ in range(max_iter):
        if gn <= tol:
            return x
        try:
            s = solve(x, g) if solve is not None else np.linalg.solve(hess(x), g)
        except (np.linalg.LinAlgError, ValueError):
            return None
        if not np.all(np.isfinite(s)):
            return None
        t = 1.0
        while t > 1e-10:
            x_new = x - t * s
            g_new = np.asarray(grad(x_new))
            gn_new = float(np.linalg.norm(g_new))
            if gn_new < (1 - 1e-4 * t) * gn:
                break
            t *= 0.5
        else:
            break
        x, g, gn = x_new, g_new, gn_new
    return x if gn <= 100 * tol else None


def classify_stationary_point(
    problem_or_value, hess, x, grad=None, *, eig_tol: float = 1e-8, eigvals=None
):
    """Verified description ``{"x", "f", "index", "lambda_min", "grad_norm"}`` of a point,
    or ``None`` when its Hessian has an eigenvalue within ``eig_tol * max|eig|`` of 0
    (degenerate: not classified). ``problem_or_value`` is a Problem (then ``hess`` and
    ``grad`` are taken from it) or ``f``; ``eigvals(x)`` replaces ``eigvalsh(hess(x))``."""
    if isinstance(problem_or_value, Problem):
        value, hess, grad = problem_or_value.value, problem_or_value.hess, problem_or_value.grad
    else:
        value = problem_or_value
    x = np.asarray(x, dtype=np.float64)
    ev = np.sort(eigvals(x)) if eigvals is not None else np.linalg.eigvalsh(hess(x))
    scale = max(float(np.abs(ev).max()), 1e-300)
    if float(np.abs(ev).min()) <= eig_tol * scale:
        return None
    out = {
        "x": x,
        "f": float(value(x)),
        "index": int(np.sum(ev < 0)),
        "lambda_min": float(ev[0]),
    }
    if grad is not None:
        out["grad_norm"] = float(np.linalg.norm(grad(x)))
    return out


def _dedupe(points, tol):
    out = []
    for x in points:
        if x is not None and not any(
            np.linalg.norm(x - y) <= tol * (1 + np.linalg.norm(y)) for y in out
        ):
            out.append(x)
    return out


# ------------------------------------------------------------------------ Rosenbrock
def _rosen_parts(a, b):
    def value(x):
        return float(np.sum(b * (x[1:] - x[:-1] ** 2) ** 2 + (a - x[:-1]) ** 2))

    def grad(x):
        r = x[1:] - x[:-1] ** 2
        g = np.zeros_like(x, dtype=np.float64)
        g[:-1] = -4 * b * x[:-1] * r - 2 * (a - x[:-1])
        g[1:] += 2 * b * r
        return g

    def banded(x):
        """Hessian in LAPACK banded form (rows: super-, main, sub-diagonal)."""
        d = x.size
        ab = np.zeros((3, d))
        main = np.zeros(d)
        main[:-1] = 12 * b * x[:-1] ** 2 - 4 * b * x[1:] + 2
        main[1:] += 2 * b
        off = -4 * b * x[:-1]
        ab[0, 1:] = off
        ab[1] = main
        ab[2, :-1] = off
        return ab

    def hess(x):
        ab = banded(x)
        return np.diag(ab[1]) + np.diag(ab[0, 1:], 1) + np.diag(ab[2, :-1], -1)

    def hvp(x, v):
        ab = banded(x)
        out = ab[1] * v
        out[:-1] += ab[0, 1:] * v[1:]
        out[1:] += ab[2, :-1] * v[:-1]
        return out

    def solve(x, g):
        return sla.solve_banded((1, 1), banded(x), g)

    def eigvals(x):
        ab = banded(x)
        return sla.eigvalsh_tridiagonal(ab[1], ab[0, 1:])

    return value, grad, hess, hvp, solve, eigvals


def _rosen_saddle_seed(d: int) -> np.ndarray | None:
    """Start for Newton's method near the index-1 saddle found by multi-start (a=1, b=100)."""
    if d == 4:
        return np.array([-0.656, 0.443, 0.204, 0.042])
    if d == 5:
        return np.array([-0.5575, 0.3247, 0.1166, 0.0234, 0.0005])
    if d >= 6:
        return np.r_[[-0.5554, 0.3224, 0.1152, 0.0235], np.full(d - 6, 0.0102), [0.0100, 0.0001]]
    return None


def rosenbrock(d: int, *, a: float = 1.0, b: float = 100.0, box: float = 2.0) -> Problem:
    r"""Chained (multidimensional) Rosenbrock function.

    .. math:: f(x) = \sum_{i=1}^{d-1} \big[b\,(x_{i+1} - x_i^2)^2 + (a - x_i)^2\big]

    (``scipy.optimize.rosen`` for ``a = 1, b = 100``). For ``a = 1`` the global
    minimizer is ``x* = (1, ..., 1)``, ``f* = 0`` (``f >= 0``; certified). For other
    ``a`` the chain ``x_{i+1} = x_i^2``, ``x_i = a`` is inconsistent and ``x_star`` is
    the minimizer scipy's ``trust-exact`` finds from ``(a, ..., a)`` (not certified).

    **Stationary points** (``a = 1, b = 100``; verified numerically, see the module
    docstring): multi-start Newton on ``grad f = 0`` (3000 uniform starts in
    ``[-2, 2]^d`` for ``d <= 7``, 1000 for ``d = 8, 10, 20``) finds only ``x*`` for
    ``d = 2, 3``, and for every ``d >= 4`` tried exactly two more: a local minimizer
    near ``(-1, 1, ..., 1)`` (``f ~ 3.70`` at ``d = 4``, ``-> 3.9866`` as ``d``
    grows) and a saddle of index 1 near ``(-0.56, 0.32, 0.12, 0.02, 0.01, ...)``
    (``lambda_min ~ -2.8``), in agreement with Shang & Qiu (2006) and Kok & Sandrock
    (2009), who report two minimizers for ``4 <= d <= 30`` and many saddles. Each
    is recomputed here at construction (Newton from a seed, banded solves, O(d) per
    step) and recorded in ``params`` only if it verifies; other saddles exist
    (Kok & Sandrock) but are not recorded.

    **Constants** on the box ``||x||_inf <= box`` (Gershgorin bounds on the
    tridiagonal Hessian): ``L = 12 b R^2 + 12 b R + 2 b + 2``,
    ``mu = 2 - 12 b R`` (a lower bound on the smallest eigenvalue),
    ``hess_lipschitz = 24 b R + 12 b``. Neither holds globally (the Hessian grows
    like ``x^2``). ``x0 = (-1.2, 1, -1.2, 1, ...)``, the classical start.

    References
    ----------
    H. H. Rosenbrock, Comput. J. 3 (1960); Y.-W. Shang, Y.-H. Qiu, "A note on the
    extended Rosenbrock function", Evol. Comput. 14 (2006); S. Kok, C. Sandrock,
    "Locating and characterizing the stationary points of the extended Rosenbrock
    function", Evol. Comput. 17 (2009).

    Examples
    --------
    >>> from problems import rosenbrock
    >>> p = rosenbrock(6)
    >>> p.f_star, len(p.params["saddles"]), len(p.params["local_minima"])
    (0.0, 1, 1)
    >>> p.params["saddles"][0]["index"]
    1
    """
    d = check_int(d, "d", minimum=2)
    a = float(a)
    b = check_positive(b, "b")
    R = check_positive(box, "box")
    value, grad, hess, hvp, solve, eigvals = _rosen_parts(a, b)
    if a == 1.0:
        x_star, certified = np.ones(d), True
    else:
        res = so.minimize(
            value, np.full(d, a), jac=grad, hess=hess, method="trust-exact", options={"gtol": 1e-12}
        )
        x_star = find_stationary_point(grad, hess, res.x, solve=solve)
        x_star = res.x if x_star is None else x_star
        certified = False
    seeds = []
    if d >= 4:
        seeds.append(np.r_[-1.0, np.ones(d - 1)])
        seed = _rosen_saddle_seed(d)
        if seed is not None and a == 1.0 and b == 100.0:
            seeds.append(seed)
    found = _dedupe([find_stationary_point(grad, hess, s, solve=solve) for s in seeds], 1e-8)
    saddles, minima = [], []
    for x in found:
        if np.linalg.norm(x - x_star) <= 1e-8 * (1 + np.linalg.norm(x_star)):
            continue
        info = classify_stationary_point(value, hess, x, grad, eigvals=eigvals)
        if info is None or info["grad_norm"] > 1e-10:
            continue
        (minima if info["index"] == 0 else saddles).append(info)
    x0 = np.where(np.arange(d) % 2 == 0, -1.2, 1.0)
    return Problem(
        name=f"rosenbrock(d={d}, a={a:g}, b={b:g})",
        value=value,
        grad=grad,
        hess=hess,
        hvp=hvp,
        L=12 * b * R**2 + 12 * b * R + 2 * b + 2,
        mu=2 - 12 * b * R,
        x0=x0,
        x_star=x_star,
        f_star=value(x_star),
        params={
            "a": a,
            "b": b,
            "box": R,
            "hess_lipschitz": 24 * b * R + 12 * b,
            "saddles": saddles,
            "local_minima": minima,
            "x_star_certified": certified,
            "convex": False,
        },
    )


# ------------------------------------------------------------------------ strict saddle
def strict_saddle(d: int = 2, *, k: int = 1, box: float = 2.0) -> Problem:
    r"""Quadratic plus double wells: a strict saddle at the origin.

    .. math:: f(x) = \frac12\sum_{i < d-k} x_i^2 + \sum_{i \ge d-k}\Big(\frac{x_i^4}{4}
       - \frac{x_i^2}{2}\Big),

    for ``d = 2, k = 1``: :math:`f(x, y) = x^2/2 + y^4/4 - y^2/2`. Stationary points:
    the first ``d - k`` coordinates 0 and each of the last ``k`` in ``{-1, 0, 1}``
    (closed form). The ``2^k`` points with all of them ``+-1`` are the global
    minimizers, ``f* = -k/4`` (``x_star`` takes all ``+1``); every other one is a
    strict saddle whose index is its number of zeros among the last ``k``
    (Hessian ``Diag(1, ..., 1, 3x_i^2 - 1)``), in particular the origin, of index
    ``k`` with ``lambda_min = -1``. ``params["saddles"]`` lists them all when
    ``k <= 3`` (else only the origin).

    Constants: ``mu = -1`` (exact, everywhere); on the box ``||x||_inf <= box``:
    ``L = max(1, 3 R^2 - 1)`` and ``hess_lipschitz = 6 R``. ``x0 = (1, ..., 1,
    1e-3, ..., 1e-3)``: gradient descent from there passes close to the origin
    before escaping along the double-well coordinates.

    Examples
    --------
    >>> from problems import strict_saddle
    >>> p = strict_saddle()
    >>> p.f_star, p.params["saddles"][0]["index"], p.params["saddles"][0]["lambda_min"]
    (-0.25, 1, -1.0)
    """
    d = check_int(d, "d", minimum=1)
    k = check_int(k, "k", minimum=1)
    if k > d:
        raise ValueError(f"k must be <= d, got k={k}, d={d}")
    R = check_positive(box, "box")
    q = d - k

    def value(x):
        u = x[q:]
        return float(0.5 * np.sum(x[:q] ** 2) + np.sum(u**4 / 4 - u**2 / 2))

    def grad(x):
        g = np.array(x, dtype=np.float64)
        g[q:] = x[q:] ** 3 - x[q:]
        return g

    def curv(x):
        c = np.ones(d)
        c[q:] = 3 * x[q:] ** 2 - 1
        return c

    def hess(x):
        return np.diag(curv(x))

    def hvp(x, v):
        return curv(x) * v

    x_star = np.r_[np.zeros(q), np.ones(k)]
    if k <= 3:
        combos = np.array(np.meshgrid(*([[-1.0, 0.0, 1.0]] * k), indexing="ij")).reshape(k, -1).T
        combos = [c for c in combos if np.any(c == 0)]
        combos.sort(key=lambda c: (-int(np.sum(c == 0)), tuple(c)))  # the origin first
    else:
        combos = [np.zeros(k)]
    saddles = [classify_stationary_point(value, hess, np.r_[np.zeros(q), c], grad) for c in combos]
    return Problem(
        name=f"strict_saddle(d={d}, k={k})",
        value=value,
        grad=grad,
        hess=hess,
        hvp=hvp,
        L=max(1.0, 3 * R**2 - 1),
        mu=-1.0,
        x0=np.r_[np.ones(q), np.full(k, 1e-3)],
        x_star=x_star,
        f_star=-k / 4,
        params={
            "k": k,
            "box": R,
            "hess_lipschitz": 6 * R,
            "saddles": saddles,
            "local_minima": [],
            "x_star_certified": True,
            "convex": False,
        },
    )


# ------------------------------------------------------------------------ non-convex logistic
def _ncl_oracles(A, y, alpha, lam):
    n, d = A.shape

    def value(x):
        z = y * (A @ x)
        return float(
            np.logaddexp(0.0, -z).mean() + alpha * np.sum(x**2 / (1 + x**2)) + 0.5 * lam * (x @ x)
        )

    def grad(x):
        z = y * (A @ x)
        return A.T @ (-y * expit(-z)) / n + alpha * 2 * x / (1 + x**2) ** 2 + lam * x

    def reg_curv(x):
        return alpha * (2 - 6 * x**2) / (1 + x**2) ** 3 + lam

    def hess(x):
        z = y * (A @ x)
        w = expit(z) * expit(-z) / n
        H = A.T @ (A * w[:, None])
        H[np.diag_indices(d)] += reg_curv(x)
        return H

    def hvp(x, v):
        z = y * (A @ x)
        w = expit(z) * expit(-z) / n
        return A.T @ (w * (A @ v)) + reg_curv(x) * v

    def grad_i(x, idx):
        idx = np.atleast_1d(np.asarray(idx))
        Ai, yi = A[idx], y[idx]
        z = yi * (Ai @ x)
        return Ai.T @ (-yi * expit(-z)) / idx.size + alpha * 2 * x / (1 + x**2) ** 2 + lam * x

    return value, grad, hess, hvp, grad_i


def _ncl_search(A, y, alpha, lam, n_starts, search_seed) -> dict[str, np.ndarray]:
    """Multi-start Newton on grad f = 0; returns the stationary points found, stacked."""
    n, d = A.shape
    value, grad, hess, _, _ = _ncl_oracles(A, y, alpha, lam)
    rng = np.random.default_rng(search_seed)
    # the minimizer of the logistic part (+ the lam term when lam > 0; else a tiny ridge)
    lv, lg, lh, _, _ = _ncl_oracles(A, y, 0.0, max(lam, 1e-8))
    x_log = newton_cholesky(lv, lg, lh, np.zeros(d), max_iter=100)["x_star"]
    seeds = [np.zeros(d), x_log]
    seeds += [np.where(rng.random(d) < 0.5, x_log, 0.0) for _ in range(n_starts)]
    seeds += [x_log * rng.random(d) for _ in range(n_starts // 4)]
    seeds += [rng.standard_normal(d) * (1 + np.abs(x_log)) for _ in range(n_starts // 4)]
    with np.errstate(over="ignore", invalid="ignore"):  # far-flung Newton trials are dropped
        pts = _dedupe([find_stationary_point(grad, hess, s) for s in seeds], 1e-7)
        mins = [x for x in pts if np.linalg.eigvalsh(hess(x))[0] > 0]
        # saddles tend to sit between minima: start from midpoints of pairs
        mids = [(u + v) / 2 for i, u in enumerate(mins) for v in mins[i + 1 :]][: 4 * n_starts]
        pts = _dedupe(pts + [find_stationary_point(grad, hess, s) for s in mids], 1e-7)
    return {"points": np.array(pts).reshape(len(pts), d), "x_logistic": x_log}


def nonconvex_logistic(
    A,
    y,
    *,
    alpha: float,
    lam: float = 0.0,
    n_starts: int = 128,
    search_seed: int = 0,
    name: str = "nonconvex_logistic",
    seed: int | None = None,
    params=None,
    use_cache: bool = True,
) -> Problem:
    r"""Logistic regression with the non-convex regularizer :math:`\sum_i x_i^2/(1 + x_i^2)`.

    .. math:: f(x) = \frac1n \sum_{i=1}^n \log(1 + e^{-y_i a_i^\top x})
       + \alpha \sum_{j=1}^d \frac{x_j^2}{1 + x_j^2} + \frac{\lambda}{2}\|x\|^2,

    the standard non-convex benchmark of the variance-reduction literature (e.g.
    Antoniadis, Gijbels & Nikolova 2011; Reddi et al. 2016), here with an optional
    ridge term. With :math:`r(t) = t^2/(1+t^2)`: :math:`r'' = (2 - 6t^2)/(1+t^2)^3 \in
    [-1/2, 2]` (minimum at :math:`|t| = 1`), so **the origin is never a saddle**
    (``r`` is convex near 0 and the Hessian there is ``A^T A/(4n) + (2 alpha + lam) I``);
    saddles appear between a minimizer near 0 and one far out in some
    coordinate, where the regularizer's negative curvature beats the loss's.

    Constants (global): ``L = ||A||^2/(4n) + lam + 2 alpha``, ``mu = lam - alpha/2``
    (lower curvature bound, negative when ``alpha > 2 lam``),
    ``L_max = max_i ||a_i||^2/4 + lam + 2 alpha``, and
    ``hess_lipschitz = c3 min(max_i ||a_i|| ||A||^2/n, mean_i ||a_i||^3) + alpha c_r``
    with :math:`c_3 = \max|\ell'''| = 1/(6\sqrt3)` and
    :math:`c_r = \max|r'''| = 4.67` (:data:`REG_THIRD`).

    **Stationary points.** Found by multi-start Newton on ``grad f = 0``
    (:func:`find_stationary_point`) from ``n_starts`` seeds built from the logistic
    minimizer (random coordinate subsets of it, random fractions of it, random
    points), then from midpoints of pairs of minimizers found; each is verified and
    classified (see the module docstring) and the search is cached on disk.
    ``x_star`` is the lowest local minimizer found: **not certified global**
    (``params["x_star_certified"] = False``); ``params["local_minima"]`` holds the
    others, ``params["saddles"]`` the saddles (possibly empty for a given instance:
    check it). Requires data that are not linearly separable when ``lam = 0``
    (else ``f`` has no minimizer).
    """
    alpha = check_positive(alpha, "alpha")
    lam = check_nonnegative(lam, "lam")
    n_starts = check_int(n_starts, "n_starts", minimum=1)
    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if A.ndim != 2 or y.shape != (A.shape[0],):
        raise ValueError(f"A must be n x d and y of length n, got {A.shape} and {y.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError("A must be finite (no NaN or inf)")
    if not np.all(np.abs(y) == 1):
        raise ValueError("y must take values in {-1, +1}")
    n, d = A.shape
    value, grad, hess, hvp, grad_i = _ncl_oracles(A, y, alpha, lam)
    found = cached(
        "nonconvex-logistic-v1",
        {"alpha": alpha, "lam": lam, "n_starts": n_starts, "search_seed": search_seed},
        {"A": A, "y": y},
        lambda: _ncl_search(A, y, alpha, lam, n_starts, search_seed),
        use_cache=use_cache,
    )
    infos = [classify_stationary_point(value, hess, x, grad) for x in found["points"]]
    infos = [i for i in infos if i is not None and i["grad_norm"] <= 1e-10]
    minima = sorted((i for i in infos if i["index"] == 0), key=lambda i: i["f"])
    saddles = sorted((i for i in infos if 0 < i["index"] < d), key=lambda i: i["f"])
    if not minima:
        raise RuntimeError(f"{name}: the multi-start search found no local minimizer")
    x_star = minima[0]["x"]
    row_norm = np.sqrt(np.einsum("ij,ij->i", A, A))
    norm_sq = (
        float(np.linalg.eigvalsh(_gram(A))[-1])
        if d <= n
        else float(np.linalg.eigvalsh(A @ A.T)[-1])
    )
    h_lip = LOGISTIC_THIRD * min(row_norm.max() * norm_sq / n, float(np.mean(row_norm**3)))
    return Problem(
        name=name,
        value=value,
        grad=grad,
        hess=hess,
        hvp=hvp,
        L=norm_sq / (4 * n) + lam + 2 * alpha,
        mu=lam - alpha / 2,
        x0=np.zeros(d),
        x_star=x_star,
        f_star=value(x_star),
        seed=seed,
        params={
            "alpha": alpha,
            "lam": lam,
            "n": n,
            "d": d,
            "box": None,
            "hess_lipschitz": h_lip + alpha * REG_THIRD,
            "saddles": saddles,
            "local_minima": minima[1:],
            "x_logistic": found["x_logistic"],
            "x_star_certified": False,
            "convex": False,
            "n_starts": n_starts,
            **(params or {}),
        },
        data={"A": A, "y": y},
        n_samples=n,
        grad_i=grad_i,
        L_max=float(row_norm.max() ** 2) / 4 + lam + 2 * alpha,
    )


def nonconvex_logistic_regression(
    n: int = 200,
    d: int = 10,
    *,
    alpha: float = 0.1,
    lam: float = 0.0,
    seed: int = 0,
    feature_scale: float = 0.2,
    flip: float = 0.1,
    n_starts: int = 128,
    use_cache: bool = True,
) -> Problem:
    r"""Synthetic instance of :func:`nonconvex_logistic` with saddles.

    ``a_i = feature_scale * z_i`` with :math:`z_i \sim N(0, I_d)`,
    :math:`y_i = \mathrm{sign}(z_i^\top x_{\rm true})`, :math:`x_{\rm true} \sim
    N(0, I/d)`, labels flipped with probability ``flip``. Small features make the
    loss flat (curvature ``~ feature_scale^2 / 4``) and put its minimizer far out
    (``~ 1 / feature_scale``), so the regularizer's negative curvature
    (``-alpha/2``) wins in between and creates saddles. The default instance
    (``n = 200, d = 10, alpha = 0.1, seed = 0``): the search finds five local
    minimizers (``x_star`` the one near the origin, ``f = 0.68133``; the others at
    ``f = 0.68164, 0.70376, 0.71241, 0.73954``, each far out in one or two
    coordinates) and five saddles (``f = 0.70106, 0.71331, 0.71404, 0.74300`` of
    index 1 with ``lambda_min`` from ``-0.024`` to ``-0.008``, and ``f = 0.73411`` of
    index 2), the same sets with 128, 256 and 512 starts (~1 s for 128, cached).

    Examples
    --------
    >>> from problems import nonconvex_logistic_regression
    >>> p = nonconvex_logistic_regression(use_cache=False)
    >>> len(p.params["saddles"]) >= 1, p.mu < 0
    (True, True)
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    feature_scale = check_positive(feature_scale, "feature_scale")
    flip = check_nonnegative(flip, "flip")
    if flip > 1:
        raise ValueError(f"flip must be a probability, got {flip}")
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    x_true = rng.standard_normal(d) / np.sqrt(d)
    y = np.where(Z @ x_true >= 0, 1.0, -1.0)
    y[rng.random(n) < flip] *= -1.0
    return nonconvex_logistic(
        feature_scale * Z,
        y,
        alpha=alpha,
        lam=lam,
        n_starts=n_starts,
        name=f"nonconvex_logistic_regression(n={n}, d={d}, alpha={alpha:g}, lam={lam:g})",
        seed=seed,
        params={"flip": flip, "feature_scale": feature_scale, "x_true": x_true},
        use_cache=use_cache,
    )
