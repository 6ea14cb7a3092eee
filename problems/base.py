"""The :class:`Problem` record every generator in ``problems/`` returns.

A problem is ``minimize_x F(x) = f(x) + g(x)`` with ``f`` smooth (``value``,
``grad``, optionally ``hess``/``hvp``) and ``g`` an optional nonsmooth part
given by its value ``g`` and its proximal operator ``prox``. It carries the
constants the theory uses (``L``, ``mu``, for finite sums ``L_max``), a default
start ``x0`` and the solution ``x_star`` with ``f_star = F(x_star)``.

Non-convex problems set ``mu`` to a (documented) negative lower bound on the
Hessian's smallest eigenvalue, or to ``nan`` when none is known, and record what
is known about their stationary points in ``params`` (e.g. ``params["saddles"]``).
Approximate Hessians (Gauss-Newton, Fisher, fixed bounds) go in ``hess_approx``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Problem"]


@dataclass(kw_only=True, eq=False)
class Problem:
    """A test instance with everything a check needs.

    Attributes
    ----------
    name : str
        Generator name and size, e.g. ``"ridge(n=50, d=10)"``.
    value, grad : callable
        ``f(x) -> float`` and ``grad f(x) -> ndarray`` of the smooth part.
    hess : callable or None
        ``x -> (d, d) ndarray``, the Hessian of ``f``.
    hvp : callable or None
        ``(x, v) -> ndarray``, Hessian-vector product of ``f``.
    prox : callable or None
        ``(v, step) -> argmin_u g(u) + ||u - v||^2 / (2 step)``.
    g : callable or None
        Value of the nonsmooth part (``None`` when ``F = f``).
    L, mu : float
        Smoothness and strong convexity constants of ``f`` (``mu = 0`` when
        only convex). For generators where ``L`` is a class constant (worst-case
        functions) it upper-bounds the Hessian's largest eigenvalue. For
        non-convex problems ``mu`` is a lower bound on the Hessian's smallest
        eigenvalue (negative, ``-L <= mu``) or ``nan`` when unknown; the
        generator documents the region where ``L`` and ``mu`` hold.
    x0 : ndarray
        Default starting point.
    x_star : ndarray
        A minimizer of ``F`` (the unique one when ``mu > 0``; otherwise
        documented by the generator, e.g. the minimum-norm one).
    f_star : float
        ``F(x_star)``.
    dim : int
        Number of variables (set from ``x0`` when omitted).
    seed : int or None
        Seed that generated the instance (``None`` for deterministic ones).
    params : dict
        Generator parameters and derived constants (``lam``, ``noise``...).
    data : dict
        The arrays defining the instance (``A``, ``b``, ``Q``, ``y``...).
    n_samples, grad_i, L_max
        For finite sums ``f = (1/n) sum_i f_i``: ``n``, the mean gradient of
        ``f_i`` over an index array ``idx`` (``grad_i(x, idx)``), and
        ``max_i L_i``.
    hess_approx : dict of str to callable
        Named approximations ``x -> (d, d) ndarray`` of ``hess`` (each
        symmetric positive semidefinite), e.g. ``"gauss_newton"``, ``"fisher"``;
        the generator's docstring says what each is and which bound it obeys.
        Empty when the problem has none.
    """

    name: str
    value: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    L: float
    mu: float
    x0: np.ndarray
    x_star: np.ndarray
    f_star: float
    hess: Callable[[np.ndarray], np.ndarray] | None = None
    hvp: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    prox: Callable[[np.ndarray, float], np.ndarray] | None = None
    g: Callable[[np.ndarray], float] | None = None
    dim: int | None = None
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    n_samples: int | None = None
    grad_i: Callable[[np.ndarray, Any], np.ndarray] | None = None
    L_max: float | None = None
    hess_approx: dict[str, Callable[[np.ndarray], np.ndarray]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.x0 = np.asarray(self.x0, dtype=np.float64)
        self.x_star = np.asarray(self.x_star, dtype=np.float64)
        if self.x0.ndim != 1 or self.x0.shape != self.x_star.shape:
            raise ValueError(
                f"x0 and x_star must be 1-D of equal shape, got {self.x0.shape}, {self.x_star.shape}"
            )
        if self.dim is None:
            self.dim = int(self.x0.size)
        elif self.dim != self.x0.size:
            raise ValueError(f"dim={self.dim} but x0 has {self.x0.size} entries")
        self.L, self.mu, self.f_star = float(self.L), float(self.mu), float(self.f_star)
        if not (self.L > 0 and math.isfinite(self.L)):
            raise ValueError(f"L must be finite and > 0, got {self.L}")
        # mu < 0 (a lower curvature bound) or nan (unknown) only for non-convex problems
        if not (math.isnan(self.mu) or -self.L <= self.mu <= self.L * (1 + 1e-12)):
            raise ValueError(
                f"mu must be in [0, L] (in [-L, L] or nan for non-convex problems), "
                f"got mu={self.mu}, L={self.L}"
            )
        if (self.prox is None) != (self.g is None):
            raise ValueError("prox and g come together (both or neither)")

    # -- derived --------------------------------------------------------------------
    @property
    def kappa(self) -> float:
        """Condition number ``L / mu`` (``inf`` when ``mu <= 0`` or unknown)."""
        return self.L / self.mu if self.mu > 0 else math.inf

    @property
    def smooth(self) -> bool:
        """True when there is no nonsmooth part."""
        return self.g is None

    def objective(self, x: np.ndarray) -> float:
        """Full objective ``F(x) = f(x) + g(x)``."""
        v = float(self.value(x))
        return v + float(self.g(x)) if self.g is not None else v

    def gap(self, x: np.ndarray) -> float:
        """Optimality gap ``F(x) - f_star``."""
        return self.objective(x) - self.f_star

    def residual(self, x: np.ndarray, step: float | None = None) -> float:
        """First-order optimality residual.

        ``||grad f(x)||`` for smooth problems; otherwise the norm of the
        gradient mapping ``||x - prox(x - t grad f(x), t)|| / t`` with
        ``t = step`` (default ``1/L``), which is zero exactly at minimizers.
        """
        gr = np.asarray(self.grad(x))
        if self.prox is None:
            return float(np.linalg.norm(gr))
        t = 1.0 / self.L if step is None else float(step)
        return float(np.linalg.norm(x - self.prox(x - t * gr, t)) / t)

    def __repr__(self) -> str:
        extra = f", n_samples={self.n_samples}" if self.n_samples is not None else ""
        return (
            f"Problem({self.name}, dim={self.dim}, L={self.L:.6g}, mu={self.mu:.6g}, "
            f"f_star={self.f_star:.10g}{extra})"
        )
