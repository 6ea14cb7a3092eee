"""Strongly convex quadratics with a prescribed spectrum and a closed-form solution."""

from __future__ import annotations

import numpy as np

from optlab._validate import check_choice, check_int, check_nonnegative, check_positive

from .base import Problem

__all__ = ["quadratic", "quadratic_from_matrix", "random_orthogonal"]


def random_orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed ``d x d`` orthogonal matrix (QR of a Gaussian, signs fixed)."""
    G = rng.standard_normal((d, d))
    Q, R = np.linalg.qr(G)
    return Q * np.sign(np.diag(R))


def quadratic_from_matrix(
    Q: np.ndarray,
    b: np.ndarray,
    *,
    name: str,
    L: float,
    mu: float,
    x_star: np.ndarray,
    x0: np.ndarray | None = None,
    seed: int | None = None,
    params: dict | None = None,
) -> Problem:
    """``f(x) = x^T Q x / 2 - b^T x`` with a known minimizer ``x_star`` (``Q x_star = b``)."""
    Q = np.asarray(Q, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    x_star = np.asarray(x_star, dtype=np.float64)

    def value(x):
        x = np.asarray(x)
        return float(0.5 * x @ (Q @ x) - b @ x)

    def grad(x):
        return Q @ np.asarray(x) - b

    def hess(x):
        return Q.copy()

    def hvp(x, v):
        return Q @ np.asarray(v)

    return Problem(
        name=name,
        value=value,
        grad=grad,
        hess=hess,
        hvp=hvp,
        L=L,
        mu=mu,
        x0=np.zeros_like(b) if x0 is None else x0,
        x_star=x_star,
        f_star=value(x_star),
        seed=seed,
        params=dict(params or {}),
        data={"Q": Q, "b": b},
    )


def quadratic(
    d: int,
    *,
    L: float = 1.0,
    mu: float = 0.01,
    spectrum: str = "uniform",
    seed: int = 0,
) -> Problem:
    r"""Random quadratic with a prescribed spectrum.

    .. math:: f(x) = \tfrac12 x^\top Q x - b^\top x,\qquad Q = U \operatorname{diag}(\lambda) U^\top,

    with ``U`` Haar-random orthogonal and eigenvalues ``lambda`` in ``[mu, L]``:

    - ``"uniform"``: ``linspace(mu, L, d)``;
    - ``"log"``: ``geomspace(mu, L, d)`` (needs ``mu > 0``);
    - ``"two_point"``: ``floor(d/2)`` eigenvalues equal to ``mu`` and the rest ``L``.

    The extremes ``mu`` and ``L`` are both attained, so ``L`` and ``mu`` are the
    exact smoothness and strong-convexity constants. A Gaussian ``x_star`` is drawn
    (projected onto the range of ``Q`` when ``mu = 0``, so it is the minimum-norm
    minimizer) and ``b = Q x_star``; ``f_star = -b^T x_star / 2``; ``x0 = 0``.

    Examples
    --------
    >>> from problems import quadratic
    >>> p = quadratic(5, L=2.0, mu=0.1, seed=1)
    >>> float(abs(p.f_star - p.value(p.x_star))) < 1e-12
    True
    """
    d = check_int(d, "d", minimum=1)
    L = check_positive(L, "L")
    mu = check_nonnegative(mu, "mu")
    spectrum = check_choice(spectrum, "spectrum", ("uniform", "log", "two_point"))
    if mu > L:
        raise ValueError(f"mu must be <= L, got mu={mu}, L={L}")
    if d == 1 and mu != L:
        raise ValueError("d must be >= 2 to attain both mu and L (or take mu == L)")
    if spectrum == "log" and mu == 0:
        raise ValueError("spectrum='log' needs mu > 0")
    if spectrum == "uniform":
        lam = np.linspace(mu, L, d)
    elif spectrum == "log":
        lam = np.geomspace(mu, L, d)
    else:
        lam = np.full(d, L)
        lam[: d // 2] = mu
    rng = np.random.default_rng(seed)
    U = random_orthogonal(d, rng)
    Q = (U * lam) @ U.T
    Q = 0.5 * (Q + Q.T)
    z = rng.standard_normal(d)
    z[lam == 0] = 0.0  # x_star in range(Q): the minimum-norm minimizer
    x_star = U @ z
    b = U @ (lam * z)
    return quadratic_from_matrix(
        Q,
        b,
        name=f"quadratic(d={d}, spectrum={spectrum})",
        L=L,
        mu=mu,
        x_star=x_star,
        seed=seed,
        params={"d": d, "L": L, "mu": mu, "spectrum": spectrum, "eigenvalues": lam},
    )
