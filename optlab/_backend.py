"""Array namespace from the inputs, and the one adapter for what the array API lacks.

Generic solvers take their namespace from their inputs (``xp = get_namespace(x0)``)
and use only ``xp.*`` calls. What the array API standard does not provide goes
through the functions of this module, which dispatch on the namespace:

- ``solve``: NumPy ``scipy.linalg.solve`` / ``cho_factor`` + ``cho_solve``; CuPy
  ``cupy.linalg.solve`` / ``cholesky`` + ``cupyx.scipy.linalg.solve_triangular``; other
  namespaces ``xp.linalg.solve`` (``xp.linalg.cholesky`` first for ``assume_a="pos"``).
  Sparse matrices go to ``spsolve``.
- ``cholesky``, ``eigh``: ``xp.linalg`` (NumPy, array_api_strict), ``cupy.linalg``.
- ``cg``: one generic implementation for every namespace, counting matrix-vector products.
- sparse matrices (``is_sparse``, ``matmul``, ``sparse_from_coo``, ``to_dense``):
  ``scipy.sparse`` (``csr_array``) for NumPy, ``cupyx.scipy.sparse`` (``csr_matrix``) for
  CuPy, plain dense arrays for other namespaces.
- ``scatter_add``: ``numpy.add.at``; ``cupyx.scatter_add``; a chunked one-hot matmul.
- ``norm``, ``vdot``: 0-d arrays of ``xp`` (no host sync).

CuPy is imported lazily inside the CuPy branches, never at module import. Those
branches are marked ``# pragma: no cover``: this project's machines have no GPU, so
they are exercised only by the tests marked ``gpu`` where a CUDA device exists.
Everything else is tested on NumPy and on ``array_api_strict`` (which also catches
hidden host transfers and NumPy-scalar leaks).
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
from array_api_compat import (
    array_namespace,
    device,
    is_array_api_strict_namespace,
    is_cupy_namespace,
    is_numpy_namespace,
)

__all__ = [
    "get_namespace",
    "to_numpy",
    "is_numpy_namespace",
    "is_cupy_namespace",
    "is_array_api_strict_namespace",
    "device",
    "asarray_like",
    "default_float",
    "float_dtype",
    "solve",
    "cholesky",
    "eigh",
    "cg",
    "is_sparse",
    "matmul",
    "to_dense",
    "sparse_from_coo",
    "scatter_add",
    "norm",
    "vdot",
]

# Largest number of one-hot entries (rows x chunk) built at once by the generic scatter_add.
_ONEHOT_BUDGET = 1 << 22


# --------------------------------------------------------------------------------------
# namespaces, devices, dtypes
# --------------------------------------------------------------------------------------


def _is_scipy_sparse(a: Any) -> bool:
    if "scipy.sparse" not in sys.modules:
        return False
    import scipy.sparse as sp

    return sp.issparse(a)


def _is_cupyx_sparse(a: Any) -> bool:
    # A cupyx sparse matrix can only exist if cupyx.scipy.sparse was imported already,
    # so looking at sys.modules keeps cupy from being imported here.
    mod = sys.modules.get("cupyx.scipy.sparse")
    return mod is not None and mod.issparse(a)  # pragma: no cover


def is_sparse(A: Any) -> bool:
    """Whether ``A`` is a ``scipy.sparse`` or ``cupyx.scipy.sparse`` matrix/array.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> is_sparse(sp.eye(3, format="csr")), is_sparse(np.eye(3))
    (True, False)
    """
    return _is_scipy_sparse(A) or _is_cupyx_sparse(A)


def _is_linear_operator(A: Any) -> bool:
    if "scipy.sparse.linalg" in sys.modules:
        from scipy.sparse.linalg import LinearOperator

        if isinstance(A, LinearOperator):
            return True
    mod = sys.modules.get("cupyx.scipy.sparse.linalg")
    return mod is not None and isinstance(A, mod.LinearOperator)  # pragma: no cover


def get_namespace(*arrays: Any):
    """The array-API namespace of ``arrays``.

    NumPy arrays give ``array_api_compat.numpy``, CuPy arrays ``array_api_compat.cupy``,
    array-API arrays their own namespace. ``None`` and Python scalars are ignored;
    ``scipy.sparse`` matrices count as NumPy and ``cupyx.scipy.sparse`` as CuPy, so
    ``get_namespace(A_sparse, x0)`` works. Mixing namespaces raises ``TypeError``.

    Examples
    --------
    >>> import numpy as np
    >>> get_namespace(np.ones(2)).__name__
    'array_api_compat.numpy'
    """
    dense = []
    sparse_ns = set()
    for a in arrays:
        if _is_scipy_sparse(a):
            sparse_ns.add("numpy")
        elif _is_cupyx_sparse(a):  # pragma: no cover
            sparse_ns.add("cupy")
        else:
            dense.append(a)
    if not sparse_ns:
        return array_namespace(*dense)
    if len(sparse_ns) > 1:  # pragma: no cover
        raise TypeError("cannot mix scipy.sparse and cupyx.scipy.sparse matrices")
    if sparse_ns == {"numpy"}:
        xp = array_namespace(np.empty(0))
    else:  # pragma: no cover
        import cupy

        xp = array_namespace(cupy.empty(0))
    if any(a is not None and not isinstance(a, int | float | complex) for a in dense):
        other = array_namespace(*dense)
        if other is not xp:
            raise TypeError(
                f"sparse matrices live in {xp.__name__} but the other arrays are from "
                f"{other.__name__}"
            )
    return xp


def to_numpy(x: Any) -> np.ndarray:
    """Copy ``x`` to a host NumPy array (for results I/O and plotting only).

    CuPy arrays go through ``.get()``; array_api_strict arrays on a non-CPU (fake)
    device are moved to ``CPU_DEVICE`` first; other arrays go through DLPack or
    ``numpy.asarray``. Sparse matrices are densified. Python scalars and lists are
    accepted.

    Examples
    --------
    >>> import array_api_strict as xs
    >>> to_numpy(xs.asarray([1.0, 2.0]))
    array([1., 2.])
    """
    if isinstance(x, np.ndarray):
        return x
    if _is_scipy_sparse(x):
        return x.toarray()
    if _is_cupyx_sparse(x):  # pragma: no cover
        return x.get().toarray()
    if hasattr(x, "get") and type(x).__module__.startswith("cupy"):  # pragma: no cover
        return x.get()
    if type(x).__module__.startswith("array_api_strict"):
        import array_api_strict

        cpu = array_api_strict.Device("CPU_DEVICE")
        if x.device != cpu:
            x = x.to_device(cpu)
        return np.from_dlpack(x)
    if hasattr(x, "__dlpack__"):
        try:
            return np.from_dlpack(x)
        except (TypeError, AttributeError, RuntimeError, BufferError):  # pragma: no cover
            pass
    return np.asarray(x)


def default_float(xp, device: Any = None):
    """The default real floating dtype of ``xp`` (on ``device``).

    float64 for NumPy and CuPy; float32 on array_api_strict's ``no_float64`` device.
    """
    info = getattr(xp, "__array_namespace_info__", None)
    if info is not None:
        try:
            return info().default_dtypes(device=device)["real floating"]
        except (TypeError, ValueError, KeyError, AttributeError):  # pragma: no cover
            pass
    return xp.float64  # pragma: no cover


def float_dtype(xp, *arrays: Any):
    """Floating dtype for computing with ``arrays``: their promoted dtype if floating,
    otherwise the namespace's default float (integer data -> float64)."""
    arrs = [a for a in arrays if a is not None and not _is_scalar(a)]
    if not arrs:
        return default_float(xp)
    dt = xp.result_type(*[a.dtype for a in arrs])
    if xp.isdtype(dt, ("real floating", "complex floating")):
        return dt
    return default_float(xp, device(arrs[0]))


def _is_scalar(a: Any) -> bool:
    return isinstance(a, bool | int | float | complex)


def asarray_like(xp, x: Any, *, like: Any = None, dtype: Any = None) -> Any:
    """``xp.asarray(x)`` with the dtype and device of ``like`` (``dtype`` overrides).

    Examples
    --------
    >>> import numpy as np
    >>> xp = get_namespace(np.ones(2, dtype=np.float32))
    >>> asarray_like(xp, [1, 2], like=np.ones(2, dtype=np.float32)).dtype
    dtype('float32')
    """
    if like is None:
        return xp.asarray(x, dtype=dtype)
    return xp.asarray(x, dtype=like.dtype if dtype is None else dtype, device=device(like))


# --------------------------------------------------------------------------------------
# dense linear algebra
# --------------------------------------------------------------------------------------


def _check_square(A: Any, name: str = "A") -> None:
    shape = getattr(A, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"{name} must be a square 2-D matrix, got shape {shape}")


def solve(xp, A: Any, b: Any, *, assume_a: str = "gen") -> Any:
    """Solve ``A x = b`` for square ``A``.

    Parameters
    ----------
    xp : namespace
        Array namespace of ``A`` and ``b`` (from :func:`get_namespace`).
    A : (n, n) array or sparse matrix
        Sparse matrices use ``scipy.sparse.linalg.spsolve`` / its cupyx twin.
    b : (n,) or (n, k) array
    assume_a : {"gen", "pos"}
        ``"pos"``: ``A`` is symmetric positive definite and a Cholesky factorization is
        used (``scipy.linalg.cho_factor``/``cho_solve``; on CuPy ``cholesky`` and two
        triangular solves; elsewhere ``xp.linalg.cholesky`` and two ``xp.linalg.solve``).
        A matrix that is not positive definite raises ``LinAlgError`` on every namespace.

    Returns
    -------
    x : array in the namespace and dtype of the inputs.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]]); b = np.array([1.0, 2.0])
    >>> x = solve(get_namespace(A), A, b, assume_a="pos")
    >>> np.testing.assert_allclose(A @ x, b)
    """
    if assume_a not in ("gen", "pos"):
        raise ValueError(f"assume_a must be 'gen' or 'pos', got {assume_a!r}")
    _check_square(A)
    if is_sparse(A):
        if _is_scipy_sparse(A):
            from scipy.sparse.linalg import spsolve

            return spsolve(A.tocsc(), b)
        from cupyx.scipy.sparse.linalg import spsolve  # pragma: no cover

        return spsolve(A.tocsr(), b)  # pragma: no cover
    if is_numpy_namespace(xp):
        import scipy.linalg as sla

        A_, b_ = np.asarray(A), np.asarray(b)
        if assume_a == "pos":
            return sla.cho_solve(sla.cho_factor(A_, lower=True), b_)
        return sla.solve(A_, b_)
    if is_cupy_namespace(xp):  # pragma: no cover
        import cupy
        import cupyx
        from cupyx.scipy.linalg import solve_triangular

        # CuPy returns NaNs for singular / indefinite input unless told to raise.
        with cupyx.errstate(linalg="raise"):
            if assume_a == "pos":
                L = cupy.linalg.cholesky(A)
                y = solve_triangular(L, b, lower=True)
                return solve_triangular(L, y, lower=True, trans="C")
            return cupy.linalg.solve(A, b)
    if assume_a == "pos":
        # The standard has no triangular solve: factor (which checks definiteness),
        # then two general solves with the triangular factors.
        L = xp.linalg.cholesky(A)
        y = _std_solve(xp, L, b)
        LH = xp.matrix_transpose(L)
        if _is_complex(xp, L):
            LH = xp.conj(LH)
        return _std_solve(xp, LH, y)
    return _std_solve(xp, A, b)


def solve_triangular(xp, L: Any, b: Any, *, lower: bool = True, trans: bool = False) -> Any:
    """Solve ``L z = b`` (``trans=False``) or ``L^T z = b`` for a triangular real ``L``.

    NumPy: ``scipy.linalg.solve_triangular``; CuPy: ``cupyx.scipy.linalg.solve_triangular``;
    other namespaces (the array API has no triangular solve): ``xp.linalg.solve``.
    """
    if is_numpy_namespace(xp):
        import scipy.linalg as sla

        return sla.solve_triangular(L, b, lower=lower, trans="T" if trans else "N", check_finite=False)
    if is_cupy_namespace(xp):  # pragma: no cover - needs a GPU
        from cupyx.scipy.linalg import solve_triangular as cupy_solve_triangular

        return cupy_solve_triangular(L, b, lower=lower, trans="T" if trans else "N")
    A = xp.matrix_transpose(L) if trans else L
    if b.ndim == 1:
        return xp.linalg.solve(A, b[:, None])[:, 0]
    return xp.linalg.solve(A, b)


def _is_complex(xp, a: Any) -> bool:
    return xp.isdtype(a.dtype, "complex floating")


def _std_solve(xp, A: Any, b: Any) -> Any:
    # Array API linalg.solve: a 1-D b is a vector (2023.12 onwards); make it explicit.
    if b.ndim == 1:
        return xp.linalg.solve(A, b[:, None])[:, 0]
    return xp.linalg.solve(A, b)


def cholesky(xp, A: Any, *, lower: bool = True) -> Any:
    """Cholesky factor of a symmetric positive definite ``A``: ``L`` with ``A = L L^H``
    (``lower=True``) or ``U`` with ``A = U^H U``. Raises ``LinAlgError`` if ``A`` is
    not positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[4.0, 2.0], [2.0, 3.0]])
    >>> L = cholesky(get_namespace(A), A)
    >>> np.testing.assert_allclose(L @ L.T, A)
    """
    _check_square(A)
    if is_cupy_namespace(xp):  # pragma: no cover
        import cupy
        import cupyx

        with cupyx.errstate(linalg="raise"):
            L = cupy.linalg.cholesky(A)
        return L if lower else L.conj().T
    return xp.linalg.cholesky(A, upper=not lower)


def eigh(xp, A: Any) -> tuple[Any, Any]:
    """Eigen-decomposition of a symmetric (Hermitian) ``A``: ``(w, V)`` with ``w``
    ascending and ``A V = V diag(w)``.

    Examples
    --------
    >>> import numpy as np
    >>> w, V = eigh(get_namespace(np.eye(2)), np.diag([3.0, 1.0]))
    >>> w
    array([1., 3.])
    """
    _check_square(A)
    if is_sparse(A):
        raise TypeError("eigh needs a dense matrix; use to_dense(A) for small sparse ones")
    if is_cupy_namespace(xp):  # pragma: no cover
        import cupy

        w, V = cupy.linalg.eigh(A)
        return w, V
    res = xp.linalg.eigh(A)
    return res[0], res[1]


# --------------------------------------------------------------------------------------
# reductions
# --------------------------------------------------------------------------------------


def norm(xp, x: Any) -> Any:
    """Euclidean norm of ``x`` (all entries) as a 0-d array of ``xp`` (no host sync).

    Examples
    --------
    >>> import numpy as np
    >>> float(norm(get_namespace(np.ones(1)), np.array([3.0, 4.0])))
    5.0
    """
    linalg = getattr(xp, "linalg", None)
    if linalg is not None and hasattr(linalg, "vector_norm"):
        return linalg.vector_norm(x)
    a = xp.abs(x)  # pragma: no cover
    return xp.sqrt(xp.sum(a * a))  # pragma: no cover


def vdot(xp, x: Any, y: Any) -> Any:
    """Inner product ``sum(conj(x) * y)`` over all entries, as a 0-d array of ``xp``.

    Examples
    --------
    >>> import numpy as np
    >>> float(vdot(get_namespace(np.ones(1)), np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    11.0
    """
    if x.shape != y.shape:
        raise ValueError(f"vdot needs equal shapes, got {x.shape} and {y.shape}")
    if _is_complex(xp, x):
        x = xp.conj(x)
    return xp.sum(x * y)


# --------------------------------------------------------------------------------------
# sparse matrices and operators
# --------------------------------------------------------------------------------------


def matmul(A: Any, x: Any) -> Any:
    """``A @ x`` for a dense array of any namespace, a ``scipy.sparse`` or
    ``cupyx.scipy.sparse`` matrix, a ``LinearOperator``, or a callable ``x -> A x``.

    A sparse ``A`` returns a dense array of its own library (``scipy.sparse`` with a
    NumPy ``x`` -> NumPy array). Sparse with an ``x`` from another namespace raises
    ``TypeError`` rather than copying across libraries.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csr_array(np.array([[1.0, 2.0], [0.0, 3.0]]))
    >>> matmul(A, np.array([1.0, 1.0]))
    array([3., 3.])
    """
    if is_sparse(A):
        if _is_scipy_sparse(A) and not isinstance(x, np.ndarray):
            raise TypeError(
                f"a scipy.sparse matrix multiplies NumPy arrays only, got {type(x).__module__}."
                f"{type(x).__name__}"
            )
        return A @ x
    if _is_linear_operator(A):
        return A @ x
    if hasattr(A, "shape") and hasattr(A, "dtype"):
        return get_namespace(A, x).matmul(A, x)
    if callable(A):
        return A(x)
    raise TypeError(
        f"A must be an array, a sparse matrix, a LinearOperator or a callable, got {type(A).__name__}"
    )


def to_dense(A: Any) -> Any:
    """A dense array of ``A``'s library (sparse -> ``toarray()``); dense arrays pass through."""
    if is_sparse(A):
        return A.toarray()
    return A


def sparse_from_coo(xp, rows: Any, cols: Any, vals: Any, shape: tuple[int, int]) -> Any:
    """A CSR matrix from COO triplets; duplicate ``(row, col)`` entries are summed.

    NumPy -> ``scipy.sparse.csr_array``; CuPy -> ``cupyx.scipy.sparse.csr_matrix``;
    other namespaces have no sparse format, so the result is a *dense* ``xp`` array
    (built with :func:`scatter_add`). Use :func:`matmul` to apply it either way.

    Examples
    --------
    >>> import numpy as np
    >>> xp = get_namespace(np.ones(1))
    >>> A = sparse_from_coo(xp, np.array([0, 1, 1]), np.array([0, 1, 1]), np.array([1.0, 2.0, 3.0]), (2, 2))
    >>> A.toarray()
    array([[1., 0.],
           [0., 5.]])
    """
    if len(shape) != 2 or any(int(s) < 0 for s in shape):
        raise ValueError(f"shape must be a pair of non-negative ints, got {shape!r}")
    n_rows, n_cols = int(shape[0]), int(shape[1])
    if not (rows.shape == cols.shape == vals.shape) or rows.ndim != 1:
        raise ValueError(
            f"rows, cols, vals must be 1-D of equal length, got shapes "
            f"{rows.shape}, {cols.shape}, {vals.shape}"
        )
    _check_bounds(xp, rows, n_rows, "rows")
    _check_bounds(xp, cols, n_cols, "cols")
    if is_numpy_namespace(xp):
        import scipy.sparse as sp

        coo = sp.coo_array(
            (np.asarray(vals), (np.asarray(rows), np.asarray(cols))), shape=(n_rows, n_cols)
        )
        A = coo.tocsr()
        A.sum_duplicates()
        return A
    if is_cupy_namespace(xp):  # pragma: no cover
        import cupyx.scipy.sparse as csp

        A = csp.coo_matrix((vals, (rows, cols)), shape=(n_rows, n_cols)).tocsr()
        A.sum_duplicates()
        return A
    flat = xp.astype(rows, xp.int64) * n_cols + xp.astype(cols, xp.int64)
    dense = scatter_add(xp, n_rows * n_cols, flat, vals, check_bounds=False)
    return xp.reshape(dense, (n_rows, n_cols))


def _check_bounds(xp, idx: Any, n: int, name: str) -> None:
    if not xp.isdtype(idx.dtype, "integral"):
        raise TypeError(f"{name} must be an integer array, got dtype {idx.dtype}")
    if idx.shape[0] == 0:
        return
    lo, hi = int(xp.min(idx)), int(xp.max(idx))
    if lo < 0 or hi >= n:
        raise IndexError(f"{name} must lie in [0, {n}), got values in [{lo}, {hi}]")


def scatter_add(
    xp,
    target: int | Any,
    indices: Any,
    values: Any,
    *,
    check_bounds: bool = True,
) -> Any:
    """``out[indices[i]] += values[i]`` with repeated indices accumulated (``np.add.at``).

    Parameters
    ----------
    xp : namespace
    target : int or array
        An int ``n`` starts from zeros of shape ``(n,) + values.shape[1:]`` and the dtype
        of ``values``; an array is copied (never modified in place) and keeps its dtype.
    indices : (m,) integer array
        Entries must lie in ``[0, n)``; negative indices are rejected on every
        namespace (NumPy would wrap them, CuPy wraps even out-of-range ones).
    values : (m,) or (m, ...) array
    check_bounds : bool
        Check ``indices`` (one min/max reduction, a host sync on GPU). A hot loop with
        indices validated once may pass ``False``.

    Returns
    -------
    out : array of ``xp``

    Notes
    -----
    NumPy: ``numpy.add.at``; CuPy: ``cupyx.scatter_add`` (atomic adds: float32/float64,
    complex split into real and imaginary parts; summation order is not deterministic).
    Other namespaces: a one-hot matrix product, chunked to bound memory; it costs
    ``O(n m)`` work and is meant for testing generic code, not for large problems.

    Examples
    --------
    >>> import numpy as np
    >>> xp = get_namespace(np.ones(1))
    >>> scatter_add(xp, 4, np.array([0, 2, 2]), np.array([1.0, 2.0, 3.0]))
    array([1., 0., 5., 0.])
    """
    if indices.ndim != 1:
        raise ValueError(f"indices must be 1-D, got shape {indices.shape}")
    if values.ndim < 1 or values.shape[0] != indices.shape[0]:
        raise ValueError(
            f"values must have leading dimension len(indices)={indices.shape[0]}, got shape {values.shape}"
        )
    if isinstance(target, int) and not isinstance(target, bool):
        if target < 0:
            raise ValueError(f"target length must be >= 0, got {target}")
        n = target
        out = xp.zeros((n,) + tuple(values.shape[1:]), dtype=values.dtype, device=device(values))
    else:
        if target.ndim < 1 or tuple(target.shape[1:]) != tuple(values.shape[1:]):
            raise ValueError(
                f"target shape {target.shape} does not match values shape {values.shape}"
            )
        n = target.shape[0]
        out = xp.asarray(target, copy=True)
        if values.dtype != out.dtype:
            values = xp.astype(values, out.dtype)
    if check_bounds:
        _check_bounds(xp, indices, n, "indices")
    elif not xp.isdtype(indices.dtype, "integral"):
        raise TypeError(f"indices must be an integer array, got dtype {indices.dtype}")
    if indices.shape[0] == 0 or n == 0:
        return out
    if is_numpy_namespace(xp):
        np.add.at(out, indices, values)
        return out
    if is_cupy_namespace(xp):  # pragma: no cover
        import cupyx

        if out.dtype.kind == "c":
            re, im = out.real.copy(), out.imag.copy()
            cupyx.scatter_add(re, indices, values.real)
            cupyx.scatter_add(im, indices, values.imag)
            return re + 1j * im
        cupyx.scatter_add(out, indices, values)
        return out
    return _scatter_add_onehot(xp, out, indices, values)


def _scatter_add_onehot(xp, out: Any, indices: Any, values: Any) -> Any:
    n, m = out.shape[0], indices.shape[0]
    trailing = tuple(out.shape[1:])
    v2 = xp.reshape(values, (m, math.prod(trailing)))
    positions = xp.arange(n, dtype=indices.dtype, device=device(out))[:, None]
    chunk = max(1, _ONEHOT_BUDGET // max(n, 1))
    acc = xp.reshape(out, (n, math.prod(trailing)))
    for start in range(0, m, chunk):
        stop = min(start + chunk, m)
        onehot = xp.astype(positions == indices[None, start:stop], out.dtype)
        acc = acc + xp.matmul(onehot, v2[start:stop, :])
    return xp.reshape(acc, out.shape)


# --------------------------------------------------------------------------------------
# conjugate gradients
# --------------------------------------------------------------------------------------


def cg(
    xp,
    A: Any,
    b: Any,
    *,
    x0: Any = None,
    tol: float = 1e-10,
    atol: float = 0.0,
    max_iter: int | None = None,
    M: Any = None,
) -> tuple[Any, int, int]:
    """Conjugate gradients for ``A x = b`` with ``A`` symmetric positive definite.

    Stops when ``||b - A x|| <= max(tol * ||b||, atol)``. One implementation serves every
    namespace, so iteration and matrix-vector counts are the same on NumPy, CuPy and
    array_api_strict.

    Parameters
    ----------
    xp : namespace
    A : array, sparse matrix, LinearOperator or callable ``v -> A v``
    b : (n,) array
    x0 : (n,) array, optional
        Starting point (zero by default; a nonzero ``x0`` costs one extra product).
    tol, atol : float
        Relative and absolute residual tolerances.
    max_iter : int, optional
        Iteration limit, ``10 n`` by default (scipy's default).
    M : array, sparse matrix, LinearOperator or callable, optional
        Preconditioner: applies an approximation of ``A^{-1}`` (not counted in ``n_matvec``).

    Returns
    -------
    x : (n,) array of ``xp``
    info : int
        0 converged; ``k > 0`` not converged after ``k`` iterations; ``-1`` breakdown
        (``p^T A p <= 0``: ``A`` not positive definite, or a non-finite value).
    n_matvec : int
        Number of products with ``A``.

    Notes
    -----
    Hestenes & Stiefel (1952); in exact arithmetic CG terminates in at most ``n``
    iterations, and the error in the ``A``-norm contracts at least by
    ``2 ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^k`` (Nocedal & Wright, *Numerical
    Optimization*, 2nd ed., Theorem 5.5 and eq. (5.36)). Each iteration syncs two
    scalars to the host (the curvature test and the residual norm).

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]]); b = np.array([1.0, 2.0])
    >>> x, info, n_matvec = cg(get_namespace(b), A, b)
    >>> info, n_matvec
    (0, 2)
    >>> np.testing.assert_allclose(A @ x, b)
    """
    if getattr(b, "ndim", None) != 1:
        raise ValueError(f"b must be a 1-D array, got shape {getattr(b, 'shape', None)}")
    n = b.shape[0]
    shape = getattr(A, "shape", None)
    if shape is not None and tuple(shape) != (n, n):
        raise ValueError(f"A must have shape ({n}, {n}) to match b, got {tuple(shape)}")
    if not (isinstance(tol, int | float) and tol >= 0 and math.isfinite(tol)):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    if not (isinstance(atol, int | float) and atol >= 0 and math.isfinite(atol)):
        raise ValueError(f"atol must be a finite number >= 0, got {atol!r}")
    if max_iter is None:
        max_iter = 10 * n
    elif isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"max_iter must be an int >= 0, got {max_iter!r}")

    n_matvec = 0

    def apply_A(v):
        nonlocal n_matvec
        n_matvec += 1
        return matmul(A, v)

    def apply_M(v):
        return v if M is None else matmul(M, v)

    if x0 is None:
        x = xp.zeros_like(b)
        r = b
    else:
        if tuple(x0.shape) != (n,):
            raise ValueError(f"x0 must have shape ({n},), got {tuple(x0.shape)}")
        x = x0
        r = b - apply_A(x)
    threshold = max(float(tol) * float(norm(xp, b)), float(atol))
    res = float(norm(xp, r))
    if not math.isfinite(res):
        return x, -1, n_matvec
    if res <= threshold:
        return x, 0, n_matvec
    z = apply_M(r)
    p = z
    rz = vdot(xp, r, z)
    for _ in range(max_iter):
        Ap = apply_A(p)
        pAp = vdot(xp, p, Ap)
        curv = float(xp.real(pAp)) if _is_complex(xp, pAp) else float(pAp)
        if not curv > 0:  # also catches NaN
            return x, -1, n_matvec
        alpha = rz / pAp
        x = x + alpha * p
        r = r - alpha * Ap
        res = float(norm(xp, r))
        if res <= threshold:
            return x, 0, n_matvec
        if not math.isfinite(res):
            return x, -1, n_matvec
        z = apply_M(r)
        rz_new = vdot(xp, r, z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x, max_iter, n_matvec
