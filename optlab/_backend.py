"""Array namespace from the inputs, and the one adapter for what the array API lacks.

(Initial core; extended by the backend work: sparse matrices, cg, eigh, scatter-add.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_cupy_namespace, is_numpy_namespace

__all__ = ["get_namespace", "to_numpy", "solve", "is_numpy_namespace", "is_cupy_namespace"]


def get_namespace(*arrays: Any):
    """The array-API namespace of ``arrays`` (NumPy arrays give array_api_compat.numpy)."""
    return array_namespace(*arrays)


def to_numpy(x: Any) -> np.ndarray:
    """Copy ``x`` to a host NumPy array (CuPy via ``.get()``, others via DLPack/asarray)."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "get") and type(x).__module__.startswith("cupy"):
        return x.get()
    try:
        return np.from_dlpack(x)
    except (TypeError, AttributeError, RuntimeError, BufferError):
        return np.asarray(x)


def solve(xp, A: Any, b: Any, *, assume_a: str = "gen") -> Any:
    """Solve ``A x = b`` for dense square ``A``; ``assume_a="pos"`` uses Cholesky.

    NumPy -> scipy.linalg.solve / cho_solve; CuPy -> cupy.linalg / cupyx.scipy.linalg;
    other namespaces -> their ``linalg`` extension (cholesky + two triangular solves
    is not in the standard, so ``pos`` falls back to ``linalg.solve`` there).
    """
    if is_numpy_namespace(xp):
        import scipy.linalg as sla

        return sla.solve(np.asarray(A), np.asarray(b), assume_a=assume_a)
    if is_cupy_namespace(xp):
        import cupy

        return cupy.linalg.solve(A, b)
    return xp.linalg.solve(A, b)
