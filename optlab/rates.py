"""Measured rates: turn a solver history into a fitted figure with a fit quality.

Every estimator takes 1-D histories (NumPy arrays, lists, or any array that
converts to a host NumPy array) and returns a :class:`RateFit`: the fitted
``value``, the coefficient of determination ``r2`` of the underlying linear
least-squares fit, the ``window`` of the input that was used, the number of
fitted points and the ``kind``, plus an ``extra`` dict (the constant of the fit,
the slope's standard error, the ratio sequence...).

=========================  ==========================================  ===============================
estimator                  model (fitted by least squares in logs)      ``value``
=========================  ==========================================  ===============================
:func:`linear_rate`        ``e_k ~ C q^k``: ``log e_k`` vs ``k``        contraction factor ``q``
:func:`sublinear_order`    ``e_k ~ C k^-p``: ``log e_k`` vs ``log k``   exponent ``p``
:func:`convergence_order`  ``e_{k+1} ~ C e_k^p``: logs vs logs          Q-order ``p`` (1, 2, 3...)
:func:`scaling_exponent`   ``cost ~ c size^a``: logs vs logs            exponent ``a``
:func:`max_ratio`          (no fit)                                     ``max_k measured_k / bound_k``
=========================  ==========================================  ===============================

Windowing of error histories
----------------------------
:func:`linear_rate`, :func:`sublinear_order` and :func:`convergence_order` fit
only a window ``[start, stop)`` of positions of the input, chosen as follows.

1. **Precision floor.** ``stop`` is the first position whose error is
   ``<= floor``; the window ends there even if later entries rise above the
   floor again (a history that has reached the rounding level fluctuates on a
   plateau that carries no rate information). The default floor is
   ``1e3 * eps * max(e)``, ``eps`` the machine epsilon of the input's dtype
   (float64 for lists and integer input, so about ``2.2e-13 * max(e)``) and the
   maximum taken over the positive, non-NaN entries. ``floor=0`` disables the
   floor. Because ``floor >= 0``, a zero or negative error (exact convergence,
   or ``f_k - f*`` below the accuracy of ``f*``) always ends the window: the
   logarithm is undefined there and the measurement has no resolution left.
   When the errors come from a computation in lower precision than the history
   (float32 on a GPU, recorded as Python floats), or from an inexact reference
   solution, pass a larger ``floor`` yourself.
2. **Transient.** ``start`` is ``skip`` when given, else ``stop // 10``: the
   first 10% (rounded down) of the entries before the floor are treated as the
   transient and dropped.
3. **Missing entries.** NaN entries inside the window are dropped (they keep
   their position: the index ``k`` of the other entries does not shift).
   ``+-inf`` is rejected with ``ValueError``: a diverged history has no rate.

Fit quality: ``r2 = 1 - SS_res / SS_tot`` of the fit in log space. It is NaN
when it does not apply: exactly two fitted points (the line passes through
both), zero variance of the fitted response (a constant sequence), or
:func:`max_ratio` (no fit). ``extra["slope_stderr"]`` is the usual standard
error of the least-squares slope, ``sqrt(SS_res / (n - 2) / Sxx)`` (NaN for
``n = 2``).

References
----------
.. [NW06] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed.,
   Springer, 2006, Appendix A ("Rates of Convergence"): Q-linear, Q-superlinear
   and Q-quadratic convergence.

Examples
--------
>>> import numpy as np
>>> from optlab.rates import linear_rate
>>> fit = linear_rate(0.5 ** np.arange(30))
>>> round(fit.value, 8), fit.kind, fit.window
(0.5, 'linear', (3, 30))
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from array_api_compat import is_array_api_obj

from ._backend import to_numpy
from ._validate import check_int, check_nonnegative

__all__ = [
    "RateFit",
    "linear_rate",
    "sublinear_order",
    "convergence_order",
    "scaling_exponent",
    "max_ratio",
]

#: default precision floor is ``FLOOR_FACTOR * eps * max(errors)``
FLOOR_FACTOR = 1e3
#: superlinear flag: the ratios must fall by at least this factor (first third -> last third)
SUPERLINEAR_DROP = 0.5
#: superlinear flag: the last ratio must be at most this
SUPERLINEAR_LAST = 0.5


@dataclass(frozen=True)
class RateFit:
    """A figure measured from a history, with the quality of its fit.

    Attributes
    ----------
    value : float
        The estimate (contraction factor, exponent, order or maximal ratio).
    r2 : float
        Coefficient of determination of the least-squares fit in log space,
        or NaN where it does not apply (two points, a constant response, no fit).
    window : tuple of int
        ``(start, stop)``: positions ``start <= i < stop`` of the input that the
        estimate may use (NaN entries inside it are dropped).
    n_points : int
        Number of points that entered the fit (pairs ``(e_k, e_{k+1})`` for
        :func:`convergence_order`, compared iterates for :func:`max_ratio`).
    kind : str
        ``"linear"``, ``"sublinear"``, ``"order"``, ``"scaling"`` or ``"max_ratio"``.
    extra : dict
        Estimator-specific details (``C``, ``slope``, ``slope_stderr``,
        ``floor``, ``ratios``...). Arrays in it are read-only. Not part of
        equality comparisons.

    Examples
    --------
    >>> from optlab.rates import scaling_exponent
    >>> fit = scaling_exponent([10, 100, 1000], [3.0, 300.0, 30000.0])
    >>> round(float(fit), 6), round(fit.extra["c"], 6), fit.n_points
    (2.0, 0.03, 3)
    """

    value: float
    r2: float
    window: tuple[int, int]
    n_points: int
    kind: str
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __float__(self) -> float:
        return float(self.value)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly copy (arrays become lists), e.g. for ``Claim.verify(details=...)``."""
        return {
            "kind": self.kind,
            "value": _plain(self.value),
            "r2": _plain(self.r2),
            "window": list(self.window),
            "n_points": self.n_points,
            "extra": {k: _plain(v) for k, v in self.extra.items()},
        }


# ----------------------------------------------------------------------------- estimators


def linear_rate(
    errors: Any,
    iters: Any = None,
    *,
    skip: int | None = None,
    floor: float | None = None,
) -> RateFit:
    r"""Contraction factor ``q`` of a linearly convergent error history.

    Fits the model :math:`e_k \approx C q^{k}` by least squares on
    :math:`\log e_k = \log C + k \log q` and returns :math:`q = \exp(\text{slope})`.
    A sequence converging Q- or R-linearly with factor ``q`` (e.g. gradient
    descent on an ``L``-smooth ``mu``-strongly convex function, where
    ``q = 1 - mu/L`` for the step ``1/L``) gives ``value ~ q``; a sublinear
    sequence gives ``q`` close to 1 with a lower ``r2``, a superlinear one a ``q``
    that depends on the window.

    Parameters
    ----------
    errors : array_like, shape (n,)
        The error measure per recorded iterate (``f_k - f*``, ``||x_k - x*||``,
        a gradient norm...). NaN entries are dropped; inf raises.
    iters : array_like, shape (n,), optional
        Iteration counter (or oracle count) of each entry, strictly increasing;
        ``log e`` is then fitted against ``iters`` and ``q`` is the factor per
        unit of ``iters``. Use it for histories recorded every ``m`` iterations
        or irregularly. Default: the position ``0, 1, ..., n-1``.
    skip : int, optional
        Number of leading entries to drop as transient. Default: ``stop // 10``
        (the first 10% of the entries before the floor).
    floor : float, optional
        Precision floor: the window stops at the first entry ``<= floor``.
        Default ``1e3 * eps * max(errors)`` (module docstring, "Windowing").

    Returns
    -------
    RateFit
        ``value = q``; ``extra``: ``C`` (``e_k ~ C q^k``), ``slope``
        (``log q``), ``intercept``, ``slope_stderr``, ``floor``, ``skip``.

    Raises
    ------
    TypeError
        ``errors`` or ``iters`` is not a numeric array or list.
    ValueError
        Not 1-D, empty, containing inf, mismatched lengths, ``iters`` not
        strictly increasing, or fewer than 3 usable points in the window.

    Examples
    --------
    >>> import numpy as np
    >>> k = np.arange(60)
    >>> e = 0.7 ** k
    >>> e[40:] = 1e-17  # the rounding plateau: excluded by the default floor
    >>> fit = linear_rate(e)
    >>> round(fit.value, 10), fit.window, fit.r2 > 1 - 1e-12
    (0.7, (4, 40), True)

    Recorded every 5th iteration:

    >>> fit = linear_rate(0.9 ** k[::5], iters=k[::5])
    >>> round(fit.value, 10)
    0.9
    """
    e, eps = _as_1d(errors, "errors", with_eps=True)
    _reject_inf(e, "errors")
    n = e.size
    if iters is None:
        t = np.arange(n, dtype=float)
    else:
        t = _as_1d(iters, "iters")
        _same_length(e, t, "errors", "iters")
        _reject_inf(t, "iters")
        _check_increasing(t, e, "iters")
    start, stop, fl = _window(e, skip=skip, floor=floor, eps=eps)
    sl = slice(start, stop)
    keep = ~np.isnan(e[sl]) & ~np.isnan(t[sl])
    x, y = t[sl][keep], np.log(e[sl][keep])
    _need(x.size, 3, "linear_rate", start, stop, fl)
    fit = _lsq(x, y, "linear_rate")
    return RateFit(
        value=math.exp(fit["slope"]),
        r2=fit["r2"],
        window=(start, stop),
        n_points=int(x.size),
        kind="linear",
        extra={
            "C": _exp(fit["intercept"]),
            "slope": fit["slope"],
            "intercept": fit["intercept"],
            "slope_stderr": fit["stderr"],
            "floor": fl,
            "skip": start,
        },
    )


def sublinear_order(
    errors: Any,
    iters: Any,
    *,
    skip: int | None = None,
    floor: float | None = None,
) -> RateFit:
    r"""Exponent ``p`` of a sublinear (power-law) error history ``e_k ~ C k^-p``.

    Fits :math:`\log e_k = \log C - p \log k` by least squares over the window
    and returns ``p`` (``p = 1`` for gradient descent on smooth convex
    functions, ``p = 2`` for Nesterov's accelerated method, ``p = 1/2`` for
    subgradient methods with the classical steps).

    Parameters
    ----------
    errors : array_like, shape (n,)
        Error per recorded iterate. NaN entries are dropped; inf raises.
    iters : array_like, shape (n,)
        Iteration counter of each entry, strictly increasing and ``>= 0``.
        Entries with ``iters == 0`` (the starting point ``x_0`` of a history) are
        dropped, since ``log 0`` is undefined; the fit uses ``iters > 0`` only.
        Note that ``k`` counts as-is: for a bound like ``C / (k + 3)`` pass
        ``iters + 3`` if the shift matters on your window.
    skip : int, optional
        Number of leading entries to drop as transient. Default ``stop // 10``.
    floor : float, optional
        Precision floor (the window stops at the first entry ``<= floor``).
        Default ``1e3 * eps * max(errors)``. With an inexact reference (``f*``
        from a solver with accuracy ``delta``) pass ``floor`` of about
        ``100 * delta``: then ``delta`` is at most 1% of every fitted error and the
        fitted ``p`` is biased by at most 1% (the least-squares slope is a
        weighted average of the local slopes).

    Returns
    -------
    RateFit
        ``value = p``; ``extra``: ``C``, ``slope`` (``-p``), ``intercept``,
        ``slope_stderr``, ``floor``, ``skip``.

    Raises
    ------
    TypeError
        Non-numeric input.
    ValueError
        Not 1-D, empty, inf, mismatched lengths, negative or non-increasing
        ``iters``, or fewer than 3 usable points (``iters > 0``) in the window.

    Examples
    --------
    >>> import numpy as np
    >>> k = np.arange(0, 500)
    >>> e = 4.0 / np.maximum(k, 1) ** 2
    >>> fit = sublinear_order(e, k)
    >>> round(fit.value, 8), round(fit.extra["C"], 8), fit.window
    (2.0, 4.0, (50, 500))
    """
    e, eps = _as_1d(errors, "errors", with_eps=True)
    _reject_inf(e, "errors")
    t = _as_1d(iters, "iters")
    _same_length(e, t, "errors", "iters")
    _reject_inf(t, "iters")
    if np.any(t < 0):
        raise ValueError(f"iters must be >= 0, got a minimum of {np.nanmin(t)!r}")
    _check_increasing(t, e, "iters")
    start, stop, fl = _window(e, skip=skip, floor=floor, eps=eps)
    sl = slice(start, stop)
    keep = ~np.isnan(e[sl]) & ~np.isnan(t[sl]) & (t[sl] > 0)
    x, y = np.log(t[sl][keep]), np.log(e[sl][keep])
    _need(x.size, 3, "sublinear_order", start, stop, fl, what="usable points with iters > 0")
    fit = _lsq(x, y, "sublinear_order")
    return RateFit(
        value=-fit["slope"],
        r2=fit["r2"],
        window=(start, stop),
        n_points=int(x.size),
        kind="sublinear",
        extra={
            "C": _exp(fit["intercept"]),
            "slope": fit["slope"],
            "intercept": fit["intercept"],
            "slope_stderr": fit["stderr"],
            "floor": fl,
            "skip": start,
        },
    )


def convergence_order(
    errors: Any,
    *,
    floor: float | None = None,
    skip: int | None = None,
    tail: int | None = None,
) -> RateFit:
    r"""Q-order of convergence, and whether the convergence is superlinear.

    Fits :math:`\log e_{k+1} = \log C + p \log e_k` by least squares over the
    consecutive pairs ``(e_k, e_{k+1})`` of the window and returns the order
    ``p``: 1 for linear convergence, 2 for quadratic (Newton's method near a
    nondegenerate minimizer), 3 for cubic [NW06]_. With exactly two pairs this is
    the classical three-point estimate
    :math:`p \approx \log(e_{k+1}/e_k) / \log(e_k/e_{k-1})`.

    Superlinear convergence (:math:`e_{k+1}/e_k \to 0`) can have Q-order 1 in
    this fit (``e_k = 1/k!`` has slope ``log(k+1)/log(k) -> 1``), so the ratios
    :math:`r_k = e_{k+1}/e_k` are examined too. ``extra["superlinear"]`` is True
    when, over the ratios of the window (NaN-free),

    * there are at least 2 ratios,
    * the last ``min(3, n)`` ratios are strictly decreasing,
    * the geometric mean of the last third of the ratios is at most
      ``SUPERLINEAR_DROP = 0.5`` times that of the first third (the ratios fall,
      not merely fluctuate: noisy linear sequences do not pass), and
    * the last ratio is at most ``SUPERLINEAR_LAST = 0.5``.

    It is a finite-sample heuristic: inspect ``extra["ratios"]`` when it matters.

    Parameters
    ----------
    errors : array_like, shape (n,)
        Error at **every** iteration (a history recorded every ``m`` iterations
        measures the order of the ``m``-step map, ``p^m``). NaN entries are
        dropped together with the pairs they belong to; inf raises.
    floor : float, optional
        Precision floor (window stops at the first entry ``<= floor``); default
        ``1e3 * eps * max(errors)``.
    skip : int, optional
        Leading entries to drop as transient; default ``stop // 10``.
    tail : int, optional
        Use only the last ``tail`` entries before the floor
        (``start = stop - tail``), e.g. the quadratic phase of a damped Newton run
        after its damped phase. Exclusive with ``skip``; ``tail >= 3``.

    Returns
    -------
    RateFit
        ``value = p``; ``n_points`` counts pairs. ``extra``: ``C``
        (``e_{k+1} ~ C e_k^p``), ``slope_stderr``, ``ratios``
        (``ratios[j] = errors[start+j+1] / errors[start+j]``, NaN where an entry
        is missing), ``local_orders`` (``log ratios[j+1] / log ratios[j]``),
        ``superlinear`` (bool), ``floor``, ``skip``.

    Raises
    ------
    ValueError
        Fewer than 3 usable consecutive errors (2 pairs) in the window, among
        the usual input errors. A quadratically convergent run reaches machine
        precision within a few steps: from ``e_0 = 0.1`` the errors are ``1e-2,
        1e-4, 1e-8, 1e-16``, so only 3 to 5 points lie above the floor. Record
        every iteration and, if needed, pass ``tail`` instead of relying on the
        default 10% transient; the function refuses to fit fewer than 3 points
        rather than return an order from a single ratio.

    Examples
    --------
    >>> import numpy as np
    >>> e = [1e-1, 1e-2, 1e-4, 1e-8, 1e-16, 3e-17, 2e-17]  # quadratic, then rounding
    >>> fit = convergence_order(e)
    >>> round(fit.value, 8), fit.window, fit.n_points, fit.extra["superlinear"]
    (2.0, (0, 4), 3, True)
    >>> round(convergence_order(0.5 ** np.arange(40)).value, 8)
    1.0
    """
    e, eps = _as_1d(errors, "errors", with_eps=True)
    _reject_inf(e, "errors")
    if tail is not None and skip is not None:
        raise ValueError("pass at most one of skip and tail")
    start, stop, fl = _window(e, skip=skip, floor=floor, eps=eps, tail=tail)
    w = e[start:stop]
    a, b = w[:-1], w[1:]
    ratios = b / a  # NaN propagates where an entry is missing
    ok = ~np.isnan(ratios)
    n_pairs = int(ok.sum())
    if n_pairs < 2:
        raise ValueError(
            "convergence_order needs at least 3 usable consecutive errors (2 pairs "
            f"(e_k, e_k+1)) in the window [{start}, {stop}) before the floor "
            f"{fl:.3g}; got {n_pairs} pair(s). A quadratically convergent run gives "
            "only 3-5 points above machine precision: record every iteration, use "
            "tail= or skip=0, or lower floor if the errors are accurate below it."
        )
    fit = _lsq(np.log(a[ok]), np.log(b[ok]), "convergence_order")
    r = ratios[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.log(ratios)
        local = lr[1:] / lr[:-1]
    return RateFit(
        value=fit["slope"],
        r2=fit["r2"],
        window=(start, stop),
        n_points=n_pairs,
        kind="order",
        extra={
            "C": _exp(fit["intercept"]),
            "slope_stderr": fit["stderr"],
            "ratios": _readonly(ratios),
            "local_orders": _readonly(local),
            "superlinear": _superlinear(r),
            "floor": fl,
            "skip": start,
        },
    )


def scaling_exponent(sizes: Any, costs: Any) -> RateFit:
    r"""Exponent ``a`` of a cost scaling ``cost ~ c * size^a``.

    Fits :math:`\log \mathrm{cost} = \log c + a \log \mathrm{size}` by least
    squares over all pairs (repeated sizes, e.g. timing repeats, are fine) and
    returns ``a``. Use operation counts rather than times where the claim allows
    it: counts are machine-independent.

    Parameters
    ----------
    sizes : array_like, shape (n,)
        Problem sizes (``n``, ``d``, ``k``...), positive. NaN pairs are dropped.
    costs : array_like, shape (n,)
        Measured cost at each size (time, flops, oracle calls), positive.

    Returns
    -------
    RateFit
        ``value = a``; ``window = (0, n)``; ``extra``: ``c``, ``intercept``,
        ``slope_stderr``. ``r2`` is NaN with exactly 2 points.

    Raises
    ------
    TypeError
        Non-numeric input.
    ValueError
        Mismatched lengths, inf, non-positive sizes or costs, fewer than 2
        usable pairs or fewer than 2 distinct sizes.

    Examples
    --------
    >>> fit = scaling_exponent([100, 200, 400, 800], [1.0, 8.0, 64.0, 512.0])
    >>> round(fit.value, 8), round(fit.r2, 8)
    (3.0, 1.0)
    """
    s = _as_1d(sizes, "sizes")
    c = _as_1d(costs, "costs")
    _same_length(s, c, "sizes", "costs")
    _reject_inf(s, "sizes")
    _reject_inf(c, "costs")
    for arr, name in ((s, "sizes"), (c, "costs")):
        if np.any(arr <= 0):
            raise ValueError(f"{name} must be positive, got a minimum of {np.nanmin(arr)!r}")
    keep = ~np.isnan(s) & ~np.isnan(c)
    m = int(keep.sum())
    if m < 2:
        raise ValueError(f"scaling_exponent needs at least 2 usable (size, cost) pairs, got {m}")
    x, y = np.log(s[keep]), np.log(c[keep])
    if np.ptp(x) == 0:
        raise ValueError("scaling_exponent needs at least 2 distinct sizes")
    fit = _lsq(x, y, "scaling_exponent")
    return RateFit(
        value=fit["slope"],
        r2=fit["r2"],
        window=(0, int(s.size)),
        n_points=m,
        kind="scaling",
        extra={
            "c": _exp(fit["intercept"]),
            "intercept": fit["intercept"],
            "slope_stderr": fit["stderr"],
        },
    )


def max_ratio(measured: Any, bound: Any) -> RateFit:
    r"""Largest ratio ``measured_k / bound_k`` over the iterates (upper-bound claims).

    An upper bound ``measured_k <= bound_k`` for every ``k`` holds exactly when
    the returned value is ``<= 1``; :class:`optlab.claims.Claim` of kind
    ``upper_bound`` with ``expected=1`` checks it with a relative slack.

    Parameters
    ----------
    measured : array_like, shape (n,)
        Measured quantity per iterate (may be negative, e.g. ``f_k - f*`` at the
        rounding level; ``+inf`` is kept and gives an infinite ratio).
    bound : array_like, shape (n,)
        The claimed bound per iterate, positive. ``+inf`` entries (a vacuous
        bound such as ``C / k`` at ``k = 0``) are dropped.

    NaN in either array drops that iterate.

    Returns
    -------
    RateFit
        ``value = max_k measured_k / bound_k``; ``r2`` NaN; ``window = (0, n)``;
        ``n_points`` = iterates compared; ``extra``: ``argmax`` (position in the
        input) and ``ratios`` (aligned with the input, NaN where dropped).

    Raises
    ------
    TypeError
        Non-numeric input.
    ValueError
        Mismatched lengths, ``-inf`` in ``measured``, a bound ``<= 0``, or no
        iterate left to compare.

    Examples
    --------
    >>> import numpy as np
    >>> k = np.arange(1, 6)
    >>> fit = max_ratio(1.0 / (k + 1), 1.0 / k)
    >>> round(fit.value, 6), fit.extra["argmax"]
    (0.833333, 4)
    """
    m = _as_1d(measured, "measured")
    b = _as_1d(bound, "bound")
    _same_length(m, b, "measured", "bound")
    if np.any(m == -np.inf):
        raise ValueError("measured contains -inf")
    if np.any(b <= 0):
        raise ValueError(f"bound must be positive, got a minimum of {np.nanmin(b)!r}")
    keep = ~np.isnan(m) & ~np.isnan(b) & np.isfinite(b)
    if not keep.any():
        raise ValueError("max_ratio: no iterate with both a finite bound and a measurement")
    ratios = np.full(m.shape, np.nan)
    ratios[keep] = m[keep] / b[keep]
    j = int(np.nanargmax(ratios))
    return RateFit(
        value=float(ratios[j]),
        r2=math.nan,
        window=(0, int(m.size)),
        n_points=int(keep.sum()),
        kind="max_ratio",
        extra={"argmax": j, "ratios": _readonly(ratios)},
    )


# ----------------------------------------------------------------------------- helpers


def _as_1d(x: Any, name: str, *, with_eps: bool = False) -> Any:
    """A 1-D float64 host copy of ``x`` (and the input dtype's eps when ``with_eps``).

    TypeError for non-arrays and non-real dtypes, ValueError for a bad shape.
    """
    if isinstance(x, np.ndarray):
        arr = x
    elif isinstance(x, list | tuple):
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be a 1-D sequence of numbers ({exc})") from exc
    elif is_array_api_obj(x) and not isinstance(x, np.generic):
        arr = to_numpy(x)
    elif hasattr(x, "__array__") and not isinstance(x, np.generic):  # pandas, xarray...
        arr = np.asarray(x)
    else:
        raise TypeError(f"{name} must be a 1-D array or a list of numbers, got {type(x).__name__}")
    if arr.dtype == object or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    out = np.asarray(arr, dtype=np.float64)
    if not with_eps:
        return out
    eps = float(np.finfo(arr.dtype if arr.dtype.kind == "f" else np.float64).eps)
    return out, eps


def _reject_inf(a: np.ndarray, name: str) -> None:
    if np.any(np.isinf(a)):
        raise ValueError(f"{name} contains inf at position {int(np.argmax(np.isinf(a)))}")


def _same_length(a: np.ndarray, b: np.ndarray, na: str, nb: str) -> None:
    if a.size != b.size:
        raise ValueError(f"{na} and {nb} must have the same length, got {a.size} and {b.size}")


def _check_increasing(t: np.ndarray, e: np.ndarray, name: str) -> None:
    tt = t[~np.isnan(t) & ~np.isnan(e)]
    if tt.size > 1 and not np.all(np.diff(tt) > 0):
        j = int(np.argmax(np.diff(tt) <= 0))
        raise ValueError(
            f"{name} must be strictly increasing, got {tt[j]!r} then {tt[j + 1]!r} "
            "(did you swap errors and iters?)"
        )


def _window(
    e: np.ndarray,
    *,
    skip: int | None,
    floor: float | None,
    eps: float,
    tail: int | None = None,
) -> tuple[int, int, float]:
    """``(start, stop, floor)`` per the module docstring's windowing rules."""
    n = e.size
    if floor is None:
        pos = e[~np.isnan(e) & (e > 0)]
        if pos.size == 0:
            raise ValueError("errors has no positive entries: no rate can be fitted")
        fl = FLOOR_FACTOR * eps * float(pos.max())
    else:
        fl = check_nonnegative(floor, "floor")
    below = ~np.isnan(e) & (e <= fl)
    stop = int(np.argmax(below)) if below.any() else n
    if stop == 0:
        raise ValueError(f"errors[0] = {e[0]!r} is already at or below the floor {fl:.3g}")
    if tail is not None:
        tail = check_int(tail, "tail", minimum=3)
        start = max(0, stop - tail)
    elif skip is None:
        start = stop // 10
    else:
        start = check_int(skip, "skip", minimum=0)
        if start >= stop:
            raise ValueError(
                f"skip={start} leaves no entries: the window stops at {stop} "
                f"(first entry <= floor {fl:.3g})"
            )
    return start, stop, fl


def _need(
    m: int, minimum: int, who: str, start: int, stop: int, fl: float, what: str = "usable points"
) -> None:
    if m < minimum:
        raise ValueError(
            f"{who} needs at least {minimum} {what} in the window [{start}, {stop}) "
            f"(transient skipped, stopped at the first entry <= floor {fl:.3g}, NaN dropped); "
            f"got {m}"
        )


def _lsq(x: np.ndarray, y: np.ndarray, who: str) -> dict[str, float]:
    """Least-squares line ``y = intercept + slope x`` with r2 and the slope's stderr."""
    n = x.size
    xm, ym = float(x.mean()), float(y.mean())
    dx, dy = x - xm, y - ym
    sxx = float(dx @ dx)
    if sxx == 0.0:
        raise ValueError(f"{who}: all abscissae in the window are equal; no slope can be fitted")
    slope = float(dx @ dy) / sxx
    resid = dy - slope * dx
    ss_res, ss_tot = float(resid @ resid), float(dy @ dy)
    r2 = 1.0 - ss_res / ss_tot if (n > 2 and ss_tot > 0.0) else math.nan
    stderr = math.sqrt(ss_res / (n - 2) / sxx) if n > 2 else math.nan
    return {"slope": slope, "intercept": ym - slope * xm, "r2": r2, "stderr": stderr}


def _superlinear(r: np.ndarray) -> bool:
    if r.size < 2 or np.any(r <= 0):
        return False
    last = r[-min(3, r.size) :]
    if not np.all(np.diff(last) < 0):
        return False
    third = max(1, r.size // 3)
    drop = float(np.mean(np.log(r[-third:])) - np.mean(np.log(r[:third])))
    return bool(drop <= math.log(SUPERLINEAR_DROP) and r[-1] <= SUPERLINEAR_LAST)


def _exp(v: float) -> float:
    """``exp`` that saturates to inf instead of raising (a constant referenced far from 0)."""
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return [None if not math.isfinite(x) else float(x) for x in v.tolist()]
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        f = float(v)
        return f if math.isfinite(f) else None
    return v
