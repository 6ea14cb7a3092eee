"""Least squares, ridge regression and the lasso on Gaussian designs."""

from __future__ import annotations

import logging

import numpy as np

from optlab._validate import check_int, check_nonnegative, check_positive

from ._cache import cached
from .base import Problem

__all__ = ["least_squares", "ridge", "lasso", "soft_threshold"]

logger = logging.getLogger("optlab")


def _gaussian_design(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((n, d))


def _gram_extremes(A: np.ndarray) -> tuple[float, float]:
    """Largest and smallest eigenvalue of ``A^T A / n`` (the smallest is 0 when n < d)."""
    n, d = A.shape
    s = np.linalg.svd(A, compute_uv=False)
    lmax = float(s[0] ** 2 / n)
    lmin = float(s[-1] ** 2 / n) if n >= d else 0.0
    return lmax, lmin


def _squares_problem(
    A: np.ndarray,
    b: np.ndarray,
    lam: float,
    *,
    name: str,
    seed,
    params,
    x_star,
    g=None,
    prox=None,
) -> Problem:
    """``f(x) = ||Ax - b||^2/(2n) + lam ||x||^2 / 2`` as a finite sum over rows (+ optional g)."""
    n, d = A.shape
    G = A.T @ A / n + lam * np.eye(d)

    def value(x):
        r = A @ x - b
        return float(r @ r / (2 * n) + 0.5 * lam * (x @ x))

    def grad(x):
        return A.T @ (A @ x - b) / n + lam * x

    def hess(x):
        return G.copy()

    def hvp(x, v):
        return A.T @ (A @ v) / n + lam * v

    def grad_i(x, idx):
        idx = np.atleast_1d(np.asarray(idx))
        Ai = A[idx]
        return Ai.T @ (Ai @ x - b[idx]) / idx.size + lam * x

    lmax, lmin = _gram_extremes(A)
    return Problem(
        name=name,
        value=value,
        grad=grad,
        hess=hess,
        hvp=hvp,
        L=lmax + lam,
        mu=lmin + lam,
        x0=np.zeros(d),
        x_star=x_star,
        f_star=value(x_star) + (g(x_star) if g is not None else 0.0),
        g=g,
        prox=prox,
        seed=seed,
        params=params,
        data={"A": A, "b": b},
        n_samples=n,
        grad_i=grad_i,
        L_max=float(np.max(np.einsum("ij,ij->i", A, A))) + lam,
    )


def least_squares(n: int, d: int, *, seed: int = 0, noise: float = 0.1) -> Problem:
    r"""Least squares ``f(x) = ||A x - b||^2 / (2n)`` on a Gaussian design.

    ``A`` has i.i.d. standard normal entries, ``b = A x_true + noise * e`` with
    ``x_true, e`` standard normal. ``L`` and ``mu`` are the extreme eigenvalues of
    ``A^T A / n`` (``mu = 0`` when ``n < d``); ``x_star`` is the (minimum-norm)
    least-squares solution from ``numpy.linalg.lstsq``. Finite sum with
    ``f_i(x) = (a_i^T x - b_i)^2 / 2``, ``L_max = max_i ||a_i||^2``.

    Examples
    --------
    >>> from problems import least_squares
    >>> p = least_squares(30, 5, seed=0)
    >>> p.residual(p.x_star) < 1e-12
    True
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    noise = check_nonnegative(noise, "noise")
    rng = np.random.default_rng(seed)
    A = _gaussian_design(n, d, rng)
    x_true = rng.standard_normal(d)
    b = A @ x_true + noise * rng.standard_normal(n)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    return _squares_problem(
        A,
        b,
        0.0,
        name=f"least_squares(n={n}, d={d})",
        seed=seed,
        params={"n": n, "d": d, "noise": noise, "x_true": x_true},
        x_star=x_star,
    )


def ridge(n: int, d: int, lam: float = 0.1, *, seed: int = 0, noise: float = 0.1) -> Problem:
    r"""Ridge regression ``f(x) = ||A x - b||^2 / (2n) + lam ||x||^2 / 2``.

    Same data as :func:`least_squares`. Closed form
    ``x_star = (A^T A / n + lam I)^{-1} A^T b / n``; ``L = lambda_max(A^T A/n) + lam``,
    ``mu = lambda_min(A^T A/n) + lam``. Finite sum with
    ``f_i(x) = (a_i^T x - b_i)^2/2 + lam ||x||^2/2``, ``L_max = max_i ||a_i||^2 + lam``.

    Examples
    --------
    >>> from problems import ridge
    >>> p = ridge(30, 5, 0.5, seed=0)
    >>> p.mu >= 0.5
    True
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    lam = check_positive(lam, "lam")
    noise = check_nonnegative(noise, "noise")
    rng = np.random.default_rng(seed)
    A = _gaussian_design(n, d, rng)
    x_true = rng.standard_normal(d)
    b = A @ x_true + noise * rng.standard_normal(n)
    x_star = np.linalg.solve(A.T @ A / n + lam * np.eye(d), A.T @ b / n)
    return _squares_problem(
        A,
        b,
        lam,
        name=f"ridge(n={n}, d={d}, lam={lam:g})",
        seed=seed,
        params={"n": n, "d": d, "lam": lam, "noise": noise, "x_true": x_true},
        x_star=x_star,
    )


def soft_threshold(v: np.ndarray, t: float) -> np.ndarray:
    """``sign(v) max(|v| - t, 0)``: the prox of ``t ||.||_1``."""
    v = np.asarray(v, dtype=np.float64)
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


def _solve_lasso(A: np.ndarray, b: np.ndarray, lam: float) -> dict[str, np.ndarray]:
    """cvxpy + Clarabel (tight tolerances), then an exact polish on the support.

    The polish solves the KKT system restricted to the support ``S`` and sign
    pattern ``s`` found by Clarabel, ``A_S^T (A_S x_S - b)/n + lam s = 0``, and keeps
    it only when it is consistent (same signs, ``|A_j^T r|/n <= lam`` off ``S``),
    which gives a solution accurate to rounding error.
    """
    import cvxpy as cp

    n, d = A.shape
    x = cp.Variable(d)
    obj = cp.sum_squares(A @ x - b) / (2 * n) + lam * cp.norm1(x)
    prob = cp.Problem(cp.Minimize(obj))
    prob.solve(
        solver=cp.CLARABEL,
        tol_gap_abs=1e-12,
        tol_gap_rel=1e-12,
        tol_feas=1e-12,
        tol_ktratio=1e-10,
        max_iter=500,
    )
    if x.value is None:
        raise RuntimeError(f"Clarabel failed on the lasso instance: status {prob.status}")
    xc = np.asarray(x.value, dtype=np.float64)
    polished = _polish_lasso(A, b, lam, xc)
    return {"x_star": xc if polished is None else polished, "polished": polished is not None}


def _polish_lasso(A, b, lam, x):
    n, d = A.shape
    scale = max(1.0, float(np.abs(x).max()))
    S = np.flatnonzero(np.abs(x) > 1e-7 * scale)
    if S.size == 0 or S.size > n:
        return None
    s = np.sign(x[S])
    AS = A[:, S]
    xs = np.linalg.lstsq(AS.T @ AS / n, AS.T @ b / n - lam * s, rcond=None)[0]
    if np.any(np.sign(xs) != s):
        logger.warning("lasso polish: sign pattern changed; keeping the Clarabel solution")
        return None
    out = np.zeros(d)
    out[S] = xs
    c = A.T @ (A @ out - b) / n
    off = np.setdiff1d(np.arange(d), S)
    if off.size and np.abs(c[off]).max() > lam * (1 + 1e-9):
        logger.warning("lasso polish: off-support KKT violated; keeping the Clarabel solution")
        return None
    return out


def lasso(
    n: int,
    d: int,
    *,
    lam: float | None = None,
    seed: int = 0,
    sparsity: float = 0.1,
    noise: float = 0.1,
    use_cache: bool = True,
) -> Problem:
    r"""Lasso ``F(x) = ||A x - b||^2 / (2n) + lam ||x||_1``.

    ``A`` standard Gaussian, ``b = A x_true + noise * e`` with ``x_true`` having
    ``max(1, round(sparsity * d))`` nonzero standard normal entries.
    ``lam`` defaults to ``0.1 * lam_max`` with ``lam_max = ||A^T b||_inf / n``
    (the smallest ``lam`` for which ``x_star = 0``). The smooth part is
    ``f = ||Ax - b||^2/(2n)`` (``value``/``grad``/``hess``), the nonsmooth part
    ``g = lam ||x||_1`` (``g``/``prox``, soft thresholding). ``L``, ``mu`` are the
    extreme eigenvalues of ``A^T A/n`` (``mu = 0`` when ``n < d``).

    ``x_star`` comes from cvxpy + Clarabel with tolerances 1e-12, polished on the
    support (see ``problems._least_squares._solve_lasso``), cached on disk (``problems/_cache.py``).

    Examples
    --------
    >>> from problems import lasso
    >>> p = lasso(40, 20, seed=0)
    >>> p.residual(p.x_star) < 1e-9
    True
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    noise = check_nonnegative(noise, "noise")
    sparsity = check_positive(sparsity, "sparsity")
    if sparsity > 1:
        raise ValueError(f"sparsity must be a fraction in (0, 1], got {sparsity}")
    rng = np.random.default_rng(seed)
    A = _gaussian_design(n, d, rng)
    k = max(1, round(sparsity * d))
    x_true = np.zeros(d)
    support = rng.choice(d, size=k, replace=False)
    x_true[support] = rng.standard_normal(k)
    b = A @ x_true + noise * rng.standard_normal(n)
    lam_max = float(np.abs(A.T @ b).max() / n)
    lam = 0.1 * lam_max if lam is None else check_positive(lam, "lam")

    sol = cached(
        "lasso-v1",
        {"lam": lam},
        {"A": A, "b": b},
        lambda: _solve_lasso(A, b, lam),
        use_cache=use_cache,
    )
    return _squares_problem(
        A,
        b,
        0.0,
        name=f"lasso(n={n}, d={d}, lam={lam:.4g})",
        seed=seed,
        params={
            "n": n,
            "d": d,
            "lam": lam,
            "lam_max": lam_max,
            "sparsity": sparsity,
            "noise": noise,
            "x_true": x_true,
            "polished": bool(sol["polished"]),
        },
        x_star=sol["x_star"],
        g=lambda x: lam * float(np.abs(np.asarray(x)).sum()),
        prox=lambda v, step: soft_threshold(v, step * lam),
    )
