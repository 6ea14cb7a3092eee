"""Worst-case instances for first-order methods, with closed-form solutions."""

from __future__ import annotations

import math

import numpy as np

from optlab._validate import check_int, check_positive

from ._quadratic import quadratic_from_matrix
from .base import Problem

__all__ = ["huber_worst_case", "nesterov_worst_case", "strongly_convex_worst_quadratic"]


def huber_worst_case(N: int, *, L: float = 1.0, R: float = 1.0, d: int = 1) -> Problem:
    r"""Drori & Teboulle's worst-case function for gradient descent with step ``1/L``.

    With threshold :math:`\eta = R / (2N + 1)`, the Huber function of the norm

    .. math::

        f(x) = \begin{cases}
            \frac{L}{2}\|x\|^2 & \|x\| \le \eta,\\
            L\eta\|x\| - \frac{L\eta^2}{2} & \|x\| > \eta,
        \end{cases}

    is convex and ``L``-smooth, minimized at ``x_star = 0`` with ``f_star = 0``.
    Started at ``x0 = R e_1`` (so ``||x0 - x_star|| = R``), gradient descent with
    step ``1/L`` stays on the linear piece and moves by exactly ``eta`` per step:
    ``x_k = (R - k eta) e_1``, so after ``N`` steps ``||x_N|| = R (N+1)/(2N+1)``
    and

    .. math:: f(x_N) - f_\star = \frac{L R^2}{4N + 2},

    which equals the tight worst-case bound of Drori & Teboulle (2014), Theorem 3.1
    (step ``h = 1``: ``L R^2 / (4Nh + 2)``), the value PEPit computes for GD.

    Parameters
    ----------
    N : int
        Number of gradient steps the instance is built for (``>= 1``).
    L, R : float
        Smoothness constant and initial distance.
    d : int
        Dimension (the function depends on ``||x||`` only).

    References
    ----------
    Y. Drori, M. Teboulle (2014). Performance of first-order methods for smooth
    convex minimization: a novel approach. Math. Program. 145, 451-482.
    arXiv:1206.3209.

    Examples
    --------
    >>> from problems import huber_worst_case
    >>> p = huber_worst_case(10)
    >>> x = p.x0.copy()
    >>> for _ in range(10):
    ...     x = x - p.grad(x) / p.L
    >>> abs(p.gap(x) - 1 / 42) < 1e-15
    True
    """
    N = check_int(N, "N", minimum=1)
    L = check_positive(L, "L")
    R = check_positive(R, "R")
    d = check_int(d, "d", minimum=1)
    eta = R / (2 * N + 1)

    def value(x):
        r = float(np.linalg.norm(x))
        return 0.5 * L * r * r if r <= eta else L * eta * r - 0.5 * L * eta * eta

    def grad(x):
        x = np.asarray(x, dtype=np.float64)
        r = float(np.linalg.norm(x))
        return L * x if r <= eta else (L * eta / r) * x

    def hess(x):
        x = np.asarray(x, dtype=np.float64)
        r = float(np.linalg.norm(x))
        eye = np.eye(x.size)
        if r <= eta:
            return L * eye
        u = x / r
        return (L * eta / r) * (eye - np.outer(u, u))

    def hvp(x, v):
        return hess(x) @ np.asarray(v)

    x0 = np.zeros(d)
    x0[0] = R
    return Problem(
        name=f"huber_worst_case(N={N}, d={d})",
        value=value,
        grad=grad,
        hess=hess,
        hvp=hvp,
        L=L,
        mu=0.0,
        x0=x0,
        x_star=np.zeros(d),
        f_star=0.0,
        params={"N": N, "L": L, "R": R, "eta": eta, "gd_gap": L * R * R / (4 * N + 2)},
    )


def nesterov_worst_case(d: int, *, L: float = 1.0, k: int | None = None) -> Problem:
    r"""Nesterov's "worst function in the world" for first-order methods.

    .. math::

        f_k(x) = \frac{L}{4}\Big(\tfrac12\big[x_1^2 + \sum_{i=1}^{k-1}(x_i - x_{i+1})^2
                 + x_k^2\big] - x_1\Big) = \frac{L}{4}\big(\tfrac12 x^\top A_k x - x_1\big),

    with ``A_k`` the ``k x k`` tridiagonal matrix ``tridiag(-1, 2, -1)`` padded with
    zeros to ``d x d`` (``k = d`` by default). Its minimizer is
    ``x_star_i = 1 - i/(k+1)`` for ``i <= k`` and ``0`` beyond, with
    ``f_star = (L/8)(-1 + 1/(k+1))``; ``x0 = 0``.

    ``L`` is the class constant: the Hessian ``(L/4) A_k`` has eigenvalues
    ``(L/2)(1 - cos(j pi/(k+1)))`` in ``(0, L)``. ``mu`` is reported as ``0`` (the
    function is used for the convex class ``F_L^{1,1}``); the exact smallest
    eigenvalue is in ``params["lambda_min"]``. Any method whose iterates lie in
    ``x0 + span{grad f(x_0), ..., grad f(x_{j-1})}`` has ``x_j`` supported on the
    first ``j`` coordinates, which gives the lower bound
    ``f(x_j) - f_star >= 3 L ||x0 - x_star||^2 / (32 (j+1)^2)`` for ``k = 2j + 1``.

    References
    ----------
    Y. Nesterov (2004). Introductory Lectures on Convex Optimization, Section 2.1.2
    (the function ``f_k`` and Theorem 2.1.7).

    Examples
    --------
    >>> from problems import nesterov_worst_case
    >>> p = nesterov_worst_case(5)
    >>> p.x_star.round(4).tolist()
    [0.8333, 0.6667, 0.5, 0.3333, 0.1667]
    """
    d = check_int(d, "d", minimum=1)
    L = check_positive(L, "L")
    k = d if k is None else check_int(k, "k", minimum=1)
    if k > d:
        raise ValueError(f"k must be <= d, got k={k}, d={d}")
    A = np.zeros((d, d))
    idx = np.arange(k)
    A[idx, idx] = 2.0
    A[idx[:-1], idx[:-1] + 1] = -1.0
    A[idx[:-1] + 1, idx[:-1]] = -1.0
    Q = (L / 4.0) * A
    b = np.zeros(d)
    b[0] = L / 4.0
    x_star = np.zeros(d)
    x_star[:k] = 1.0 - np.arange(1, k + 1) / (k + 1)
    lam = (L / 2.0) * (1.0 - np.cos(np.arange(1, k + 1) * math.pi / (k + 1)))
    p = quadratic_from_matrix(
        Q,
        b,
        name=f"nesterov_worst_case(d={d}, k={k})",
        L=L,
        mu=0.0,
        x_star=x_star,
        params={
            "d": d,
            "k": k,
            "L": L,
            "lambda_min": float(lam.min()) if k == d else 0.0,
            "lambda_max": float(lam.max()),
            "f_star_formula": (L / 8.0) * (-1.0 + 1.0 / (k + 1)),
        },
    )
    p.f_star = p.params["f_star_formula"]
    return p


def strongly_convex_worst_quadratic(*, L: float = 1.0, mu: float = 0.1) -> Problem:
    r"""The 2-D quadratic ``f(x) = (mu x_1^2 + L x_2^2) / 2`` that makes GD's linear rate tight.

    ``x_star = 0``, ``f_star = 0``, ``x0 = (1, 1)`` so both eigen-directions are
    excited. Gradient descent ``x_{k+1} = x_k - t grad f(x_k)`` multiplies the
    two coordinates by ``1 - t mu`` and ``1 - t L``, hence

    - step ``1/L``: ``||x_k - x_star|| / ||x_0 - x_star|| -> (1 - mu/L)^k`` (the
      ``x_1`` mode, exactly ``(1 - mu/L)^k`` for that coordinate);
    - step ``2/(L+mu)``: both modes contract by exactly ``(L-mu)/(L+mu)`` per step,
      the tight rate of Nesterov (2004), Theorem 2.1.15.

    Examples
    --------
    >>> from problems import strongly_convex_worst_quadratic
    >>> p = strongly_convex_worst_quadratic(L=1.0, mu=0.25)
    >>> x = p.x0 - 2 / 1.25 * p.grad(p.x0)
    >>> (abs(x) / abs(p.x0)).round(12).tolist()
    [0.6, 0.6]
    """
    L = check_positive(L, "L")
    mu = check_positive(mu, "mu")
    if mu > L:
        raise ValueError(f"mu must be <= L, got mu={mu}, L={L}")
    return quadratic_from_matrix(
        np.diag([mu, L]),
        np.zeros(2),
        name="strongly_convex_worst_quadratic",
        L=L,
        mu=mu,
        x_star=np.zeros(2),
        x0=np.ones(2),
        params={"L": L, "mu": mu, "rate_1_over_L": 1 - mu / L, "rate_opt": (L - mu) / (L + mu)},
    )
