r"""Linear measurement operators for low-rank matrix sensing, as objects.

A measurement operator maps an :math:`n_1 \times n_2` matrix to :math:`m` numbers,

.. math::

    \mathcal A(X) = \big(\langle A_1, X\rangle, \dots, \langle A_m, X\rangle\big),
    \qquad \mathcal A^*(y) = \sum_{i=1}^m y_i A_i ,

and every operator here is normalized so that :math:`\mathbb E\,\mathcal A^*\mathcal A =
\mathrm{Id}` on its domain (all matrices, or symmetric ones for the symmetric design): the
restricted isometry property then reads :math:`\|\mathcal A(X)\|^2 \approx \|X\|_F^2` on
low-rank :math:`X`, and the losses of :mod:`optlab.lowrank.sensing` are close to the
matrix-factorization losses :math:`\tfrac14\|XX^\top - M^\star\|_F^2`.

==========================  ==========================================================  ==================================
operator                    sensing matrices                                             ``A(F G^T)``, ``A*(y) V`` cost
==========================  ==========================================================  ==================================
:class:`GaussianDesign`     :math:`A_i = G_i/\sqrt m`, :math:`G_i` i.i.d. N(0, 1)        :math:`O(m n_1 n_2 + n_1 n_2 k)`
``symmetric=True``          :math:`A_i = (G_i + G_i^\top)/(2\sqrt m)` (GOE-like)          same
:class:`EntrySampling`      :math:`A_i = \sqrt{n_1 n_2/m}\; e_{a_i} e_{b_i}^\top`         :math:`O(m k)`, no dense matrix
==========================  ==========================================================  ==================================

The solvers only call :meth:`~SensingOperator.apply_factored` (:math:`\mathcal A(FG^\top)`)
and :meth:`~SensingOperator.adjoint_matmul` (:math:`\mathcal A^*(y)V`), so an operator
with structure never forms an :math:`n_1 \times n_2` matrix: entry sampling works with
gathers and a scatter-add in :math:`O(mk)`. The Gaussian design stores its :math:`m`
sensing matrices as one ``(m, n1, n2)`` array and applies them with ``tensordot``
(``storage="dense"``), or keeps only a seed and regenerates them in blocks of
``block_size`` matrices at every application (``storage="seeded"``: memory
:math:`O(\text{block\_size}\, n_1 n_2)` instead of :math:`O(m n_1 n_2)`, at the price of
drawing the normals again each time). Both storages draw the same matrices from the same
seed, so they define the same operator.

Backends: the operator lives in the namespace (and device, dtype) of the ``like`` array
given at construction (NumPy by default); the random draws are made on the host with
NumPy and moved there once (dense) or per block (seeded).

Examples
--------
>>> import numpy as np
>>> from optlab.lowrank.operators import GaussianDesign, EntrySampling
>>> op = GaussianDesign(6, 6, 200, symmetric=True, seed=0)
>>> F = np.ones((6, 1))
>>> y = op.apply_factored(F)          # A(F F^T), shape (200,)
>>> np.testing.assert_allclose(y, op.apply(F @ F.T))
>>> S = EntrySampling.random(5, 4, 12, seed=1)
>>> S.apply(np.arange(20.0).reshape(5, 4)).shape
(12,)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from optlab._backend import device, get_namespace, scatter_add, to_numpy
from optlab._validate import check_array, check_choice, check_int

__all__ = ["SensingOperator", "GaussianDesign", "EntrySampling", "operator_norm_estimate"]


def _host_namespace():
    return get_namespace(np.empty(0))


class SensingOperator:
    r"""Base class: a linear map :math:`\mathbb R^{n_1\times n_2} \to \mathbb R^m`.

    Subclasses implement :meth:`apply`, :meth:`adjoint`, :meth:`apply_factored` and
    :meth:`adjoint_matmul`; :meth:`adjoint_rmatmul` defaults to a transpose of the
    adjoint where the subclass has nothing better.

    Attributes
    ----------
    shape : tuple of int
        ``(n1, n2)``, the matrix shape.
    m : int
        Number of measurements.
    symmetric : bool
        The sensing matrices are symmetric (then ``A*(y)`` is symmetric, and the operator
        is an isometry in expectation on symmetric matrices only).
    xp : namespace
        Array namespace the operator works in.
    dtype : dtype
        Floating dtype of the stored data and of the outputs.
    """

    shape: tuple[int, int]
    m: int
    symmetric: bool = False

    def __init__(self, shape: tuple[int, int], m: int, xp, dtype, dev) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self.m = int(m)
        self.xp = xp
        self.dtype = dtype
        self.device = dev

    # -- validation helpers ---------------------------------------------------------
    def _check_matrix(self, X: Any, name: str = "X") -> Any:
        X = check_array(X, name, ndim=2, shape=self.shape)
        self._check_namespace(X, name)
        return X

    def _check_factor(self, F: Any, rows: int, name: str) -> Any:
        F = check_array(F, name, ndim=2)
        if F.shape[0] != rows:
            raise ValueError(f"{name} must have {rows} rows, got shape {tuple(F.shape)}")
        self._check_namespace(F, name)
        return F

    def _check_vector(self, y: Any, name: str = "y") -> Any:
        y = check_array(y, name, ndim=1, shape=(self.m,))
        self._check_namespace(y, name)
        return y

    def _check_namespace(self, a: Any, name: str) -> None:
        xp = get_namespace(a)
        if xp is not self.xp:
            raise TypeError(
                f"{name} is a {xp.__name__} array but the operator lives in {self.xp.__name__} "
                "(build it with like=<an array of that namespace>)"
            )

    # -- the interface ----------------------------------------------------------------
    def apply(self, X: Any) -> Any:
        """``A(X)``: the ``m`` measurements of an ``(n1, n2)`` matrix."""
        raise NotImplementedError

    def __call__(self, X: Any) -> Any:
        return self.apply(X)

    def adjoint(self, y: Any) -> Any:
        """``A*(y) = sum_i y_i A_i`` as a dense ``(n1, n2)`` matrix."""
        raise NotImplementedError

    def apply_factored(self, F: Any, G: Any = None) -> Any:
        """``A(F G^T)`` for ``F (n1, k)``, ``G (n2, k)`` (``G=None``: ``A(F F^T)``)."""
        raise NotImplementedError

    def adjoint_matmul(self, y: Any, V: Any) -> Any:
        """``A*(y) @ V`` for ``V (n2, k)``, without forming ``A*(y)`` where possible."""
        raise NotImplementedError

    def adjoint_rmatmul(self, y: Any, U: Any) -> Any:
        """``A*(y)^T @ U`` for ``U (n1, k)``."""
        y = self._check_vector(y)
        U = self._check_factor(U, self.shape[0], "U")
        return self.xp.matmul(self.xp.matrix_transpose(self.adjoint(y)), U)

    def to_matrix(self) -> np.ndarray:
        """The ``(m, n1 * n2)`` matrix of the operator on row-major vectorized ``X``
        (host NumPy; for small instances, tests and cvxpy references)."""
        n1, n2 = self.shape
        out = np.empty((self.m, n1 * n2))
        for j in range(n1 * n2):
            E = np.zeros(n1 * n2)
            E[j] = 1.0
            out[:, j] = to_numpy(self.apply(self.xp.asarray(E.reshape(n1, n2), dtype=self.dtype,
                                                            device=self.device)))
        return out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(shape={self.shape}, m={self.m}, symmetric={self.symmetric}, "
                f"namespace={self.xp.__name__})")


# --------------------------------------------------------------------------------------
# Gaussian designs
# --------------------------------------------------------------------------------------


class GaussianDesign(SensingOperator):
    r"""Gaussian measurement operator, :math:`A_i = G_i/\sqrt m` with i.i.d. N(0, 1) entries.

    Parameters
    ----------
    n1, n2 : int
        Matrix shape (``n2=None``: square).
    m : int
        Number of measurements (the theory needs :math:`m \gtrsim n r` for rank ``r``).
    symmetric : bool
        Symmetric design :math:`A_i = (G_i + G_i^\top)/(2\sqrt m)` (``n1 == n2``), as in
        symmetric low-rank sensing (Xu, Shen, Chi & Ma 2023; Xiong, Ding & Du 2024): for
        symmetric :math:`X`, :math:`\langle A_i, X\rangle = \langle G_i, X\rangle/\sqrt m`.
    seed : int or None
        Seed of the draws (``numpy.random.default_rng([seed, block])`` per block of
        ``block_size`` matrices).
    storage : {"dense", "seeded"}
        ``"dense"`` keeps the ``(m, n1, n2)`` array (fast, ``8 m n1 n2`` bytes in float64);
        ``"seeded"`` regenerates the blocks at every application (memory of one block).
    block_size : int
        Matrices per block (both storages draw block by block, so they agree).
    like : array, optional
        An array of the namespace/device to work in (its dtype too, unless ``dtype``).
    dtype : dtype, optional
        Floating dtype (default: that of ``like``, else float64).
    matrices : array, optional
        Use these ``(m, n1, n2)`` sensing matrices instead of drawing them (any namespace;
        ``n1, n2, m`` are then taken from it and ``seed``/``storage`` are ignored). Use
        :meth:`from_matrices`.

    Examples
    --------
    >>> import numpy as np
    >>> op = GaussianDesign(4, 3, 50, seed=0)
    >>> X = np.arange(12.0).reshape(4, 3); y = np.ones(50)
    >>> np.testing.assert_allclose(op.apply(X) @ y, np.sum(X * op.adjoint(y)))
    """

    def __init__(
        self,
        n1: int,
        n2: int | None = None,
        m: int = 1,
        *,
        symmetric: bool = False,
        seed: int | None = 0,
        storage: str = "dense",
        block_size: int = 256,
        like: Any = None,
        dtype: Any = None,
        matrices: Any = None,
    ) -> None:
        if matrices is not None:
            A = check_array(matrices, "matrices", ndim=3)
            xp = get_namespace(A)
            m, n1, n2 = (int(s) for s in A.shape)
            if symmetric and n1 != n2:
                raise ValueError(f"symmetric=True needs square matrices, got shape {tuple(A.shape)}")
            if symmetric and not bool(xp.all(A == xp.permute_dims(A, (0, 2, 1)))):
                raise ValueError("symmetric=True but the given matrices are not symmetric")
            super().__init__((n1, n2), m, xp, A.dtype if dtype is None else dtype, device(A))
            self._A = A if dtype is None else xp.astype(A, dtype)
            self.symmetric = bool(symmetric)
            self.storage = "dense"
            self.seed = None
            self.block_size = int(m)
            return
        n1 = check_int(n1, "n1")
        n2 = n1 if n2 is None else check_int(n2, "n2")
        m = check_int(m, "m")
        storage = check_choice(storage, "storage", ("dense", "seeded"))
        block_size = check_int(block_size, "block_size")
        if symmetric and n1 != n2:
            raise ValueError(f"symmetric=True needs n1 == n2, got n1={n1}, n2={n2}")
        if seed is not None:
            seed = check_int(seed, "seed", minimum=0)
        else:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        if like is not None:
            like = check_array(like, "like", finite=False, nonempty=False)
            xp = get_namespace(like)
            dt = like.dtype if dtype is None else dtype
            dev = device(like)
        else:
            xp = _host_namespace()
            dt = xp.float64 if dtype is None else dtype
            dev = None
        super().__init__((n1, n2), m, xp, dt, dev)
        self.symmetric = bool(symmetric)
        self.storage = storage
        self.seed = seed
        self.block_size = block_size
        self._A = None
        if storage == "dense":
            self._A = xp.concat([blk for _, _, blk in self._blocks()], axis=0)

    @classmethod
    def from_matrices(cls, matrices: Any, *, symmetric: bool = False) -> GaussianDesign:
        """An operator with given ``(m, n1, n2)`` sensing matrices (scaled as they are)."""
        return cls(1, matrices=matrices, symmetric=symmetric)

    def _draw_block(self, b: int, start: int, stop: int) -> np.ndarray:
        n1, n2 = self.shape
        rng = np.random.default_rng([self.seed, b])
        G = rng.standard_normal((stop - start, n1, n2))
        if self.symmetric:
            G = 0.5 * (G + np.transpose(G, (0, 2, 1)))
        return G / math.sqrt(self.m)

    def _blocks(self) -> Iterator[tuple[int, int, Any]]:
        if self._A is not None:
            yield 0, self.m, self._A
            return
        for b, start in enumerate(range(0, self.m, self.block_size)):
            stop = min(start + self.block_size, self.m)
            blk = self._draw_block(b, start, stop)
            yield start, stop, self.xp.asarray(blk, dtype=self.dtype, device=self.device)

    @property
    def matrices(self) -> Any:
        """The ``(m, n1, n2)`` sensing matrices (drawn now for ``storage="seeded"``)."""
        if self._A is not None:
            return self._A
        return self.xp.concat([blk for _, _, blk in self._blocks()], axis=0)

    def _apply(self, X: Any) -> Any:
        xp = self.xp
        if self._A is not None:
            return xp.tensordot(self._A, X, axes=2)
        parts = [xp.tensordot(blk, X, axes=2) for _, _, blk in self._blocks()]
        return xp.concat(parts, axis=0)

    def _adjoint(self, y: Any) -> Any:
        xp = self.xp
        if self._A is not None:
            return xp.tensordot(y, self._A, axes=1)
        out = None
        for start, stop, blk in self._blocks():
            part = xp.tensordot(y[start:stop], blk, axes=1)
            out = part if out is None else out + part
        return out

    def apply(self, X: Any) -> Any:
        return self._apply(self._check_matrix(X))

    def adjoint(self, y: Any) -> Any:
        return self._adjoint(self._check_vector(y))

    def apply_factored(self, F: Any, G: Any = None) -> Any:
        xp = self.xp
        F = self._check_factor(F, self.shape[0], "F")
        if G is None:
            if self.shape[0] != self.shape[1]:
                raise ValueError("G=None (A(F F^T)) needs a square operator")
            G = F
        else:
            G = self._check_factor(G, self.shape[1], "G")
            if G.shape[1] != F.shape[1]:
                raise ValueError(f"F and G must have the same number of columns, got "
                                 f"{F.shape[1]} and {G.shape[1]}")
        # forming F G^T costs n1 n2 k, less than the m n1 n2 of the contraction itself
        return self._apply(xp.matmul(F, xp.matrix_transpose(G)))

    def adjoint_matmul(self, y: Any, V: Any) -> Any:
        y = self._check_vector(y)
        V = self._check_factor(V, self.shape[1], "V")
        return self.xp.matmul(self._adjoint(y), V)

    def adjoint_rmatmul(self, y: Any, U: Any) -> Any:
        y = self._check_vector(y)
        U = self._check_factor(U, self.shape[0], "U")
        S = self._adjoint(y)
        if not self.symmetric:
            S = self.xp.matrix_transpose(S)
        return self.xp.matmul(S, U)

    def to_matrix(self) -> np.ndarray:
        A = to_numpy(self.matrices)
        return np.asarray(A, dtype=np.float64).reshape(self.m, -1)


# --------------------------------------------------------------------------------------
# entry sampling
# --------------------------------------------------------------------------------------


class EntrySampling(SensingOperator):
    r"""Entry sampling :math:`\mathcal A(X)_i = s\, X_{a_i b_i}` (matrix completion as sensing).

    With the default scale :math:`s = \sqrt{n_1 n_2/m}`, :math:`\mathbb E\,\mathcal A^*\mathcal A
    = \mathrm{Id}` under uniform sampling, so the sensing losses and step sizes carry over.
    ``apply_factored`` gathers rows of the factors (:math:`O(mk)`) and ``adjoint_matmul``
    scatter-adds them (:math:`O(mk)`); no :math:`n_1\times n_2` matrix is formed except by
    :meth:`apply` (which takes one) and :meth:`adjoint` (which returns one).

    Parameters
    ----------
    shape : (int, int)
        ``(n1, n2)``.
    rows, cols : 1-D integer arrays
        Positions of the observed entries (duplicates are allowed: they count as repeated
        measurements). Same namespace as the operator.
    scale : float, optional
        Measurement scale ``s`` (default :math:`\sqrt{n_1 n_2/m}`).

    Examples
    --------
    >>> import numpy as np
    >>> op = EntrySampling((3, 3), np.array([0, 2]), np.array([1, 0]), scale=1.0)
    >>> op.apply(np.arange(9.0).reshape(3, 3))
    array([1., 6.])
    """

    def __init__(self, shape: tuple[int, int], rows: Any, cols: Any, *, scale: float | None = None) -> None:
        if len(shape) != 2:
            raise ValueError(f"shape must be (n1, n2), got {shape!r}")
        n1, n2 = check_int(shape[0], "shape[0]"), check_int(shape[1], "shape[1]")
        xp = get_namespace(rows, cols)
        for name, idx in (("rows", rows), ("cols", cols)):
            if not xp.isdtype(idx.dtype, "integral"):
                raise TypeError(f"{name} must be an integer array, got dtype {idx.dtype}")
            if idx.ndim != 1:
                raise ValueError(f"{name} must be 1-D, got shape {tuple(idx.shape)}")
        if rows.shape[0] != cols.shape[0]:
            raise ValueError(f"rows and cols must have the same length, got {rows.shape[0]} and {cols.shape[0]}")
        m = int(rows.shape[0])
        if m == 0:
            raise ValueError("rows/cols must not be empty (no observed entry)")
        for name, idx, n in (("rows", rows, n1), ("cols", cols, n2)):
            lo, hi = int(xp.min(idx)), int(xp.max(idx))
            if lo < 0 or hi >= n:
                raise ValueError(f"{name} must lie in [0, {n}), got values in [{lo}, {hi}]")
        dt = xp.float64 if hasattr(xp, "float64") else xp.float32
        super().__init__((n1, n2), m, xp, dt, device(rows))
        self.rows = rows
        self.cols = cols
        self._flat = rows * n2 + cols
        if scale is None:
            scale = math.sqrt(n1 * n2 / m)
        if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a positive finite number, got {scale!r}")
        self.scale = float(scale)
        self.symmetric = False

    @classmethod
    def random(cls, n1: int, n2: int | None = None, m: int = 1, *, seed: int | None = 0,
               replace: bool = False, like: Any = None) -> EntrySampling:
        """``m`` positions drawn uniformly (without replacement unless ``replace``)."""
        n1 = check_int(n1, "n1")
        n2 = n1 if n2 is None else check_int(n2, "n2")
        m = check_int(m, "m")
        if not replace and m > n1 * n2:
            raise ValueError(f"m={m} exceeds the n1*n2={n1 * n2} entries (use replace=True)")
        rng = np.random.default_rng(seed)
        flat = rng.choice(n1 * n2, size=m, replace=replace)
        r, c = np.divmod(flat, n2)
        if like is None:
            return cls((n1, n2), r, c)
        xp = get_namespace(like)
        dev = device(like)
        return cls((n1, n2), xp.asarray(r, dtype=xp.int64, device=dev), xp.asarray(c, dtype=xp.int64, device=dev))

    def apply(self, X: Any) -> Any:
        X = self._check_matrix(X)
        xp = self.xp
        return xp.take(xp.reshape(X, (-1,)), self._flat) * self.scale

    def adjoint(self, y: Any) -> Any:
        y = self._check_vector(y)
        xp = self.xp
        n1, n2 = self.shape
        out = scatter_add(xp, n1 * n2, self._flat, y * self.scale, check_bounds=False)
        return xp.reshape(out, (n1, n2))

    def apply_factored(self, F: Any, G: Any = None) -> Any:
        xp = self.xp
        F = self._check_factor(F, self.shape[0], "F")
        G = F if G is None else self._check_factor(G, self.shape[1], "G")
        if G is F and self.shape[0] != self.shape[1]:
            raise ValueError("G=None (A(F F^T)) needs a square operator")
        if G.shape[1] != F.shape[1]:
            raise ValueError(f"F and G must have the same number of columns, got {F.shape[1]} and {G.shape[1]}")
        return xp.sum(xp.take(F, self.rows, axis=0) * xp.take(G, self.cols, axis=0), axis=1) * self.scale

    def adjoint_matmul(self, y: Any, V: Any) -> Any:
        y = self._check_vector(y)
        V = self._check_factor(V, self.shape[1], "V")
        xp = self.xp
        vals = (y * self.scale)[:, None] * xp.take(V, self.cols, axis=0)
        return scatter_add(xp, self.shape[0], self.rows, vals, check_bounds=False)

    def adjoint_rmatmul(self, y: Any, U: Any) -> Any:
        y = self._check_vector(y)
        U = self._check_factor(U, self.shape[0], "U")
        xp = self.xp
        vals = (y * self.scale)[:, None] * xp.take(U, self.rows, axis=0)
        return scatter_add(xp, self.shape[1], self.cols, vals, check_bounds=False)

    def to_matrix(self) -> np.ndarray:
        n1, n2 = self.shape
        out = np.zeros((self.m, n1 * n2))
        out[np.arange(self.m), to_numpy(self._flat)] = self.scale
        return out


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def operator_norm_estimate(op: SensingOperator, y: Any, *, iters: int = 30, seed: int = 0) -> float:
    r"""Estimate :math:`\|\mathcal A^*(y)\|_2` (largest singular value) by power iteration.

    Uses only :meth:`~SensingOperator.adjoint_matmul` / ``adjoint_rmatmul`` (no dense
    matrix for structured operators). For :math:`y = \mathcal A(M^\star)` and an operator
    with the RIP, this is close to :math:`\sigma_1(M^\star)`, which sets the scale of the
    gradient-descent step sizes.

    Examples
    --------
    >>> import numpy as np
    >>> op = EntrySampling((2, 2), np.array([0, 1]), np.array([0, 1]), scale=1.0)
    >>> round(operator_norm_estimate(op, np.array([3.0, 1.0])), 6)
    3.0
    """
    iters = check_int(iters, "iters")
    xp = op.xp
    rng = np.random.default_rng(seed)
    v = xp.asarray(rng.standard_normal((op.shape[1], 1)), dtype=op.dtype, device=op.device)
    s = 0.0
    for _ in range(iters):
        nv = float(xp.linalg.vector_norm(v))
        if nv == 0.0:
            return 0.0
        v = v / nv
        u = op.adjoint_matmul(y, v)
        s = float(xp.linalg.vector_norm(u))
        v = op.adjoint_rmatmul(y, u)
    return s
