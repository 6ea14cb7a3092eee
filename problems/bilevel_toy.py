r"""Toy bilevel problems with known solutions for LV-HBA, sl-BAMM, MEHA and BDA.

All generators return a :class:`ToyBilevelProblem`, a
:class:`optlab.bilevel.base.BilevelProblem` (upper level ``f``, lower level ``g``) with
a few optional members the single-loop methods of this family use:

``hvp_f_yy(x, y, v)``, ``jvp_f_xy(x, y, v)``
    second-order products of the *upper* level (BDA's reverse mode and sl-BAMM's
    averaged multiplier need them; both fall back to finite differences of the
    gradients when absent).
``y_opt``
    the lower-level variable paired with ``x_star`` in the (optimistic) solution.
``h(x, y)``, ``h_vjp_x(x, y, lam)``, ``h_vjp_y(x, y, lam)``, ``n_constraints``,
``h_equality``, ``project_xy(x, y)``
    lower-level constraints :math:`h(x, y) \le 0` (``= 0`` when ``h_equality``)
    coupling x and y, their transposed Jacobians applied to a multiplier, and the
    Euclidean projection onto the joint feasible set
    :math:`C = \{(x, y): h(x, y) \le 0\}` (LV-HBA).

When the lower-level solution set :math:`S(x)` is not a singleton, ``y_star(x)`` is
the *optimistic selection* :math:`\arg\min_{y \in S(x)} f(x, y)`, ``F(x)`` the
optimistic value :math:`\min_{y \in S(x)} f(x, y)` and ``hypergrad(x)`` its gradient;
``lower_gap`` (``g(x, y) - g(x, y_star(x))``) is then the lower-level optimality gap
with respect to the solution set (any element of it has the same value).

Every oracle is written with array-API operations only, so the problems run on NumPy
and on array_api_strict inputs (``x0``/``y0`` are NumPy; convert them to run another
namespace).

Problems
--------
:func:`nonsingleton_toy`
    the counter-example of BDA (Liu et al., ICML 2020) that is also sl-BAMM's merely
    convex toy: :math:`f = \tfrac12\|x - y_2\|^2 + \tfrac12\|y_1 - \mathbf 1\|^2`,
    :math:`g = \tfrac12\|y_1\|^2 - x^\top y_1`; :math:`S(x) = \{y_1 = x,\ y_2 \text{
    free}\}`; solution :math:`x^* = \mathbf 1`, :math:`y^* = (\mathbf 1, \mathbf 1)`.
    Methods built on the lower-level singleton assumption (AID, ITD with lower-level
    gradient steps only) never move :math:`y_2` and stop at
    :math:`x = (\mathbf 1 + y_{2,0})/2`.
:func:`lvhba_constrained_toy`
    LV-HBA's toy with a constraint coupling x and y (Yao et al., ICLR 2024,
    ``Toy-example/LLC/LV-HBA.py`` of the official code): the same f, lower level
    :math:`g = \tfrac12\|y_1\|^2 - x^\top y_1 + \mathbf 1^\top y_2` subject to
    :math:`\mathbf 1^\top x + \mathbf 1^\top y_1 + \mathbf 1^\top y_2 = 0`; solution
    :math:`x^* = -0.3\cdot\mathbf 1`, :math:`y^* = (0.7\cdot\mathbf 1, -0.4\cdot
    \mathbf 1)`.
:func:`halfspace_toy`
    an inequality-constrained lower level (LV-HBA's problem class with
    :math:`\lambda \ge 0`): :math:`f = \tfrac12\|x - \mathbf 1\|^2 + \tfrac12\|y -
    \mathbf 1\|^2`, :math:`g = \tfrac12\|y - x\|^2` s.t. :math:`\mathbf 1^\top y \le 0`;
    solution :math:`x^* = \mathbf 1`, :math:`y^* = 0`, multiplier 1 (active).
:func:`strongly_convex_toy`
    sl-BAMM's strongly convex toy (``strongly_convex/strongly_convex.py``):
    :math:`f = \tfrac12 y^\top A y + \tfrac12 (x - x_h)^\top D (x - x_h)`,
    :math:`g = \tfrac12 y^\top A y - x^\top B y`, :math:`y^*(x) = A^{-1}B^\top x`,
    :math:`x^* = (BA^{-1}B^\top + D)^{-1} D x_h`; the default identity case gives
    :math:`x^* = y^* = \tfrac12\mathbf 1`.
:func:`sine_toy`
    a nonconvex lower level (MEHA's setting): :math:`f = \tfrac12\|x - a\|^2 +
    \tfrac12\|y - a - c\|^2`, :math:`g = \sum_i \sin(x_i + y_i - c_i)`; the lower
    level has infinitely many isolated minimizers per coordinate,
    :math:`y_i = c_i - x_i - \pi/2 + 2k\pi`; the global optimistic solution follows by
    enumerating :math:`k` (see the function).

Examples
--------
>>> from problems.bilevel_toy import nonsingleton_toy
>>> p = nonsingleton_toy(n=3)
>>> p.x_star, p.y_opt
(array([1., 1., 1.]), array([1., 1., 1., 1., 1., 1.]))
>>> float(p.F(p.x_star)), p.lower_gap(p.x_star, p.y_opt)
(0.0, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from array_api_compat import array_namespace

from optlab.bilevel.base import BilevelProblem

__all__ = [
    "ToyBilevelProblem",
    "nonsingleton_toy",
    "lvhba_constrained_toy",
    "strongly_convex_toy",
    "sine_toy",
    "halfspace_toy",
]


@dataclass(kw_only=True, eq=False)
class ToyBilevelProblem(BilevelProblem):
    """A :class:`~optlab.bilevel.base.BilevelProblem` with the optional members of
    this module (upper-level second-order products, ``y_opt``, coupled lower-level
    constraints and the joint projection)."""

    hvp_f_yy: Callable[[Any, Any, Any], Any] | None = None
    jvp_f_xy: Callable[[Any, Any, Any], Any] | None = None
    y_opt: Any = None
    h: Callable[[Any, Any], Any] | None = None
    h_vjp_x: Callable[[Any, Any, Any], Any] | None = None
    h_vjp_y: Callable[[Any, Any, Any], Any] | None = None
    n_constraints: int = 0
    h_equality: bool = False
    project_xy: Callable[[Any, Any], tuple[Any, Any]] | None = None

    def constraint_violation(self, x: Any, y: Any) -> float:
        """``max(h, 0)`` (or ``|h|`` for equalities), largest entry; 0 without constraints."""
        if self.h is None:
            return 0.0
        hv = np.asarray(self.h(np.asarray(x), np.asarray(y)), dtype=float)
        return float(np.max(np.abs(hv) if self.h_equality else np.maximum(hv, 0.0)))


def _xp(*a):
    return array_namespace(*a)


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    return int(n)


def _start(value: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite scalar or an array of shape ({n},), got {arr.shape}")
    return arr


# --------------------------------------------------------------------------------------
# BDA counter-example / sl-BAMM merely convex toy
# --------------------------------------------------------------------------------------


def nonsingleton_toy(n: int = 100, *, x0: Any = 0.01, y0: Any = 0.01) -> ToyBilevelProblem:
    r"""The non-singleton lower-level toy of BDA and sl-BAMM.

    .. math::

        \min_{x, y} \tfrac12\|x - y_2\|^2 + \tfrac12\|y_1 - \mathbf 1\|^2
        \quad\text{s.t.}\quad y = (y_1, y_2) \in \arg\min_{y}
        \tfrac12\|y_1\|^2 - x^\top y_1,

    with :math:`x, y_1, y_2 \in \mathbb R^n`. The lower level does not depend on
    :math:`y_2`: :math:`S(x) = \{(x, y_2): y_2 \in \mathbb R^n\}`. The optimistic value
    is :math:`F(x) = \tfrac12\|x - \mathbf 1\|^2` (take :math:`y_2 = x`), so
    :math:`x^* = \mathbf 1`, :math:`y^* = (\mathbf 1, \mathbf 1)`, :math:`F^* = 0`.

    A method that moves y only along :math:`-\nabla_y g` keeps :math:`y_2 = y_{2,0}`
    and minimizes :math:`\tfrac12\|x - y_{2,0}\|^2 + \tfrac12\|x - \mathbf 1\|^2`
    instead: it ends at :math:`x = (\mathbf 1 + y_{2,0})/2` (0.505 from the default
    start), a wrong point whatever its accuracy.

    Parameters
    ----------
    n : int
        Size of x, y1 and y2 (``dim_y = 2n``); the sl-BAMM code uses 100.
    x0, y0 : float or array
        Default starts (sl-BAMM's code starts at 0.01).

    Notes
    -----
    BDA (Liu et al. 2020) states the counter-example for :math:`x \in [-100, 100]`; the
    box is inactive along every trajectory here and is left out. Source of the
    functions: the sl-BAMM code ``merely_convex/strategy3.py`` (``val_loss``,
    ``train_loss``) and ../shared/papers/verified_details_2.md section 5.4.
    """
    n = _check_n(n)
    ones = np.ones(n)

    def split(y):
        return y[:n], y[n:]

    def f(x, y):
        xp = _xp(x, y)
        y1, y2 = split(y)
        return float(0.5 * xp.sum((x - y2) ** 2) + 0.5 * xp.sum((y1 - 1.0) ** 2))

    def g(x, y):
        xp = _xp(x, y)
        y1, _ = split(y)
        return float(0.5 * xp.sum(y1 * y1) - xp.sum(x * y1))

    def grad_f_x(x, y):
        return x - y[n:]

    def grad_f_y(x, y):
        xp = _xp(x, y)
        return xp.concat([y[:n] - 1.0, y[n:] - x])

    def grad_g_x(x, y):
        return -y[:n]

    def grad_g_y(x, y):
        xp = _xp(x, y)
        return xp.concat([y[:n] - x, xp.zeros_like(x)])

    def hvp_g_yy(x, y, v):
        xp = _xp(x, v)
        return xp.concat([v[:n], xp.zeros_like(v[n:])])

    def jvp_g_xy(x, y, v):
        return -v[:n]

    def hvp_f_yy(x, y, v):
        return v + 0.0

    def jvp_f_xy(x, y, v):
        return -v[n:]

    def y_star(x):
        xp = _xp(x)
        return xp.concat([x, x])

    def F(x):
        xp = _xp(x)
        return float(0.5 * xp.sum((x - 1.0) ** 2))

    def hypergrad(x):
        return x - 1.0

    def hess_g_yy(x, y):
        H = np.zeros((2 * n, 2 * n))
        H[:n, :n] = np.eye(n)
        return H

    def jac_g_xy(x, y):
        J = np.zeros((n, 2 * n))
        J[:, :n] = -np.eye(n)
        return J

    return ToyBilevelProblem(
        name=f"nonsingleton_toy(n={n})", dim_x=n, dim_y=2 * n,
        x0=_start(x0, n, "x0"), y0=_start(y0, 2 * n, "y0"),
        f=f, g=g, grad_f_x=grad_f_x, grad_f_y=grad_f_y, grad_g_x=grad_g_x, grad_g_y=grad_g_y,
        hvp_g_yy=hvp_g_yy, jvp_g_xy=jvp_g_xy, hvp_f_yy=hvp_f_yy, jvp_f_xy=jvp_f_xy,
        y_star=y_star, F=F, hypergrad=hypergrad, x_star=ones.copy(), F_star=0.0,
        y_opt=np.ones(2 * n), hess_g_yy=hess_g_yy, jac_g_xy=jac_g_xy,
        constants={"mu_g": 0.0, "L_g": 1.0, "L_f": 2.0, "L_gxy": 1.0, "L_gyy": 0.0},
        params={"n": n, "singleton": False,
                "aid_limit_x": "(1 + y0[n:]) / 2  (lower-level-only methods)"},
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# LV-HBA coupled-constraint toy
# --------------------------------------------------------------------------------------


def lvhba_constrained_toy(n: int = 100, *, x0: Any = None, y0: Any = None) -> ToyBilevelProblem:
    r"""LV-HBA's toy with a lower-level constraint coupling x and y.

    .. math::

        \min_{x, y} \tfrac12\|x - y_2\|^2 + \tfrac12\|y_1 - \mathbf 1\|^2
        \quad\text{s.t.}\quad y \in \arg\min_{y'} \Big\{\tfrac12\|y_1'\|^2
        - x^\top y_1' + \mathbf 1^\top y_2' \;:\; h(x, y') = \mathbf 1^\top x +
        \mathbf 1^\top y_1' + \mathbf 1^\top y_2' = 0\Big\}.

    The lower level is linear in :math:`y_2` (not strongly convex) and its solution set
    is :math:`S(x) = \{y_1 = x + \mathbf 1,\ \mathbf 1^\top y_2 = -2\,\mathbf 1^\top x
    - n\}`, an affine set of dimension n - 1. The optimistic selection takes
    :math:`y_2` closest to x in it; with :math:`s(x) = -(3\,\mathbf 1^\top x + n)/n`,
    :math:`F(x) = \tfrac n2 s(x)^2 + \tfrac12\|x\|^2` and the solution is
    :math:`x^* = -0.3\cdot\mathbf 1`, :math:`y^* = (0.7\cdot\mathbf 1, -0.4\cdot
    \mathbf 1)`, :math:`F^* = 0.05\,n`.

    The official code (``Toy-example/LLC/LV-HBA.py``) writes the constraint as
    :math:`g(x,y) = \mathbf 1^\top x + \mathbf 1^\top y` and enforces it as an
    *equality*: it projects (x, y) onto the hyperplane :math:`\mathbf 1^\top(x, y) = 0`
    and keeps the multiplier in :math:`[-U, U]`. As an inequality ``<= 0`` the lower
    level would be unbounded below (send :math:`y_2 \to -\infty`), so the equality is
    the problem the stated solution belongs to (``h_equality = True``).

    Parameters
    ----------
    n : int
        Size of x, y1, y2 (the code uses 100).
    x0, y0 : array, optional
        Default: the code's start, :math:`x = y = 10\cdot\mathbf 1` projected onto the
        constraint one block at a time, i.e. :math:`x_0 = -20\cdot\mathbf 1`,
        :math:`y_0 = 10\cdot\mathbf 1`.
    """
    n = _check_n(n)
    if x0 is None:
        x0 = 10.0 - (10.0 * n + 20.0 * n) / n  # proj1(x, sum(y)) of the official code
    if y0 is None:
        xs = (10.0 - 30.0) * n
        y0 = 10.0 - (20.0 * n + xs) / (2 * n)  # proj1(y, sum(x))

    def f(x, y):
        xp = _xp(x, y)
        return float(0.5 * xp.sum((x - y[n:]) ** 2) + 0.5 * xp.sum((y[:n] - 1.0) ** 2))

    def g(x, y):
        xp = _xp(x, y)
        return float(0.5 * xp.sum(y[:n] * y[:n]) - xp.sum(x * y[:n]) + xp.sum(y[n:]))

    def grad_f_x(x, y):
        return x - y[n:]

    def grad_f_y(x, y):
        xp = _xp(x, y)
        return xp.concat([y[:n] - 1.0, y[n:] - x])

    def grad_g_x(x, y):
        return -y[:n]

    def grad_g_y(x, y):
        xp = _xp(x, y)
        return xp.concat([y[:n] - x, xp.ones_like(x)])

    def hvp_g_yy(x, y, v):
        xp = _xp(x, v)
        return xp.concat([v[:n], xp.zeros_like(v[n:])])

    def jvp_g_xy(x, y, v):
        return -v[:n]

    def hvp_f_yy(x, y, v):
        return v + 0.0

    def jvp_f_xy(x, y, v):
        return -v[n:]

    def h(x, y):
        xp = _xp(x, y)
        return xp.reshape(xp.sum(x) + xp.sum(y), (1,))

    def h_vjp_x(x, y, lam):
        xp = _xp(x, lam)
        return lam[0] * xp.ones_like(x)

    def h_vjp_y(x, y, lam):
        xp = _xp(y, lam)
        return lam[0] * xp.ones_like(y)

    def project_xy(x, y):
        xp = _xp(x, y)
        shift = (xp.sum(x) + xp.sum(y)) / (3 * n)
        return x - shift, y - shift

    def s_of(x):
        xp = _xp(x)
        return -(3.0 * xp.sum(x) + n) / n

    def y_star(x):
        xp = _xp(x)
        t = (-2.0 * xp.sum(x) - n - xp.sum(x)) / n  # y2 = x + t 1 has sum -2 sum(x) - n
        return xp.concat([x + 1.0, x + t])

    def F(x):
        xp = _xp(x)
        s = s_of(x)
        return float(0.5 * n * s * s + 0.5 * xp.sum(x * x))

    def hypergrad(x):
        return x - 3.0 * s_of(x)

    x_star = np.full(n, -0.3)
    return ToyBilevelProblem(
        name=f"lvhba_constrained_toy(n={n})", dim_x=n, dim_y=2 * n,
        x0=_start(x0, n, "x0"), y0=_start(y0, 2 * n, "y0"),
        f=f, g=g, grad_f_x=grad_f_x, grad_f_y=grad_f_y, grad_g_x=grad_g_x, grad_g_y=grad_g_y,
        hvp_g_yy=hvp_g_yy, jvp_g_xy=jvp_g_xy, hvp_f_yy=hvp_f_yy, jvp_f_xy=jvp_f_xy,
        h=h, h_vjp_x=h_vjp_x, h_vjp_y=h_vjp_y, n_constraints=1, h_equality=True,
        project_xy=project_xy, y_star=y_star, F=F, hypergrad=hypergrad,
        x_star=x_star, F_star=0.05 * n, y_opt=np.concatenate([np.full(n, 0.7), np.full(n, -0.4)]),
        constants={"mu_g": 0.0, "L_g": 1.0, "L_f": 2.0},
        params={"n": n, "singleton": False, "source": "SUSTech-Optimization/LV-HBA Toy-example/LLC",
                "theta0": 10.0, "lam0": 1.0, "z0": -1.0},
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# sl-BAMM strongly convex toy
# --------------------------------------------------------------------------------------


def strongly_convex_toy(
    n: int = 100, *, A: Any = None, B: Any = None, D: Any = None, x_h: Any = 1.0,
    x0: Any = 2.0, y0: Any = 2.0,
) -> ToyBilevelProblem:  # fmt: skip
    r"""sl-BAMM's strongly convex toy (a singleton lower level, for sanity checks).

    .. math::

        \min_x \tfrac12 y^\top A y + \tfrac12 (x - x_h)^\top D (x - x_h), \quad
        y \in \arg\min_{y'} \tfrac12 y'^\top A y' - x^\top B y',

    so :math:`y^*(x) = A^{-1}B^\top x`, :math:`F(x) = \tfrac12 x^\top B A^{-1} B^\top x +
    \tfrac12 (x - x_h)^\top D(x - x_h)` and :math:`x^* = (BA^{-1}B^\top + D)^{-1} D x_h`.
    Defaults :math:`A = B = D = I`, :math:`x_h = \mathbf 1`: :math:`x^* = y^* =
    \tfrac12\mathbf 1`, start :math:`x_0 = y_0 = 2\cdot\mathbf 1` (the sl-BAMM code).
    A must be symmetric positive definite, D symmetric positive semidefinite.
    """
    n = _check_n(n)
    A = np.eye(n) if A is None else np.asarray(A, dtype=float)
    B = np.eye(n) if B is None else np.asarray(B, dtype=float)
    D = np.eye(n) if D is None else np.asarray(D, dtype=float)
    for name, M in (("A", A), ("B", B), ("D", D)):
        if M.shape != (n, n) or not np.all(np.isfinite(M)):
            raise ValueError(f"{name} must be a finite ({n}, {n}) matrix, got shape {M.shape}")
    if np.max(np.abs(A - A.T)) > 1e-12 * (1.0 + np.max(np.abs(A))) or np.linalg.eigvalsh(A).min() <= 0:
        raise ValueError("A must be symmetric positive definite")
    xh = _start(x_h, n, "x_h")
    Ainv_Bt = np.linalg.solve(A, B.T)
    x_star = np.linalg.solve(B @ Ainv_Bt + D, D @ xh)
    eig = np.linalg.eigvalsh(A)

    def arr(M, like):
        xp = _xp(like)
        return xp.asarray(M) if xp is not array_namespace(np.empty(0)) else M

    def f(x, y):
        xp = _xp(x, y)
        Am, Dm, xhm = arr(A, x), arr(D, x), arr(xh, x)
        return float(0.5 * xp.sum(y * (Am @ y)) + 0.5 * xp.sum((x - xhm) * (Dm @ (x - xhm))))

    def g(x, y):
        xp = _xp(x, y)
        return float(0.5 * xp.sum(y * (arr(A, x) @ y)) - xp.sum(x * (arr(B, x) @ y)))

    def grad_f_x(x, y):
        return arr(D, x) @ (x - arr(xh, x))

    def grad_f_y(x, y):
        return arr(A, x) @ y

    def grad_g_x(x, y):
        return -(arr(B, x) @ y)

    def grad_g_y(x, y):
        return arr(A, x) @ y - arr(B.T, x) @ x

    def hvp_g_yy(x, y, v):
        return arr(A, v) @ v

    def jvp_g_xy(x, y, v):
        return -(arr(B, v) @ v)

    def hvp_f_yy(x, y, v):
        return arr(A, v) @ v

    def jvp_f_xy(x, y, v):
        xp = _xp(x)
        return xp.zeros_like(x)

    def y_star(x):
        return arr(Ainv_Bt, x) @ x

    BAB = B @ Ainv_Bt

    def F(x):
        xp = _xp(x)
        return float(0.5 * xp.sum(x * (arr(BAB, x) @ x))
                     + 0.5 * xp.sum((x - arr(xh, x)) * (arr(D, x) @ (x - arr(xh, x)))))  # fmt: skip

    def hypergrad(x):
        return arr(BAB, x) @ x + arr(D, x) @ (x - arr(xh, x))

    return ToyBilevelProblem(
        name=f"strongly_convex_toy(n={n})", dim_x=n, dim_y=n,
        x0=_start(x0, n, "x0"), y0=_start(y0, n, "y0"),
        f=f, g=g, grad_f_x=grad_f_x, grad_f_y=grad_f_y, grad_g_x=grad_g_x, grad_g_y=grad_g_y,
        hvp_g_yy=hvp_g_yy, jvp_g_xy=jvp_g_xy, hvp_f_yy=hvp_f_yy, jvp_f_xy=jvp_f_xy,
        y_star=y_star, F=F, hypergrad=hypergrad, x_star=x_star, F_star=float(F(x_star)),
        y_opt=Ainv_Bt @ x_star, hess_g_yy=lambda x, y: A.copy(), jac_g_xy=lambda x, y: -B.copy(),
        constants={"mu_g": float(eig.min()), "L_g": float(eig.max()),
                   "L_f": float(max(eig.max(), np.linalg.eigvalsh(0.5 * (D + D.T)).max()))},
        params={"n": n, "singleton": True, "source": "vis-opt-group/sl-BAMM strongly_convex"},
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# nonconvex lower level
# --------------------------------------------------------------------------------------


def sine_toy(n: int = 10, *, a: float = 2.0, c: float = 2.0, x0: Any = 2.0, y0: Any = 4.0) -> ToyBilevelProblem:
    r"""A bilevel toy with a nonconvex lower level and a known global solution.

    .. math::

        \min_{x, y} \tfrac12\|x - a\mathbf 1\|^2 + \tfrac12\|y - (a + c)\mathbf 1\|^2
        \quad\text{s.t.}\quad y \in \arg\min_{y'} \sum_i \sin(x_i + y'_i - c).

    The lower level is 1-weakly convex (:math:`\nabla^2_{yy} g \succeq -I`) and has the
    isolated minimizers :math:`y_i = c - x_i - \pi/2 + 2k_i\pi`, :math:`k_i \in
    \mathbb Z`. Per coordinate, with :math:`d_k = 2a + \pi/2 - 2k\pi`, the best point of
    branch k is :math:`x = k\pi - \pi/4`, with upper value :math:`d_k^2/4`; the global
    (optimistic) solution takes :math:`k^* = \arg\min_k |d_k|` (:math:`k^* = 1` for
    :math:`a = 2`: :math:`x^* = 3\pi/4`, :math:`y^* = c + 3\pi/4`). Other branches are
    local solutions; a method converging to a stationary point of its reformulation
    reaches the global one from the default start, which lies in branch :math:`k^*`.

    Problem class of MEHA (Liu et al., ICML 2024: nonconvex upper and lower levels);
    the functions are in the style of the sine toys of that line of work, the constants
    here are ours (the paper's toy was not read, ../shared/papers/verified_details_2.md
    section 5.3).

    ``y_star(x)`` is the optimistic selection (the lower-level minimizer closest to
    :math:`(a + c)\mathbf 1`), ``F`` its value and ``hypergrad`` its gradient (smooth
    away from the switching points).
    """
    n = _check_n(n)
    a, c = float(a), float(c)
    pi = math.pi
    k_star = round((2 * a + pi / 2) / (2 * pi))
    xs = k_star * pi - pi / 4
    ys = c - xs - pi / 2 + 2 * k_star * pi

    def f(x, y):
        xp = _xp(x, y)
        return float(0.5 * xp.sum((x - a) ** 2) + 0.5 * xp.sum((y - a - c) ** 2))

    def g(x, y):
        xp = _xp(x, y)
        return float(xp.sum(xp.sin(x + y - c)))

    def grad_f_x(x, y):
        return x - a

    def grad_f_y(x, y):
        return y - (a + c)

    def grad_g_x(x, y):
        xp = _xp(x, y)
        return xp.cos(x + y - c)

    def grad_g_y(x, y):
        xp = _xp(x, y)
        return xp.cos(x + y - c)

    def hvp_g_yy(x, y, v):
        xp = _xp(x, y)
        return -xp.sin(x + y - c) * v

    def jvp_g_xy(x, y, v):
        xp = _xp(x, y)
        return -xp.sin(x + y - c) * v

    def hvp_f_yy(x, y, v):
        return v + 0.0

    def jvp_f_xy(x, y, v):
        xp = _xp(x)
        return xp.zeros_like(x)

    def y_star(x):
        xp = _xp(x)
        base = c - x - pi / 2
        k = xp.round((a + c - base) / (2 * pi))
        return base + 2 * pi * k

    def F(x):
        return f(x, y_star(x))

    def hypergrad(x):
        return (x - a) - (y_star(x) - a - c)

    return ToyBilevelProblem(
        name=f"sine_toy(n={n}, a={a:g}, c={c:g})", dim_x=n, dim_y=n,
        x0=_start(x0, n, "x0"), y0=_start(y0, n, "y0"),
        f=f, g=g, grad_f_x=grad_f_x, grad_f_y=grad_f_y, grad_g_x=grad_g_x, grad_g_y=grad_g_y,
        hvp_g_yy=hvp_g_yy, jvp_g_xy=jvp_g_xy, hvp_f_yy=hvp_f_yy, jvp_f_xy=jvp_f_xy,
        y_star=y_star, F=F, hypergrad=hypergrad, x_star=np.full(n, xs),
        F_star=float(n * (2 * a + pi / 2 - 2 * k_star * pi) ** 2 / 4), y_opt=np.full(n, ys),
        constants={"rho_g": 1.0, "L_g": 1.0, "L_f": 1.0},
        params={"n": n, "a": a, "c": c, "k_star": k_star, "singleton": False},
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# inequality-constrained lower level
# --------------------------------------------------------------------------------------


def halfspace_toy(n: int = 10, *, x0: Any = 0.0, y0: Any = 0.0) -> ToyBilevelProblem:
    r"""A lower level with an active inequality constraint (our toy, closed-form answer).

    .. math::

        \min_{x, y} \tfrac12\|x - \mathbf 1\|^2 + \tfrac12\|y - \mathbf 1\|^2
        \quad\text{s.t.}\quad y \in \arg\min_{y'} \{\tfrac12\|y' - x\|^2 :
        h(y') = \mathbf 1^\top y' \le 0\}.

    :math:`y^*(x) = x - \max(0, \bar x)\mathbf 1` (projection onto the half-space,
    :math:`\bar x` the mean), with multiplier :math:`\lambda = \max(0, \bar x)`. For
    :math:`\bar x > 0`, :math:`y^*(x) \perp \mathbf 1` so :math:`\|y^* - \mathbf 1\|^2
    \ge n`, with equality at :math:`x = \mathbf 1`: the solution is :math:`x^* =
    \mathbf 1`, :math:`y^* = 0`, :math:`F^* = n/2`, :math:`\lambda^* = 1` (the
    constraint is active, the multiplier positive). The joint feasible set is
    :math:`C = \{(x, y): \mathbf 1^\top y \le 0\}`.
    """
    n = _check_n(n)

    def f(x, y):
        xp = _xp(x, y)
        return float(0.5 * xp.sum((x - 1.0) ** 2) + 0.5 * xp.sum((y - 1.0) ** 2))

    def g(x, y):
        xp = _xp(x, y)
        return float(0.5 * xp.sum((y - x) ** 2))

    def h(x, y):
        xp = _xp(x, y)
        return xp.reshape(xp.sum(y), (1,))

    def h_vjp_x(x, y, lam):
        xp = _xp(x)
        return xp.zeros_like(x)

    def h_vjp_y(x, y, lam):
        xp = _xp(y, lam)
        return lam[0] * xp.ones_like(y)

    def project_xy(x, y):
        xp = _xp(x, y)
        return x + 0.0, y - xp.clip(xp.mean(y), 0.0, None)

    def y_star(x):
        xp = _xp(x)
        return x - xp.clip(xp.mean(x), 0.0, None)

    def F(x):
        return f(x, y_star(x))

    def hypergrad(x):
        xp = _xp(x)
        r = y_star(x) - 1.0
        if float(xp.mean(x)) > 0:
            r = r - xp.mean(r)
        return (x - 1.0) + r

    return ToyBilevelProblem(
        name=f"halfspace_toy(n={n})", dim_x=n, dim_y=n,
        x0=_start(x0, n, "x0"), y0=_start(y0, n, "y0"),
        f=f, g=g, grad_f_x=lambda x, y: x - 1.0, grad_f_y=lambda x, y: y - 1.0,
        grad_g_x=lambda x, y: x - y, grad_g_y=lambda x, y: y - x,
        hvp_g_yy=lambda x, y, v: v + 0.0, jvp_g_xy=lambda x, y, v: -v,
        hvp_f_yy=lambda x, y, v: v + 0.0, jvp_f_xy=lambda x, y, v: 0.0 * x,
        h=h, h_vjp_x=h_vjp_x, h_vjp_y=h_vjp_y, n_constraints=1, h_equality=False,
        project_xy=project_xy, y_star=y_star, F=F, hypergrad=hypergrad,
        x_star=np.ones(n), F_star=0.5 * n, y_opt=np.zeros(n),
        constants={"mu_g": 1.0, "L_g": 1.0, "L_f": 1.0},
        params={"n": n, "singleton": True, "lambda_star": 1.0},
    )  # fmt: skip
