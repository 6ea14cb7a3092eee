r"""Proximal operators and projections with one call shape.

Every operator is called as ``prox(v, step, **params)`` and returns

.. math:: \mathrm{prox}_{\text{step}\cdot g}(v) = \arg\min_u\; g(u) + \frac{1}{2\,\text{step}}\|u - v\|^2,

so that ``functools.partial(prox_l1, lam=0.1)`` can be passed to
:func:`optlab.convex.proximal_gradient`. For indicator functions (balls, boxes, the
nonnegative orthant) the prox is the Euclidean projection, independent of ``step``,
which is then optional; those also fit :func:`optlab.convex.projected_gradient`.

All operators are array-namespace generic (NumPy, CuPy, any array-API library): the
result has the namespace, device and dtype of ``v``. Parameters that are arrays must
broadcast against ``v``; Python scalars are fine everywhere.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from array_api_compat import device as _device

from optlab._backend import get_namespace, scatter_add, to_numpy
from optlab._validate import check_nonnegative, check_positive

__all__ = ["prox_l1", "project_l2_ball", "prox_box", "prox_nonnegative", "prox_group_l2"]


def _param(xp, value: Any, like: Any, name: str, *, nonnegative: bool = False):
    """A Python float, or an array of ``xp`` with the dtype/device of ``like``."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        v = float(value)
        if v != v:
            raise ValueError(f"{name} must not be NaN")
        if nonnegative and v < 0:
            raise ValueError(f"{name} must be >= 0, got {v!r}")
        return v
    if value is None or isinstance(value, bool):
        raise TypeError(f"{name} must be a real number or an array, got {type(value).__name__}")
    try:
        arr = xp.asarray(value, dtype=like.dtype, device=_device(like))
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a real number or an array, got {type(value).__name__}"
        ) from exc
    if bool(xp.any(xp.isnan(arr))):
        raise ValueError(f"{name} must not contain NaN")
    if nonnegative and bool(xp.any(arr < 0)):
        raise ValueError(f"{name} must be >= 0 everywhere")
    return arr


def prox_l1(v: Any, step: float, *, lam: Any = 1.0) -> Any:
    r"""Soft-thresholding: the prox of :math:`g(u) = \lambda\|u\|_1`.

    .. math:: \mathrm{prox}_{\eta g}(v)_i = \mathrm{sign}(v_i)\max(|v_i| - \eta\lambda_i, 0).

    Parameters
    ----------
    v : array
    step : float
        :math:`\eta > 0`.
    lam : float or array
        :math:`\lambda \ge 0`; an array (broadcast against ``v``) gives a weighted
        :math:`\ell_1` norm :math:`\sum_i \lambda_i |u_i|` (zero weights leave
        coordinates unpenalized).

    Examples
    --------
    >>> import numpy as np
    >>> prox_l1(np.array([3.0, -0.5, -2.0]), 0.5, lam=2.0)
    array([ 2., -0., -1.])
    """
    xp = get_namespace(v)
    step = check_positive(step, "step")
    lam = _param(xp, lam, v, "lam", nonnegative=True)
    return xp.sign(v) * xp.clip(xp.abs(v) - step * lam, min=0.0)


def project_l2_ball(
    v: Any, step: float | None = None, *, radius: float = 1.0, center: Any = None
) -> Any:
    r"""Projection onto the Euclidean ball :math:`\{u : \|u - c\|_2 \le r\}`.

    The prox of its indicator for any step: :math:`c + (v - c)\min(1, r/\|v - c\|)`,
    the norm taken over all entries of ``v``.

    Parameters
    ----------
    v : array
    step : float, optional
        Ignored (accepted for the uniform call shape).
    radius : float
        :math:`r > 0`.
    center : array or float, optional
        :math:`c` (default 0).

    Examples
    --------
    >>> import numpy as np
    >>> project_l2_ball(np.array([3.0, 4.0]), radius=1.0)
    array([0.6, 0.8])
    """
    xp = get_namespace(v)
    if step is not None:
        check_positive(step, "step")
    radius = check_positive(radius, "radius")
    c = None if center is None else _param(xp, center, v, "center")
    d = v if c is None else v - c
    nrm = xp.linalg.vector_norm(d)
    # min(1, r/||d||) without a host sync and without 0/0
    scale = radius / xp.clip(nrm, min=radius)
    return d * scale if c is None else c + d * scale


def prox_box(v: Any, step: float | None = None, *, lower: Any, upper: Any) -> Any:
    r"""Projection onto the box :math:`\{u : \ell \le u \le h\}` (clipping).

    Parameters
    ----------
    v : array
    step : float, optional
        Ignored (accepted for the uniform call shape).
    lower, upper : float, array or None
        Bounds :math:`\ell \le h` (scalars or arrays broadcasting against ``v``;
        ``None`` or ``-inf``/``inf`` for an open side).

    Raises
    ------
    ValueError
        ``lower > upper`` somewhere, or a NaN bound.

    Examples
    --------
    >>> import numpy as np
    >>> prox_box(np.array([-2.0, 0.5, 3.0]), lower=0.0, upper=1.0)
    array([0. , 0.5, 1. ])
    """
    xp = get_namespace(v)
    if step is not None:
        check_positive(step, "step")
    lo = None if lower is None else _param(xp, lower, v, "lower")
    hi = None if upper is None else _param(xp, upper, v, "upper")
    if lo is not None and hi is not None:
        if isinstance(lo, float) and isinstance(hi, float):
            bad = lo > hi
        else:
            bad = bool(xp.any(xp.asarray(lo > hi)))
        if bad:
            raise ValueError("prox_box needs lower <= upper everywhere")
    return xp.clip(v, min=lo, max=hi)


def prox_nonnegative(v: Any, step: float | None = None) -> Any:
    r"""Projection onto the nonnegative orthant: :math:`\max(v, 0)` entrywise.

    Examples
    --------
    >>> import numpy as np
    >>> prox_nonnegative(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    xp = get_namespace(v)
    if step is not None:
        check_positive(step, "step")
    return xp.clip(v, min=0.0)


def _group_labels(groups: Any, n: int) -> tuple[np.ndarray, int]:
    """Integer labels ``0..G-1`` per coordinate, ``G`` for unpenalized ones; and ``G``."""
    if isinstance(groups, list | tuple):
        labels = np.full(n, -1, dtype=np.int64)
        for j, idx in enumerate(groups):
            idx = np.asarray(to_numpy(idx) if not isinstance(idx, list | tuple) else idx)
            if idx.dtype.kind not in "iu" and idx.size > 0:
                raise TypeError(f"groups[{j}] must hold integer indices, got dtype {idx.dtype}")
            idx = idx.astype(np.int64).ravel()
            if idx.size and (idx.min() < -n or idx.max() >= n):
                raise ValueError(f"groups[{j}] has indices outside [0, {n})")
            idx = np.mod(idx, n)
            if np.any(labels[idx] >= 0) or np.unique(idx).size != idx.size:
                raise ValueError("groups must be disjoint (block soft-thresholding needs it)")
            labels[idx] = j
        n_groups = len(groups)
        labels[labels < 0] = n_groups
        return labels, n_groups
    arr = np.asarray(to_numpy(groups))
    if arr.shape != (n,):
        raise ValueError(f"groups as a label array must have shape ({n},), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"groups as a label array must be integer, got dtype {arr.dtype}")
    pen = arr >= 0
    uniq, inv = np.unique(arr[pen], return_inverse=True)
    n_groups = uniq.size
    labels = np.full(n, n_groups, dtype=np.int64)
    labels[pen] = inv
    return labels, n_groups


def prox_group_l2(v: Any, step: float, *, groups: Any, lam: Any = 1.0) -> Any:
    r"""Block soft-thresholding: the prox of :math:`g(u) = \sum_j \lambda_j \|u_{G_j}\|_2`.

    .. math:: \mathrm{prox}_{\eta g}(v)_{G_j} = v_{G_j}
              \max\left(0,\; 1 - \frac{\eta\lambda_j}{\|v_{G_j}\|_2}\right).

    Parameters
    ----------
    v : 1-D array
    step : float
        :math:`\eta > 0`.
    groups : list of index arrays, or integer label array of shape ``v.shape``
        Disjoint groups :math:`G_j`. As a list, ``groups[j]`` holds the indices of
        :math:`G_j`; as labels, coordinates with equal nonnegative labels form a group
        (groups ordered by increasing label). Coordinates in no group (negative label,
        or absent from the list) are left unchanged.
    lam : float or 1-D array
        :math:`\lambda \ge 0`, one value or one per group (e.g. ``sqrt`` of the group
        sizes).

    Notes
    -----
    Group norms go through :func:`optlab._backend.scatter_add`; the group structure is
    rebuilt on the host from ``groups`` at each call (``O(n)``).

    Examples
    --------
    >>> import numpy as np
    >>> prox_group_l2(np.array([3.0, 4.0, 0.1, 5.0]), 1.0, groups=[[0, 1], [2]], lam=1.0)
    array([2.4, 3.2, 0. , 5. ])
    """
    xp = get_namespace(v)
    step = check_positive(step, "step")
    if v.ndim != 1:
        raise ValueError(f"prox_group_l2 needs a 1-D v, got shape {tuple(v.shape)}")
    n = v.shape[0]
    labels_np, n_groups = _group_labels(groups, n)
    dev = _device(v)
    if isinstance(lam, numbers.Real) and not isinstance(lam, bool):
        lam_g = np.full(n_groups + 1, check_nonnegative(lam, "lam"))
    else:
        lam_np = np.asarray(to_numpy(lam), dtype=np.float64).ravel()
        if lam_np.shape != (n_groups,):
            raise ValueError(
                f"lam must be a scalar or have one entry per group ({n_groups}), got shape {lam_np.shape}"
            )
        if np.any(np.isnan(lam_np)) or np.any(lam_np < 0):
            raise ValueError("lam must be >= 0 everywhere")
        lam_g = np.append(lam_np, 0.0)
    lam_g[n_groups] = 0.0  # unpenalized coordinates
    labels = xp.asarray(labels_np, device=dev)
    thr = xp.asarray(step * lam_g, dtype=v.dtype, device=dev)
    sq = scatter_add(xp, n_groups + 1, labels, v * v, check_bounds=False)
    nrm = xp.sqrt(sq)
    tiny = xp.finfo(v.dtype).smallest_normal
    scale = xp.clip(nrm - thr, min=0.0) / xp.clip(nrm, min=tiny)
    return v * xp.take(scale, labels)
