"""Input validation shared by every solver: clear errors that name the argument.

Bad input raises ``TypeError`` (wrong kind of object) or ``ValueError`` (right
kind, wrong value: shape, NaN/inf, non-positive step...). Numerical trouble
*during* a run is not an error: it is reported in the Result.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_array_api_obj

__all__ = [
    "check_callable",
    "check_positive",
    "check_nonnegative",
    "check_int",
    "check_array",
    "check_finite_value",
    "check_choice",
]


def check_callable(f: Any, name: str, *, optional: bool = False) -> Callable | None:
    """Require ``f`` to be callable (or ``None`` when ``optional``)."""
    if f is None and optional:
        return None
    if not callable(f):
        raise TypeError(f"{name} must be callable, got {type(f).__name__}")
    return f


def _real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        # 0-d arrays of a real dtype are accepted
        try:
            if getattr(value, "shape", None) == () and is_array_api_obj(value):
                return float(value)
        except TypeError:
            pass
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if math.isnan(v):
        raise ValueError(f"{name} must not be NaN")
    return v


def check_positive(value: Any, name: str, *, optional: bool = False, finite: bool = True) -> float | None:
    """Require a real number ``> 0`` (finite unless ``finite=False``)."""
    if value is None and optional:
        return None
    v = _real(value, name)
    if not v > 0:
        raise ValueError(f"{name} must be positive, got {v!r}")
    if finite and math.isinf(v):
        raise ValueError(f"{name} must be finite, got {v!r}")
    return v


def check_nonnegative(value: Any, name: str, *, optional: bool = False) -> float | None:
    """Require a finite real number ``>= 0``."""
    if value is None and optional:
        return None
    v = _real(value, name)
    if v < 0 or math.isinf(v):
        raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    return v


def check_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Require an integer ``>= minimum`` (e.g. ``max_iter >= 1``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    v = int(value)
    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return v


def check_choice(value: Any, name: str, choices: tuple) -> Any:
    """Require ``value`` to be one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_array(
    x: Any,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    shape: tuple[int | None, ...] | None = None,
    finite: bool = True,
    nonempty: bool = True,
) -> Any:
    """Validate an array argument and return it as an array of a floating dtype.

    Arrays of any array-API namespace are kept in their namespace; lists,
    tuples and scalars become NumPy arrays. Integer and boolean arrays are cast
    to float64 (NumPy) or the namespace's default float.

    Raises
    ------
    TypeError
        ``x`` is not array-like or has a non-numeric dtype.
    ValueError
        Wrong ``ndim`` or ``shape`` (``None`` entries match any size), empty,
        or containing NaN/inf when ``finite``.
    """
    if is_array_api_obj(x) and not isinstance(x, np.ndarray | np.generic):
        xp = array_namespace(x)
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be array-like, got {type(x).__name__}") from exc
        if arr.dtype == object or arr.dtype.kind not in "biufc":
            raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
        xp = array_namespace(arr)
    if xp.isdtype(arr.dtype, ("bool", "integral")):
        arr = xp.astype(arr, xp.float64) if hasattr(xp, "float64") else xp.astype(arr, float)
    elif not xp.isdtype(arr.dtype, ("real floating", "complex floating")):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must be {_ndim_txt(allowed)}, got shape {tuple(arr.shape)}")
    if shape is not None:
        ok = arr.ndim == len(shape) and all(
            s is None or s == t for s, t in zip(shape, arr.shape, strict=True)
        )
        if not ok:
            want = tuple("*" if s is None else s for s in shape)
            raise ValueError(f"{name} must have shape {want}, got {tuple(arr.shape)}")
    if nonempty and math.prod(arr.shape) == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(arr.shape)}")
    if finite and not bool(xp.all(xp.isfinite(arr))):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def check_finite_value(value: Any, name: str) -> float:
    """Evaluate a scalar oracle output and require it finite (used on x0)."""
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} is not finite ({v!r})")
    return v


def _ndim_txt(allowed: tuple[int, ...]) -> str:
    names = {0: "a scalar", 1: "1-D", 2: "2-D", 3: "3-D"}
    return " or ".join(names.get(a, f"{a}-D") for a in allowed)
