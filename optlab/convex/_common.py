"""Bookkeeping shared by the first-order convex solvers (private).

- :func:`setup_smooth` validates ``fun``, ``grad``, ``x0``, ``tol``, ``max_iter`` and
  evaluates the oracles at ``x0`` (non-finite ``f(x0)`` or ``grad(x0)`` -> ``ValueError``).
- :class:`Oracles` wraps ``fun``/``grad`` (and a prox or projection) and counts calls.
- :func:`diverged` is the divergence test every solver here uses.
- :func:`run_gradient_mapping` is the loop behind accelerated gradient, ISTA/FISTA and
  projected gradient: ``x_{k+1} = T(y_k)`` with ``T`` a gradient, proximal-gradient or
  projected-gradient step and ``y_k`` either ``x_k`` or an extrapolated point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from optlab._backend import get_namespace
from optlab._validate import check_array, check_callable, check_int, check_positive
from optlab.result import Monitor, Result, Status

#: A run is declared DIVERGED when ``|F(x_k)| > DIVERGENCE_FACTOR * (1 + |F(x_0)|)``.
DIVERGENCE_FACTOR = 1e10


def to_float(value: Any, name: str) -> float:
    """A scalar oracle output (Python number, NumPy scalar, 0-d array) as a Python float."""
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        shape = getattr(value, "shape", None)
        raise TypeError(
            f"{name} must return a real scalar, got {type(value).__name__}"
            + (f" of shape {tuple(shape)}" if shape is not None else "")
        ) from exc


def norm(xp, v: Any) -> float:
    """Euclidean norm over all entries, as a host float (one sync)."""
    return float(xp.linalg.vector_norm(v))


def diverged(F: float, F0: float) -> bool:
    """The divergence test: ``|F| > DIVERGENCE_FACTOR * (1 + |F0|)``."""
    return abs(F) > DIVERGENCE_FACTOR * (1.0 + abs(F0))


def divergence_message(name: str, it: int, F: float, F0: float) -> str:
    return (
        f"{name}: diverged at iteration {it}: |fun| = {abs(F):.3e} exceeds "
        f"{DIVERGENCE_FACTOR:.0e} * (1 + |fun(x0)|) = {DIVERGENCE_FACTOR * (1 + abs(F0)):.3e}"
    )


class Oracles:
    """``fun`` and ``grad`` with call counters (``nfev``, ``njev``) and output checks."""

    def __init__(self, fun: Callable, grad: Callable, xp, shape: tuple) -> None:
        self._fun = fun
        self._grad = grad
        self.xp = xp
        self.shape = tuple(shape)
        self.nfev = 0
        self.njev = 0

    def f(self, x: Any) -> float:
        self.nfev += 1
        return to_float(self._fun(x), "fun")

    def g(self, x: Any) -> Any:
        self.njev += 1
        out = self._grad(x)
        if tuple(getattr(out, "shape", ())) != self.shape:
            raise ValueError(
                f"grad must return an array of shape {self.shape} (the shape of x0), "
                f"got {tuple(getattr(out, 'shape', ()))}"
            )
        return out


def setup_smooth(fun: Any, grad: Any, x0: Any, *, tol: Any, max_iter: Any):
    """Validate the common inputs and evaluate ``f(x0)``, ``grad(x0)``.

    Returns ``(xp, x0, oracles, f0, g0, tol, max_iter)``; ``x0`` is a floating array of
    its own namespace (integer input is cast to the default float).
    """
    check_callable(fun, "fun")
    check_callable(grad, "grad")
    x0 = check_array(x0, "x0")
    if x0.ndim < 1:
        raise ValueError(f"x0 must be an array with ndim >= 1, got shape {tuple(x0.shape)}")
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    xp = get_namespace(x0)
    orc = Oracles(fun, grad, xp, x0.shape)
    f0 = orc.f(x0)
    if not math.isfinite(f0):
        raise ValueError(f"fun(x0) is not finite ({f0!r}): start from a point where f is finite")
    g0 = orc.g(x0)
    try:
        same_ns = get_namespace(g0) is xp
    except TypeError:
        same_ns = False
    if not same_ns:
        raise TypeError(
            f"grad must return an array of the namespace of x0 ({xp.__name__}), "
            f"got {type(g0).__name__}"
        )
    if not bool(xp.all(xp.isfinite(g0))):
        raise ValueError("grad(x0) contains NaN or inf: start from a point where f is smooth")
    return xp, x0, orc, f0, g0, tol, max_iter


def finish(
    mon: Monitor,
    xp,
    x: Any,
    dtype: Any,
    *,
    fun: float,
    nit: int,
    status: Status,
    message: str | None = None,
    **counts: Any,
) -> Result:
    """Build the Result, returning a copy of ``x`` in the dtype of ``x0``."""
    return mon.finish(
        x=xp.astype(x, dtype, copy=True),
        fun=fun,
        nit=nit,
        status=status,
        message=message,
        **counts,
    )


class FistaMomentum:
    """``beta_k = (t_k - 1) / t_{k+1}``, ``t_0 = 1``, ``t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2``.

    Beck & Teboulle (2009), FISTA with constant step, with their ``t_{k+1}`` written
    ``t_k`` here because our iterates are numbered from ``x_0`` (theirs from ``x_1``).
    Call it with ``k = 0, 1, 2, ...`` in order.
    """

    def __init__(self) -> None:
        self.t = 1.0

    def __call__(self, k: int) -> float:
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * self.t * self.t))
        beta = (self.t - 1.0) / t_next
        self.t = t_next
        return beta


def run_gradient_mapping(
    name: str,
    *,
    xp,
    orc: Oracles,
    step_map: Callable[[Any, Any], tuple[Any, float]],
    objective: Callable[[Any], float],
    x0: Any,
    F0: float,
    g0: Any,
    momentum: Callable[[int], float] | None,
    tol: float,
    max_iter: int,
    mon: Monitor,
    extra_counts: Callable[[], dict] | None = None,
) -> Result:
    """Run ``x_{k+1} = T(y_k)`` and return the Result.

    ``step_map(y, grad(y)) -> (T(y), r)`` with ``r`` the residual of the step at ``y``
    (gradient-mapping norm ``||y - T(y)|| / step``, or ``||grad f(y)||`` for a plain
    gradient step). ``objective(x)`` is the recorded value (``f`` or ``f + g``).

    ``momentum is None`` (ISTA, projected gradient): ``y_k = x_k``; row ``k`` of the
    history holds ``r_k``, the exact residual of ``x_k``; the run stops at the first
    ``k`` with ``r_k <= tol`` and returns ``x_k``. One more gradient and prox than steps
    are evaluated: ``njev = nit + 1``.

    ``momentum`` given (accelerated methods): ``y_0 = x_0``,
    ``y_{k+1} = x_{k+1} + momentum(k) * (x_{k+1} - x_k)``; row 0 holds ``r_0`` (exact
    residual of ``x_0``), row ``k >= 1`` holds ``r_{k-1}``, the residual at ``y_{k-1}``,
    which bounds the residual of ``x_k = T(y_{k-1})`` because ``T`` is nonexpansive for
    convex ``f`` and step ``<= 2/L``. The run stops at the first row whose value is
    ``<= tol`` and returns that ``x_k``. Exactly ``nit`` gradients are evaluated
    (at ``y_0, ..., y_{nit-1}``): with a tiny ``tol`` exactly ``max_iter`` steps are taken.

    On a non-finite value or divergence at iteration ``k + 1`` the last good iterate
    ``x_k`` is returned (``nit = k``, history rows ``0..k``).
    """
    dtype = x0.dtype

    def done(x, F, nit, status, message=None):
        counts = {"nfev": orc.nfev, "njev": orc.njev}
        if extra_counts is not None:
            counts.update(extra_counts())
        return finish(mon, xp, x, dtype, fun=F, nit=nit, status=status, message=message, **counts)

    def check_new(k_new: int, x_new: Any, F_new: float | None = None, grad: Any = None):
        msg = mon.nonfinite(k_new, x=x_new, fun=F_new, grad=grad)
        if msg is not None:
            return Status.NUMERICAL_ERROR, msg
        if F_new is not None and diverged(F_new, F0):
            return Status.DIVERGED, divergence_message(name, k_new, F_new, F0)
        return None

    if momentum is None:
        x, F, gx = x0, F0, g0
        k = 0
        while True:
            x_new, r = step_map(x, gx)
            mon.record(k, fun=F, grad_norm=r)
            bad = check_new(k + 1, x_new)
            if bad is not None:
                return done(x, F, k, *bad)
            if r <= tol:
                return done(x, F, k, Status.CONVERGED)
            if mon.stop_requested(x, F, k):
                return done(x, F, k, Status.CALLBACK)
            if k == max_iter:
                return done(x, F, k, Status.MAX_ITER)
            F_new = objective(x_new)
            bad = check_new(k + 1, x_new, F_new)
            if bad is not None:
                return done(x, F, k, *bad)
            g_new = orc.g(x_new)
            bad = check_new(k + 1, x_new, grad=g_new)
            if bad is not None:
                return done(x, F, k, *bad)
            x, F, gx = x_new, F_new, g_new
            k += 1

    # accelerated: x_0 = y_0 = x0
    x, F = x0, F0
    x_new, r = step_map(x0, g0)
    mon.record(0, fun=F0, grad_norm=r)
    bad = check_new(1, x_new)
    if bad is not None:
        return done(x, F, 0, *bad)
    if r <= tol:
        return done(x, F, 0, Status.CONVERGED)
    if mon.stop_requested(x, F, 0):
        return done(x, F, 0, Status.CALLBACK)
    k = 0
    while True:
        # invariant: x = x_k, F = F(x_k), x_new = x_{k+1} = T(y_k) (finite), r = r_k
        F_new = objective(x_new)
        bad = check_new(k + 1, x_new, F_new)
        if bad is not None:
            return done(x, F, k, *bad)
        x_prev, x, F = x, x_new, F_new
        mon.record(k + 1, fun=F, grad_norm=r)
        if r <= tol:
            return done(x, F, k + 1, Status.CONVERGED)
        if mon.stop_requested(x, F, k + 1):
            return done(x, F, k + 1, Status.CALLBACK)
        if k + 1 == max_iter:
            return done(x, F, k + 1, Status.MAX_ITER)
        beta = momentum(k)
        y = x + beta * (x - x_prev) if beta != 0.0 else x
        gy = orc.g(y)
        msg = mon.nonfinite(k + 1, y=y, grad=gy)
        if msg is not None:
            return done(x, F, k + 1, Status.NUMERICAL_ERROR, msg)
        x_new, r = step_map(y, gy)
        bad = check_new(k + 2, x_new)
        if bad is not None:
            return done(x, F, k + 1, *bad)
        k += 1
