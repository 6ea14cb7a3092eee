"""Shared pieces of the matrix-completion solvers: observation validation, the per-row /
per-column observation layout, sampled products and factored distances.

Nothing here ever forms the dense ``m x n`` matrix: every operation is a gather, a
segment sum (``scipy.sparse`` CSR products for NumPy in :class:`Side`; ``xp.take`` and
:func:`optlab._backend.scatter_add` for any array namespace in :class:`XSide`) or a dense
product of ``m x k`` / ``n x k`` factors.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from array_api_compat import array_namespace

from optlab._backend import device, get_namespace, scatter_add

__all__ = [
    "Observations",
    "Side",
    "XSide",
    "validate_observations_xp",
    "validate_observations",
    "sampled_dot",
    "factored_diff_norm",
    "factored_norm",
    "subspace_distance",
    "orthonormal_basis",
]

# Number of floats a gathered (chunk x k) block may hold (bounds the extra memory of a
# sampled product to ~64 MB whatever |Omega| is).
_CHUNK_FLOATS = 1 << 23

DUPLICATE_MODES = ("error", "mean", "keep")


@dataclass
class Observations:
    """Validated observations ``M[rows[t], cols[t]] = vals[t]`` of an ``m x n`` matrix."""

    rows: np.ndarray  # int64
    cols: np.ndarray  # int64
    vals: np.ndarray  # float64
    shape: tuple[int, int]
    n_duplicates: int = 0

    @property
    def nnz(self) -> int:
        return int(self.vals.shape[0])


def _as_index(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D integer array, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            pass  # integral floats are accepted
        elif arr.size:
            raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def validate_observations(
    rows: Any, cols: Any, vals: Any, shape: Any, *, duplicates: str = "error"
) -> Observations:
    """Check COO observations and return them as int64 / float64 NumPy arrays.

    Raises ``ValueError`` for an empty set, mismatched lengths, indices outside
    ``[0, m) x [0, n)``, NaN/inf values, a bad ``shape`` and (``duplicates="error"``)
    repeated ``(row, col)`` pairs; ``duplicates="mean"`` averages repeated entries into
    one observation, ``"keep"`` keeps them all as separate least-squares terms.
    """
    if duplicates not in DUPLICATE_MODES:
        raise ValueError(f"duplicates must be one of {DUPLICATE_MODES}, got {duplicates!r}")
    if (
        not isinstance(shape, tuple | list)
        or len(shape) != 2
        or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape)
    ):
        raise ValueError(f"shape must be a pair of positive integers (m, n), got {shape!r}")
    m, n = int(shape[0]), int(shape[1])
    if m < 1 or n < 1:
        raise ValueError(f"shape must be a pair of positive integers (m, n), got {shape!r}")
    r = _as_index(rows, "rows")
    c = _as_index(cols, "cols")
    v = np.asarray(vals)
    if v.ndim != 1:
        raise ValueError(f"vals must be a 1-D array, got shape {v.shape}")
    if v.dtype.kind not in "biuf":
        raise TypeError(f"vals must be a real numeric array, got dtype {v.dtype}")
    v = v.astype(np.float64, copy=False)
    if not (r.shape == c.shape == v.shape):
        raise ValueError(
            f"rows, cols and vals must have the same length, got {r.shape[0]}, {c.shape[0]}, {v.shape[0]}"
        )
    if r.shape[0] == 0:
        raise ValueError("the observation set is empty (rows, cols, vals have length 0)")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"vals contains {int(np.sum(~np.isfinite(v)))} NaN or inf entries")
    for idx, name, size in ((r, "rows", m), (c, "cols", n)):
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= size:
            raise ValueError(f"{name} must lie in [0, {size}), got values in [{lo}, {hi}]")
    key = r * n + c
    order = np.argsort(key, kind="stable")
    ks = key[order]
    dup = ks[1:] == ks[:-1]
    n_dup = int(dup.sum())
    if n_dup:
        if duplicates == "error":
            first = int(ks[1:][dup][0])
            raise ValueError(
                f"{n_dup} duplicate (row, col) observations, e.g. ({first // n}, {first % n}); "
                "pass duplicates='mean' to average them or 'keep' to keep each as a separate "
                "least-squares term"
            )
        if duplicates == "mean":
            start = np.r_[True, ~dup]
            uk = ks[start]
            grp = np.cumsum(start) - 1
            sums = np.bincount(grp, weights=v[order])
            cnt = np.bincount(grp)
            r, c, v = uk // n, uk % n, sums / cnt
    return Observations(rows=r, cols=c, vals=v, shape=(m, n), n_duplicates=n_dup)


class Side:
    """The observations grouped by the index being solved for (a *segment*).

    For the V half-step the segments are the columns ``j`` and ``other`` holds the row
    index of each observation; for the U half-step it is the transpose. The layout is a
    CSR matrix ``A`` of shape ``(n_seg, n_other)`` whose stored values are replaced at
    will: ``A(values) @ F`` is the per-segment sum ``sum_{t in seg} values_t F[other_t]``
    in ``O(|Omega| k)`` (scipy's compiled CSR x dense product).
    """

    def __init__(self, seg: np.ndarray, other: np.ndarray, vals: np.ndarray, n_seg: int, n_other: int):
        order = np.argsort(seg * n_other + other, kind="stable")
        self.seg = seg[order]
        self.other = other[order]
        self.vals = np.ascontiguousarray(vals[order])
        self.n_seg, self.n_other = int(n_seg), int(n_other)
        self.counts = np.bincount(self.seg, minlength=n_seg)
        self.indptr = np.zeros(n_seg + 1, dtype=np.int64)
        np.cumsum(self.counts, out=self.indptr[1:])
        self.nnz = int(self.vals.shape[0])
        self.b_norm = float(np.linalg.norm(self.vals))
        self._sketch: tuple | None = None

    xp = array_namespace(np.empty(0))

    def seg_total(self, w: np.ndarray) -> np.ndarray:
        """``out[s] = sum_{t in seg s} w_t`` (shape ``(n_seg,)``)."""
        return np.bincount(self.seg, weights=w, minlength=self.n_seg)

    def expand(self, a: np.ndarray) -> np.ndarray:
        """``a[seg_t]`` for every observation (observations are sorted by segment)."""
        return np.repeat(a, self.counts)

    def sketch_stack(self, F: np.ndarray, s: int, nnz_per_obs: int, rng: np.random.Generator) -> np.ndarray:
        """The stacked sketches ``S_j A_j`` of :meth:`sketch_matrix`, shape ``(n_seg, s, k)``."""
        S = self.sketch_matrix(s, nnz_per_obs, rng)
        return np.asarray(S @ F).reshape(self.n_seg, s, F.shape[1])

    def csr(self, data: np.ndarray) -> sp.csr_array:
        return sp.csr_array((data, self.other, self.indptr), shape=(self.n_seg, self.n_other))

    def segsum(self, data: np.ndarray, F: np.ndarray) -> np.ndarray:
        """``out[s] = sum_{t in seg s} data_t F[other_t]`` (shape ``(n_seg, k)``)."""
        return np.asarray(self.csr(data) @ F)

    def sampled(self, F: np.ndarray, W: np.ndarray) -> np.ndarray:
        """``out_t = <F[other_t], W[seg_t]>`` for every observation (``O(|Omega| k)``)."""
        # column by column: a gather of F's column (random access) times a repeat of W's
        # column (observations are sorted by segment), accumulated in place; about 3x
        # faster than gathering whole rows and reducing with einsum
        Ft = np.ascontiguousarray(F.T)
        Wt = np.ascontiguousarray(W.T)
        out = np.take(Ft[0], self.other) * np.repeat(Wt[0], self.counts)
        for a in range(1, F.shape[1]):
            out += np.take(Ft[a], self.other) * np.repeat(Wt[a], self.counts)
        return out

    def sketch_matrix(self, s: int, nnz_per_obs: int, rng: np.random.Generator) -> sp.csr_array:
        """A sparse embedding per segment (CountSketch for ``nnz_per_obs = 1``, OSNAP-style
        otherwise): each observation of segment ``j`` goes to ``nnz_per_obs`` of the ``s``
        rows of ``S_j`` with random signs ``+-1/sqrt(nnz_per_obs)``. Returned as one CSR
        matrix of shape ``(n_seg * s, n_other)`` so that ``(S @ F).reshape(n_seg, s, k)``
        stacks the sketches ``S_j A_j`` in ``O(nnz_per_obs |Omega| k)``."""
        if self._sketch is not None and self._sketch[0] == (s, nnz_per_obs):
            return self._sketch[1]
        z = int(nnz_per_obs)
        reps = np.repeat(np.arange(self.nnz), z)
        buckets, signs = _sketch_draws(self.nnz, s, z, rng)
        row = self.seg[reps] * s + buckets
        S = sp.coo_array((signs, (row, self.other[reps])), shape=(self.n_seg * s, self.n_other)).tocsr()
        self._sketch = ((s, nnz_per_obs), S)
        return S

    def chunks(self, k: int):
        """Segment ranges ``(s0, s1, o0, o1)`` whose observations ``o0:o1`` hold at most
        about ``_CHUNK_FLOATS / k**2`` entries (a segment larger than that is alone)."""
        cap = max(1, _CHUNK_FLOATS // max(1, k * k))
        s0 = 0
        ip = self.indptr
        while s0 < self.n_seg:
            s1 = int(np.searchsorted(ip, ip[s0] + cap, side="right")) - 1
            s1 = min(max(s1, s0 + 1), self.n_seg)
            yield s0, s1, int(ip[s0]), int(ip[s1])
            s0 = s1

    def gram(self, F: np.ndarray) -> np.ndarray:
        """Stack of ``A_j^T A_j = sum_{t in seg j} F[other_t] F[other_t]^T``, shape
        ``(n_seg, k, k)``, in ``O(|Omega| k^2)`` (what exact AltMin pays): ``k`` compiled
        CSR x dense products, column ``a`` of every Gram matrix at once."""
        k = F.shape[1]
        G = np.empty((self.n_seg, k, k))
        for a in range(k):
            G[:, :, a] = self.segsum(F[self.other, a], F)
        return G


def _sketch_draws(nnz: int, s: int, z: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Buckets and signs of the sparse embedding, drawn on the host (one generator stream
    for every namespace, so all backends build the same sketch)."""
    if z == 1:
        buckets = rng.integers(0, s, size=nnz)
    else:  # z distinct buckets per observation
        buckets = np.argsort(rng.random((nnz, s)), axis=1)[:, :z].reshape(-1)
    signs = rng.choice(np.array([-1.0, 1.0]), size=nnz * z) / math.sqrt(z)
    return buckets, signs


class XSide:
    """:class:`Side` for any array namespace (array_api_strict, CuPy, ...): the same
    methods written with ``xp.take`` gathers and :func:`optlab._backend.scatter_add`
    segment sums, so the data never leave their device. The observation arrays are
    ``xp`` arrays (validated by :func:`validate_observations_xp`).

    On CuPy ``scatter_add`` is an atomic add (``O(|Omega| k)``); on array_api_strict it is
    a one-hot product, ``O(n_seg |Omega|)``, fine for tests only.
    """

    def __init__(self, seg: Any, other: Any, vals: Any, n_seg: int, n_other: int):
        xp = get_namespace(vals)
        self.xp = xp
        self.n_seg, self.n_other = int(n_seg), int(n_other)
        order = xp.argsort(seg * self.n_other + other, stable=True)
        self.seg = xp.take(seg, order)
        self.other = xp.take(other, order)
        self.vals = xp.take(vals, order)
        self.dev = device(vals)
        ones = xp.ones(self.seg.shape, dtype=xp.int64, device=self.dev)
        self.counts = scatter_add(xp, self.n_seg, self.seg, ones, check_bounds=False)
        self.nnz = int(self.vals.shape[0])
        self.b_norm = float(xp.linalg.vector_norm(self.vals))
        self._sketch: tuple | None = None

    def seg_total(self, w: Any) -> Any:
        return scatter_add(self.xp, self.n_seg, self.seg, w, check_bounds=False)

    def expand(self, a: Any) -> Any:
        return self.xp.take(a, self.seg)

    def segsum(self, data: Any, F: Any) -> Any:
        """``out[s] = sum_{t in seg s} data_t F[other_t]`` (shape ``(n_seg, k)``)."""
        xp = self.xp
        return scatter_add(xp, self.n_seg, self.seg, data[:, None] * xp.take(F, self.other, axis=0),
                           check_bounds=False)  # fmt: skip

    def segsum_T(self, data: Any, G: Any) -> Any:
        """``out[o] = sum_{t: other_t = o} data_t G[seg_t]`` (shape ``(n_other, k)``)."""
        xp = self.xp
        return scatter_add(xp, self.n_other, self.other, data[:, None] * xp.take(G, self.seg, axis=0),
                           check_bounds=False)  # fmt: skip

    def sampled(self, F: Any, W: Any) -> Any:
        """``out_t = <F[other_t], W[seg_t]>``, one column at a time (``O(|Omega|)`` memory)."""
        xp = self.xp
        out = xp.take(F[:, 0], self.other) * xp.take(W[:, 0], self.seg)
        for a in range(1, F.shape[1]):
            out = out + xp.take(F[:, a], self.other) * xp.take(W[:, a], self.seg)
        return out

    def gram(self, F: Any) -> Any:
        """Stack of ``A_j^T A_j``, shape ``(n_seg, k, k)``, ``O(|Omega| k^2)``; observations
        in chunks so that the ``chunk x k^2`` outer products stay bounded."""
        xp = self.xp
        k = F.shape[1]
        G = None
        cap = max(1, _CHUNK_FLOATS // max(1, k * k))
        for o0 in range(0, self.nnz, cap):
            o1 = min(o0 + cap, self.nnz)
            Fo = xp.take(F, self.other[o0:o1], axis=0)
            outer = xp.reshape(Fo[:, :, None] * Fo[:, None, :], (o1 - o0, k * k))
            part = scatter_add(xp, self.n_seg, self.seg[o0:o1], outer, check_bounds=False)
            G = part if G is None else G + part
        return xp.reshape(G, (self.n_seg, k, k))

    def sketch_stack(self, F: Any, s: int, nnz_per_obs: int, rng: np.random.Generator) -> Any:
        """Stacked sketches ``S_j A_j`` (same embedding as :meth:`Side.sketch_matrix`; the
        random buckets and signs are drawn on the host once and moved to the device)."""
        xp = self.xp
        z = int(nnz_per_obs)
        if self._sketch is None or self._sketch[0] != (s, z):
            buckets, signs = _sketch_draws(self.nnz, s, z, rng)
            b = xp.asarray(buckets, dtype=xp.int64, device=self.dev)
            sg = xp.asarray(signs, dtype=self.vals.dtype, device=self.dev)
            if z == 1:
                reps = xp.arange(self.nnz, dtype=xp.int64, device=self.dev)
            else:
                reps = xp.repeat(xp.arange(self.nnz, dtype=xp.int64, device=self.dev), z)
            row = xp.take(self.seg, reps) * s + b
            self._sketch = ((s, z), row, xp.take(self.other, reps), sg)
        _, row, oth, sg = self._sketch
        vals = sg[:, None] * xp.take(F, oth, axis=0)
        S = scatter_add(xp, self.n_seg * s, row, vals, check_bounds=False)
        return xp.reshape(S, (self.n_seg, s, F.shape[1]))


def validate_observations_xp(
    xp, rows: Any, cols: Any, vals: Any, shape: Any, *, duplicates: str = "error"
) -> Observations:
    """:func:`validate_observations` with ``xp`` operations (no host copy of the data; only
    scalars such as the index range and the duplicate count are synced). Returns int64 /
    float64 ``xp`` arrays on the device of ``vals``."""
    if duplicates not in DUPLICATE_MODES:
        raise ValueError(f"duplicates must be one of {DUPLICATE_MODES}, got {duplicates!r}")
    if (
        not isinstance(shape, tuple | list)
        or len(shape) != 2
        or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape)
    ):
        raise ValueError(f"shape must be a pair of positive integers (m, n), got {shape!r}")
    m, n = int(shape[0]), int(shape[1])
    if m < 1 or n < 1:
        raise ValueError(f"shape must be a pair of positive integers (m, n), got {shape!r}")

    def as_index(a, name):
        if a.ndim != 1:
            raise ValueError(f"{name} must be a 1-D integer array, got shape {a.shape}")
        if not xp.isdtype(a.dtype, "integral"):
            ok = (
                xp.isdtype(a.dtype, "real floating")
                and a.shape[0] > 0
                and bool(xp.all(xp.isfinite(a)))
                and bool(xp.all(a == xp.round(a)))
            )
            if not ok and a.shape[0]:
                raise TypeError(f"{name} must be an integer array, got dtype {a.dtype}")
        return xp.astype(a, xp.int64)

    r, c = as_index(rows, "rows"), as_index(cols, "cols")
    v = vals
    if v.ndim != 1:
        raise ValueError(f"vals must be a 1-D array, got shape {v.shape}")
    if not xp.isdtype(v.dtype, ("bool", "integral", "real floating")):
        raise TypeError(f"vals must be a real numeric array, got dtype {v.dtype}")
    v = xp.astype(v, xp.float64)
    if not (r.shape == c.shape == v.shape):
        raise ValueError(
            f"rows, cols and vals must have the same length, got {r.shape[0]}, {c.shape[0]}, {v.shape[0]}"
        )
    if r.shape[0] == 0:
        raise ValueError("the observation set is empty (rows, cols, vals have length 0)")
    finite = xp.isfinite(v)
    if not bool(xp.all(finite)):
        raise ValueError(f"vals contains {int(xp.sum(xp.astype(~finite, xp.int64)))} NaN or inf entries")
    for idx, name, size in ((r, "rows", m), (c, "cols", n)):
        lo, hi = int(xp.min(idx)), int(xp.max(idx))
        if lo < 0 or hi >= size:
            raise ValueError(f"{name} must lie in [0, {size}), got values in [{lo}, {hi}]")
    key = r * n + c
    order = xp.argsort(key, stable=True)
    ks = xp.take(key, order)
    dup = ks[1:] == ks[:-1]
    n_dup = int(xp.sum(xp.astype(dup, xp.int64)))
    if n_dup:
        if duplicates == "error":
            first = int(ks[1:][int(xp.argmax(xp.astype(dup, xp.int8)))])
            raise ValueError(
                f"{n_dup} duplicate (row, col) observations, e.g. ({first // n}, {first % n}); "
                "pass duplicates='mean' to average them or 'keep' to keep each as a separate "
                "least-squares term"
            )
        if duplicates == "mean":
            dev = device(v)
            start = xp.concat([xp.ones((1,), dtype=xp.bool, device=dev), ~dup])
            grp = xp.cumulative_sum(xp.astype(start, xp.int64)) - 1
            n_grp = int(grp[-1]) + 1
            sums = scatter_add(xp, n_grp, grp, xp.take(v, order), check_bounds=False)
            cnt = scatter_add(xp, n_grp, grp, xp.ones(v.shape, dtype=v.dtype, device=dev),
                              check_bounds=False)  # fmt: skip
            uk = ks[start]
            r, c, v = uk // n, uk % n, sums / cnt
    return Observations(rows=r, cols=c, vals=v, shape=(m, n), n_duplicates=n_dup)


def sampled_dot(F: np.ndarray, W: np.ndarray, idx_f: np.ndarray, idx_w: np.ndarray) -> np.ndarray:
    """``out_t = <F[idx_f[t]], W[idx_w[t]]>``, one column at a time (no ``|Omega| x k``
    temporary)."""
    Ft = np.ascontiguousarray(F.T)
    Wt = np.ascontiguousarray(W.T)
    out = np.take(Ft[0], idx_f) * np.take(Wt[0], idx_w)
    for a in range(1, F.shape[1]):
        out += np.take(Ft[a], idx_f) * np.take(Wt[a], idx_w)
    return out


def orthonormal_basis(A: Any) -> tuple[Any, Any]:
    """Thin QR ``A = Q R`` (in the namespace of ``A``)."""
    Q, R = get_namespace(A).linalg.qr(A)
    return Q, R


def factored_diff_norm(A: Any, B: Any, C: Any, D: Any) -> float:
    """``||A B^T - C D^T||_F`` without forming either product and without the
    cancellation of the trace formula: ``[B, D] = Q R`` gives
    ``||[A, -C] R^T||_F`` (``O((m + n) k^2)``). Any array namespace."""
    xp = get_namespace(A, B, C, D)
    _, R = xp.linalg.qr(xp.concat([B, D], axis=1))
    return float(xp.linalg.matrix_norm(xp.concat([A, -C], axis=1) @ xp.matrix_transpose(R)))


def factored_norm(A: Any, B: Any) -> float:
    """``||A B^T||_F`` from the factors (any array namespace)."""
    xp = get_namespace(A, B)
    _, R = xp.linalg.qr(B)
    return float(xp.linalg.matrix_norm(A @ xp.matrix_transpose(R)))


def subspace_distance(Q_star: Any, X: Any) -> float:
    """``||(I - Q* Q*^T) Q_X||_2``: sine of the largest principal angle between the column
    space of ``X`` and the orthonormal ``Q_star`` (JNS13's ``dist``). Any array namespace."""
    xp = get_namespace(Q_star, X)
    Q, _ = xp.linalg.qr(X)
    P = Q - Q_star @ (xp.matrix_transpose(Q_star) @ Q)
    return float(xp.linalg.matrix_norm(P, ord=2))
