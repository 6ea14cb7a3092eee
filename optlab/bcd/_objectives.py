"""Structured objectives for block coordinate descent, with incremental gradient upkeep.

A BCD iteration touches one block ``b``; what a greedy rule needs is the full
gradient, and recomputing it costs a full pass over the data. The objectives here
keep a *state* (``x`` plus the auxiliary vectors of the structure: ``g = A x - c``
for a quadratic, the residual ``r = X x - y`` and ``g = s X^T r`` for least
squares, the margins ``X x`` for logistic regression) and update it after a block
step ``x_b <- x_b + d`` touching only what changes:

=================  ==========================================  ============================================
objective          state kept                                  cost of ``step(b, d)``
=================  ==========================================  ============================================
Quadratic          x, g = A x - c                              nnz(A[:, b]) (sparse A), n |b| (dense A)
LeastSquares       x, r = X x - y, g = s X^T r                 nnz(X[:, b]) + n |b| with cached Gram columns
                                                               (sparse X), m n (dense X: one X^T v)
Logistic           x, margins X x (gradient on demand)         nnz(X[:, b]); a full gradient costs nnz(X)
=================  ==========================================  ============================================

Every method counts the arithmetic it does in ``ops`` (multiply-adds of the data
touched), so that the claims can use machine-independent costs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["Quadratic", "LeastSquares", "Logistic", "Softmax", "Penalty", "as_objective"]


def _gather_cols(Ac: sp.csc_matrix, b: np.ndarray):
    """Rows, values and block positions of the entries of the CSC columns ``b``."""
    indptr = Ac.indptr
    starts = indptr[b]
    lens = indptr[b + 1] - starts
    total = int(lens.sum())
    if total == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, np.zeros(0), e
    csum = np.cumsum(lens)
    offs = np.arange(total) - np.repeat(csum - lens, lens) + np.repeat(starts, lens)
    colpos = np.repeat(np.arange(b.size), lens)
    return Ac.indices[offs], Ac.data[offs], colpos


class _State:
    """Iterate plus the auxiliary vectors an objective keeps up to date."""

    __slots__ = ("x", "g", "r", "m", "g_valid", "ops")

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self.g = None
        self.r = None
        self.m = None
        self.g_valid = False
        self.ops = 0.0


class _Objective:
    n: int
    name: str
    L_coord: np.ndarray
    quadratic: bool = False

    # -- interface -----------------------------------------------------------------------
    def init_state(self, x: np.ndarray) -> _State:  # pragma: no cover - abstract
        raise NotImplementedError

    def value(self, st: _State) -> float:  # pragma: no cover
        raise NotImplementedError

    def grad(self, st: _State) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def grad_block(self, st: _State, b: np.ndarray) -> np.ndarray:
        return self.grad(st)[b]

    def step(self, st: _State, b: np.ndarray, d: np.ndarray) -> None:  # pragma: no cover
        raise NotImplementedError

    def delta(self, st: _State, b: np.ndarray, d: np.ndarray) -> float:  # pragma: no cover
        raise NotImplementedError

    def hess_block(self, st: _State, b: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def hvp(self, st: _State, v: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def hess_bound_block(self, st: _State, b: np.ndarray) -> np.ndarray:
        """A matrix bounding the block Hessian everywhere (the block Hessian for quadratics)."""
        return self.hess_block(st, b)

    def gershgorin(self) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def L_max_eig(self) -> float:
        """Largest eigenvalue of the Hessian bound (for IHT steps); cached."""
        if getattr(self, "_Lmax", None) is None:
            self._Lmax = float(self._lmax())
        return self._Lmax


def _lmax_of_operator(n: int, mv, seed: int = 0) -> float:
    from scipy.sparse.linalg import LinearOperator, eigsh

    if n <= 400:
        M = np.column_stack([mv(e) for e in np.eye(n)])
        return float(np.linalg.eigvalsh(0.5 * (M + M.T))[-1])
    op = LinearOperator((n, n), matvec=mv, dtype=float)
    v0 = np.random.default_rng(seed).standard_normal(n)
    return float(eigsh(op, k=1, which="LA", v0=v0, tol=1e-6, return_eigenvectors=False)[0])


class Quadratic(_Objective):
    r"""``f(x) = x^T A x / 2 - c^T x`` with ``A`` symmetric positive semidefinite.

    Parameters
    ----------
    A : (n, n) ndarray or scipy.sparse matrix
        Symmetric PSD matrix (checked for squareness and symmetry).
    c : (n,) ndarray
        Linear term.
    const : float
        Constant added to ``f`` (for reporting the paper's objective).

    The gradient ``g = A x - c`` is kept up to date: a block step costs
    ``nnz(A[:, b])`` for sparse ``A`` (the neighbours of the block in the graph of
    ``A``), so greedy rules need no full gradient. ``L_coord = diag(A)``.
    """

    quadratic = True

    def __init__(self, A: Any, c: Any, const: float = 0.0) -> None:
        if sp.issparse(A):
            A = sp.csc_matrix(A, dtype=np.float64)
            A.sum_duplicates()
            if A.shape[0] != A.shape[1]:
                raise ValueError(f"A must be square, got shape {A.shape}")
            if A.nnz and abs(A - A.T).max() > 1e-10 * max(abs(A).max(), 1e-300):
                raise ValueError("A must be symmetric")
            if not np.all(np.isfinite(A.data)):
                raise ValueError("A contains NaN or inf")
            self.sparse = True
            self.diag = A.diagonal().astype(float)
        else:
            A = np.asarray(A, dtype=np.float64)
            if A.ndim != 2 or A.shape[0] != A.shape[1]:
                raise ValueError(f"A must be a square matrix, got shape {A.shape}")
            if not np.all(np.isfinite(A)):
                raise ValueError("A contains NaN or inf")
            if not np.allclose(A, A.T, rtol=1e-10, atol=1e-12 * max(np.abs(A).max(), 1e-300)):
                raise ValueError("A must be symmetric")
            self.sparse = False
            self.diag = np.diag(A).copy()
        c = np.asarray(c, dtype=np.float64)
        if c.shape != (A.shape[0],):
            raise ValueError(f"c must have shape ({A.shape[0]},), got {c.shape}")
        if not np.all(np.isfinite(c)):
            raise ValueError("c contains NaN or inf")
        if np.any(self.diag <= 0):
            raise ValueError("A must have a positive diagonal (coordinate Lipschitz constants)")
        self.A, self.c, self.const = A, c, float(const)
        self.n = A.shape[0]
        self.name = "quadratic"
        self.L_coord = self.diag
        self._pos = np.full(self.n, -1, dtype=np.int64)
        self._Lmax = None
        self._colcache: dict[int, Any] = {}

    def init_state(self, x):
        st = _State(np.array(x, dtype=np.float64, copy=True))
        st.g = self.A @ st.x - self.c
        st.g_valid = True
        st.ops += self.A.nnz if self.sparse else self.n**2
        return st

    def value(self, st):
        return 0.5 * float(st.x @ (st.g - self.c)) + self.const

    def grad(self, st):
        return st.g

    def grad_block(self, st, b):
        return st.g[b]

    def cols(self, b):
        """(rows, vals, colpos) of A[:, b] (sparse) -- the block's neighbourhood."""
        return _gather_cols(self.A, b)

    def step(self, st, b, d, key=None):
        st.x[b] += d
        if self.sparse:
            if key is not None and key >= 0:  # a fixed block: its columns are cached (nnz(A) in all)
                hit = self._colcache.get(key)
                if hit is None or (hit[0] is not b and not np.array_equal(hit[0], b)):
                    hit = (b, sp.csr_matrix(self.A[:, b]))
                elif hit[0] is not b:
                    hit = (b, hit[1])
                self._colcache[key] = hit
                sub = hit[1]
                st.g += sub @ d
                st.ops += sub.nnz
                return
            rows, vals, cp = _gather_cols(self.A, b)
            np.add.at(st.g, rows, vals * d[cp])
            st.ops += rows.size
        else:
            st.g += self.A[:, b] @ d
            st.ops += self.n * b.size

    def delta(self, st, b, d):
        H = self.hess_block(st, b)
        return float(st.g[b] @ d + 0.5 * d @ (H @ d))

    def hess_block(self, st, b):
        k = b.size
        if not self.sparse:
            st.ops += k * k
            return self.A[np.ix_(b, b)]
        rows, vals, cp = _gather_cols(self.A, b)
        pos = self._pos
        pos[b] = np.arange(k)
        pr = pos[rows]
        pos[b] = -1
        m = pr >= 0
        H = np.zeros((k, k))
        H[pr[m], cp[m]] = vals[m]
        st.ops += rows.size
        return H

    def block_parts(self, st, b):
        """Diagonal and off-diagonal (local rows, cols, values) of the sparse ``A_bb``."""
        rows, vals, cp = _gather_cols(self.A, b)
        pos = self._pos
        k = b.size
        pos[b] = np.arange(k)
        pr = pos[rows]
        pos[b] = -1
        st.ops += rows.size
        m = (pr >= 0) & (pr != cp) & (vals != 0)
        return self.diag[b], pr[m], cp[m], vals[m]

    def hvp(self, st, v):
        st.ops += self.A.nnz if self.sparse else self.n**2
        return self.A @ v

    def gershgorin(self):
        if self.sparse:
            return np.asarray(abs(self.A).sum(axis=0)).ravel()
        return np.abs(self.A).sum(axis=0)

    def _lmax(self):
        return _lmax_of_operator(self.n, lambda v: self.A @ v)


class LeastSquares(_Objective):
    r"""``f(x) = (s/2) ||X x - y||^2`` (``s = scale``; scikit-learn's Lasso uses ``s = 1/n_samples``).

    Keeps the residual ``r = X x - y`` and the gradient ``g = s X^T r``. For sparse
    ``X`` a block step updates ``g`` with cached Gram columns ``X^T X_j`` (each
    computed once, ``sum_{i in rows(j)} nnz(X[i, :])`` operations): a step costs
    ``nnz(X[:, b]) + n |b|`` when the block's columns are cached; a step on a block with
    uncached columns updates ``g`` by one transposed product ``X^T (X_b d)`` (``nnz(X)``) and
    caches up to two of its columns that were used before (least-recently-used eviction). For dense ``X`` a step updates ``g`` with one
    product ``X^T (X_b d)`` (``m n``). ``L_coord = s ||X_j||^2``. ``gram_cache``: how many
    Gram columns to keep (default ``1e7 / n``, about 80 MB).
    """

    def __init__(self, X: Any, y: Any, scale: float = 1.0, gram_cache: int | None = None) -> None:
        if sp.issparse(X):
            Xc = sp.csc_matrix(X, dtype=np.float64)
            Xc.sum_duplicates()
            if not np.all(np.isfinite(Xc.data)):
                raise ValueError("X contains NaN or inf")
            self.sparse = True
            self.Xc = Xc
            self.Xr = sp.csr_matrix(Xc)
            self.X = Xc
            self._row_nnz = np.diff(self.Xr.indptr)
            sq = np.asarray(Xc.multiply(Xc).sum(axis=0)).ravel()
        else:
            X = np.asarray(X, dtype=np.float64)
            if X.ndim != 2:
                raise ValueError(f"X must be 2-D, got shape {X.shape}")
            if not np.all(np.isfinite(X)):
                raise ValueError("X contains NaN or inf")
            self.sparse = False
            self.X = np.asfortranarray(X)
            sq = (X * X).sum(axis=0)
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (self.X.shape[0],):
            raise ValueError(f"y must have shape ({self.X.shape[0]},), got {y.shape}")
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or inf")
        self.y = y
        self.s = float(scale)
        self.m, self.n = self.X.shape
        self.name = "least_squares"
        self.L_coord = self.s * np.maximum(sq, 1e-300)
        self._gram: dict[int, np.ndarray] = {}
        self._seen = np.zeros(self.n, dtype=bool)  # coordinates already stepped on (cache admission)
        self._admit_max, self._admit_seen = 2, True
        # cached Gram columns: at most ~80 MB by default
        self._gram_cap = int(gram_cache) if gram_cache is not None else max(64, int(1e7 // max(self.n, 1)))
        self._Lmax = None
        self.quadratic = True

    def init_state(self, x, lazy=False):
        """``lazy=True``: keep only the residual (for non-greedy rules: a step then costs
        ``nnz(X[:, b])`` and ``grad_block`` costs ``nnz(X[:, b])``; ``grad`` costs ``nnz(X)``)."""
        st = _State(np.array(x, dtype=np.float64, copy=True))
        st.r = self.X @ st.x - self.y
        st.ops += self.X.nnz if self.sparse else self.m * self.n
        if not lazy:
            st.g = self.s * (self.X.T @ st.r)
            st.ops += self.X.nnz if self.sparse else self.m * self.n
        st.g_valid = not lazy
        return st

    def refresh(self, st):
        """Recompute r and g from x (removes drift of the incremental updates)."""
        st.r = self.X @ st.x - self.y
        st.g = self.s * (self.X.T @ st.r)
        st.g_valid = True
        st.ops += 2 * (self.X.nnz if self.sparse else self.m * self.n)

    def value(self, st):
        return 0.5 * self.s * float(st.r @ st.r)

    def grad(self, st):
        if not st.g_valid:
            st.ops += self.X.nnz if self.sparse else self.m * self.n
            return self.s * (self.X.T @ st.r)
        return st.g

    def grad_block(self, st, b):
        if not st.g_valid:
            if self.sparse:
                rows, vals, cp = _gather_cols(self.Xc, b)
                st.ops += rows.size
                return self.s * np.bincount(cp, weights=vals * st.r[rows], minlength=b.size)
            st.ops += self.m * b.size
            return self.s * (self.X[:, b].T @ st.r)
        return st.g[b]

    def gram_cols(self, st, b):
        """The columns ``X^T X[:, b]`` as an (n, |b|) array (cached per column; the missing
        ones are computed together, one sparse product)."""
        cache = self._gram
        bl = b.tolist()
        miss = [j for j in bl if j not in cache]
        if miss:
            mi = np.asarray(miss, dtype=np.int64)
            if self.sparse:
                sub = self.Xc[:, mi]
                cols = np.asarray((self.Xr.T @ sub).toarray())
                st.ops += int(self._row_nnz[sub.indices].sum())
            else:
                cols = self.X.T @ self.X[:, mi]
                st.ops += self.m * self.n * mi.size
            room = self._gram_cap - len(cache)
            for k, j in enumerate(miss):
                if k < room:
                    cache[j] = cols[:, k]
            lookup = dict(zip(miss, cols.T, strict=True))
        else:
            lookup = {}
        out = np.empty((self.n, b.size))
        for k, j in enumerate(bl):
            col = cache.get(j)
            out[:, k] = lookup[j] if col is None else col
        return out

    def _cached_or_admit(self, st, b):
        """Gram columns ``X^T X_j`` of ``b`` (a list of (n,) arrays) from the cache, or ``None``.

        Least-recently-used cache of at most ``gram_cache`` columns. Per call, at most two
        missing columns that were selected before (reused coordinates) are computed
        (``sum_{i in rows(j)} nnz(X[i, :])`` operations each, from the rows of ``X`` the
        column touches) and cached; if columns are still missing the result is ``None`` and
        the caller updates ``g`` with one pass ``X^T (X_b d)`` over ``X`` instead (cheaper
        than computing many Gram columns that may never be used again).
        """
        cache = self._gram
        bl = b.tolist()
        miss = [j for j in bl if j not in cache]
        seen = self._seen
        if miss:
            admit = [j for j in miss if seen[j] or not self._admit_seen][:self._admit_max]
            seen[b] = True
            if self._gram_cap < len(bl):
                return None
            if admit:
                mi = np.asarray(admit, dtype=np.int64)
                rows, vals, cp = _gather_cols(self.Xc, mi)
                R = np.unique(rows)
                XM = np.zeros((self.m, mi.size))
                XM[rows, cp] = vals
                cols = np.asarray(self.Xr[R].T @ XM[R])
                st.ops += int(self._row_nnz[R].sum()) * mi.size
                keep = set(bl)
                for k, j in enumerate(admit):
                    while len(cache) >= self._gram_cap:  # evict the oldest column not in this block
                        old = next(j2 for j2 in cache if j2 not in keep)
                        del cache[old]
                    cache[j] = cols[:, k]
            if len(admit) < len(miss):
                return None
        for j in bl:  # refresh recency (dicts keep insertion order: the first key is the oldest)
            cache[j] = cache.pop(j)
        return [cache[j] for j in bl]

    def _xb_times(self, st, b, d):
        if self.sparse:
            rows, vals, cp = _gather_cols(self.Xc, b)
            st.ops += rows.size
            return rows, vals * d[cp]
        st.ops += self.m * b.size
        return None, self.X[:, b] @ d

    def step(self, st, b, d, key=None):
        st.x[b] += d
        rows, v = self._xb_times(st, b, d)
        if not st.g_valid:
            if self.sparse:
                np.add.at(st.r, rows, v)
            else:
                st.r += v
            return
        if self.sparse:
            np.add.at(st.r, rows, v)
            cols = self._cached_or_admit(st, b)
            if cols is not None:  # g += s (X^T X_b) d with the (cached) Gram columns: n |b|
                g = st.g
                for col, dj in zip(cols, (self.s * d).tolist(), strict=True):
                    if dj:
                        g += dj * col
                st.ops += self.n * b.size
            else:  # cache full and a column missing: g += s X^T (X_b d), one pass over X
                dr = np.bincount(rows, weights=v, minlength=self.m)
                st.g += self.s * (self.Xc.T @ dr)
                st.ops += self.Xc.nnz
        else:
            st.r += v
            st.g += self.s * (self.X.T @ v)
            st.ops += self.m * self.n

    def delta(self, st, b, d):
        rows, v = self._xb_times(st, b, d)
        if self.sparse:
            dr = np.bincount(rows, weights=v, minlength=self.m)
        else:
            dr = v
        return self.s * float(st.r @ dr + 0.5 * dr @ dr)

    def hess_block(self, st, b):
        if self.sparse:
            cache = self._gram
            if st.g_valid and all(j in cache for j in b.tolist()):
                st.ops += b.size**2
                return self.s * np.stack([cache[j][b] for j in b.tolist()], axis=1)
            rows, vals, cp = _gather_cols(self.Xc, b)  # X_b^T X_b from the block's columns
            Xb = np.zeros((self.m, b.size))
            Xb[rows, cp] = vals
            st.ops += rows.size * b.size
            return self.s * (Xb.T @ Xb)
        Xb = self.X[:, b]
        st.ops += self.m * b.size**2
        return self.s * (Xb.T @ Xb)

    def hvp(self, st, v):
        st.ops += 2 * (self.X.nnz if self.sparse else self.m * self.n)
        return self.s * (self.X.T @ (self.X @ v))

    def gershgorin(self):
        """Upper bound ``s |X|^T |X| 1`` of the row sums of ``|X^T X|`` (valid for GSDHb)."""
        Xa = abs(self.X) if self.sparse else np.abs(self.X)
        return self.s * np.asarray(Xa.T @ (Xa @ np.ones(self.n))).ravel()

    def _lmax(self):
        return _lmax_of_operator(self.n, lambda v: self.s * (self.X.T @ (self.X @ v)))


def _log1pexp(t):
    return np.logaddexp(0.0, t)


def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))


class Logistic(_Objective):
    r"""``f(x) = sum_i log(1 + exp(-y_i X_i^T x)) + (lam/2) ||x||^2`` (labels in {-1, +1}).

    Keeps the margins ``X x``; a block step costs ``nnz(X[:, b])``; the full
    gradient (needed by greedy rules, not by random or cyclic ones) costs
    ``nnz(X)`` and is computed only when asked for. ``L_coord = ||X_j||^2 / 4 + lam``.
    """

    def __init__(self, X: Any, y: Any, lam: float = 0.0) -> None:
        if sp.issparse(X):
            self.X = sp.csc_matrix(X, dtype=np.float64)
            self.sparse = True
            sq = np.asarray(self.X.multiply(self.X).sum(axis=0)).ravel()
            if not np.all(np.isfinite(self.X.data)):
                raise ValueError("X contains NaN or inf")
        else:
            self.X = np.asfortranarray(np.asarray(X, dtype=np.float64))
            if self.X.ndim != 2:
                raise ValueError(f"X must be 2-D, got shape {self.X.shape}")
            if not np.all(np.isfinite(self.X)):
                raise ValueError("X contains NaN or inf")
            self.sparse = False
            sq = (self.X**2).sum(axis=0)
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (self.X.shape[0],) or not np.all(np.isin(y, (-1.0, 1.0))):
            raise ValueError("y must be a vector of labels in {-1, +1}, one per row of X")
        self.y, self.lam = y, float(lam)
        self.m, self.n = self.X.shape
        self.name = "logistic"
        self.L_coord = 0.25 * sq + self.lam
        self.L_coord = np.maximum(self.L_coord, 1e-12)
        self._Lmax = None

    def _nnz(self):
        return self.X.nnz if self.sparse else self.m * self.n

    def init_state(self, x):
        st = _State(np.array(x, dtype=np.float64, copy=True))
        st.m = self.X @ st.x
        st.ops += self._nnz()
        return st

    def value(self, st):
        return float(_log1pexp(-self.y * st.m).sum()) + 0.5 * self.lam * float(st.x @ st.x)

    def _weights(self, st):
        return -self.y * _sigmoid(-self.y * st.m)

    def grad(self, st):
        if not st.g_valid:
            st.g = self.X.T @ self._weights(st) + self.lam * st.x
            st.g_valid = True
            st.ops += self._nnz()
        return st.g

    def grad_block(self, st, b):
        if st.g_valid:
            return st.g[b]
        Xb = self.X[:, b]
        st.ops += Xb.nnz if self.sparse else self.m * b.size
        return np.asarray(Xb.T @ self._weights(st)).ravel() + self.lam * st.x[b]

    def step(self, st, b, d, key=None):
        st.x[b] += d
        st.m += np.asarray(self.X[:, b] @ d).ravel()
        st.ops += self.X[:, b].nnz if self.sparse else self.m * b.size
        st.g_valid = False

    def delta(self, st, b, d):
        mnew = st.m + np.asarray(self.X[:, b] @ d).ravel()
        xb = st.x[b]
        reg = 0.5 * self.lam * float((xb + d) @ (xb + d) - xb @ xb)
        return float(_log1pexp(-self.y * mnew).sum() - _log1pexp(-self.y * st.m).sum()) + reg

    def hess_block(self, st, b):
        s = _sigmoid(self.y * st.m)
        w = s * (1 - s)
        Xb = self.X[:, b]
        Xb = Xb.toarray() if self.sparse else Xb
        st.ops += self.m * b.size**2
        return Xb.T @ (w[:, None] * Xb) + self.lam * np.eye(b.size)

    def hess_bound_block(self, st, b):
        Xb = self.X[:, b]
        Xb = Xb.toarray() if self.sparse else Xb
        st.ops += self.m * b.size**2
        return 0.25 * (Xb.T @ Xb) + self.lam * np.eye(b.size)

    def hvp(self, st, v):
        st.ops += 2 * self._nnz()
        return 0.25 * (self.X.T @ (self.X @ v)) + self.lam * v

    def gershgorin(self):
        Xa = abs(self.X) if self.sparse else np.abs(self.X)
        return 0.25 * np.asarray(Xa.T @ (Xa @ np.ones(self.n))).ravel() + self.lam

    def _lmax(self):
        return _lmax_of_operator(self.n, lambda v: 0.25 * (self.X.T @ (self.X @ v)) + self.lam * v)


class Softmax(_Objective):
    r"""Multinomial logistic (softmax) loss with an L2 term, on the flattened weights.

    ``f(W) = sum_i [logsumexp_c (X W)_{ic} - (X W)_{i y_i}] + (lam/2) ||W||_F^2`` with ``W``
    of shape ``(d, K)`` flattened row-major (coordinate ``j K + c`` is ``W[j, c]``). Keeps the
    logits ``Z = X W``; a block step costs ``nnz(X[:, j])`` per coordinate; the full gradient
    (greedy rules) costs ``nnz(X) K``. ``L_coord = ||X_j||^2 / 2 + lam`` (Bohning's bound
    ``H <= (1/2) (I - 11^T/K) kron X^T X``).
    """

    def __init__(self, X: Any, y: Any, n_classes: int | None = None, lam: float = 0.0) -> None:
        if sp.issparse(X):
            self.X = sp.csc_matrix(X, dtype=np.float64)
            self.sparse = True
            sq = np.asarray(self.X.multiply(self.X).sum(axis=0)).ravel()
            ok = np.all(np.isfinite(self.X.data))
        else:
            self.X = np.asfortranarray(np.asarray(X, dtype=np.float64))
            self.sparse = False
            if self.X.ndim != 2:
                raise ValueError(f"X must be 2-D, got shape {self.X.shape}")
            sq = (self.X**2).sum(axis=0)
            ok = np.all(np.isfinite(self.X))
        if not ok:
            raise ValueError("X contains NaN or inf")
        y = np.asarray(y)
        if y.shape != (self.X.shape[0],) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ValueError("y must be a vector of class indices (integers >= 0), one per row of X")
        K = int(n_classes) if n_classes is not None else int(y.max()) + 1
        if y.max() >= K:
            raise ValueError(f"y has a class index >= n_classes = {K}")
        self.y, self.K, self.lam = y.astype(np.int64), K, float(lam)
        self.m, self.d = self.X.shape
        self.n = self.d * K
        self.name = "softmax"
        self.L_coord = np.repeat(np.maximum(0.5 * sq + self.lam, 1e-12), K)
        self._Lmax = None
        self._rows = np.arange(self.m)

    def _nnz(self):
        return self.X.nnz if self.sparse else self.m * self.d

    def init_state(self, x):
        st = _State(np.array(x, dtype=np.float64, copy=True))
        st.m = np.asarray(self.X @ st.x.reshape(self.d, self.K))
        st.ops += self._nnz() * self.K
        return st

    def _probs(self, Z):
        Zs = Z - Z.max(axis=1, keepdims=True)
        E = np.exp(Zs)
        return E / E.sum(axis=1, keepdims=True)

    def _loss(self, Z):
        mx = Z.max(axis=1)
        lse = mx + np.log(np.exp(Z - mx[:, None]).sum(axis=1))
        return float((lse - Z[self._rows, self.y]).sum())

    def value(self, st):
        return self._loss(st.m) + 0.5 * self.lam * float(st.x @ st.x)

    def _resid(self, st):
        R = self._probs(st.m)
        R[self._rows, self.y] -= 1.0
        return R

    def grad(self, st):
        if not st.g_valid:
            st.g = np.asarray(self.X.T @ self._resid(st)).ravel() + self.lam * st.x
            st.g_valid = True
            st.ops += self._nnz() * self.K + self.m * self.K
        return st.g

    def grad_block(self, st, b):
        if st.g_valid:
            return st.g[b]
        j, c = np.divmod(b, self.K)
        R = self._resid(st)
        Xj = self.X[:, j]
        Xj = Xj.toarray() if self.sparse else Xj
        st.ops += self.m * (self.K + b.size)
        return np.einsum("ik,ik->k", Xj, R[:, c]) + self.lam * st.x[b]

    def _dZ(self, b, d):
        j, c = np.divmod(b, self.K)
        Xj = self.X[:, j]
        Xj = Xj.toarray() if self.sparse else Xj
        dZ = np.zeros((self.m, self.K))
        np.add.at(dZ.T, c, (Xj * d).T)
        return dZ

    def step(self, st, b, d, key=None):
        st.x[b] += d
        st.m += self._dZ(b, d)
        st.ops += self.m * b.size
        st.g_valid = False

    def delta(self, st, b, d):
        xb = st.x[b]
        reg = 0.5 * self.lam * float((xb + d) @ (xb + d) - xb @ xb)
        return self._loss(st.m + self._dZ(b, d)) - self._loss(st.m) + reg

    def _xb(self, b):
        j, c = np.divmod(b, self.K)
        Xj = self.X[:, j]
        return (Xj.toarray() if self.sparse else Xj), c

    def hess_block(self, st, b):
        Xb, c = self._xb(b)
        P = self._probs(st.m)[:, c]
        A = Xb * P
        same = c[:, None] == c[None, :]
        st.ops += self.m * b.size**2
        return (Xb.T @ A) * same - A.T @ A + self.lam * np.eye(b.size)

    def hess_bound_block(self, st, b):
        Xb, c = self._xb(b)
        same = c[:, None] == c[None, :]
        st.ops += self.m * b.size**2
        return 0.5 * (Xb.T @ Xb) * same + self.lam * np.eye(b.size)

    def hvp(self, st, v):
        V = v.reshape(self.d, self.K)
        U = np.asarray(self.X @ V)
        P = self._probs(st.m)
        Rm = P * U - P * (P * U).sum(axis=1, keepdims=True)
        st.ops += 2 * self._nnz() * self.K
        return np.asarray(self.X.T @ Rm).ravel() + self.lam * v

    def gershgorin(self):
        Xa = abs(self.X) if self.sparse else np.abs(self.X)
        row = 0.5 * np.asarray(Xa.T @ (Xa @ np.ones(self.d))).ravel() + self.lam
        return np.repeat(row, self.K)

    def _lmax(self):
        return 0.5 * _lmax_of_operator(self.d, lambda v: self.X.T @ (self.X @ v)) + self.lam


class Penalty:
    r"""Separable nonsmooth part ``g(x) = lam ||x||_1 + indicator(lower <= x <= upper)``.

    ``lower``/``upper`` are scalars or (n,) arrays (``-inf``/``inf`` for none).
    The proximal map of one coordinate is the soft-threshold followed by the
    clip to ``[lower, upper]`` (exact for a 1-D convex function on an interval).
    """

    def __init__(self, n: int, lam: float = 0.0, lower: Any = -np.inf, upper: Any = np.inf) -> None:
        lam = float(lam)
        if not (lam >= 0 and math.isfinite(lam)):
            raise ValueError(f"l1 must be a finite number >= 0, got {lam!r}")
        lo = np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy()
        hi = np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy()
        if np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
            raise ValueError("lower/upper must not contain NaN")
        if np.any(lo > hi):
            raise ValueError("lower must be <= upper")
        self.lam, self.lower, self.upper = lam, lo, hi
        self.has_bounds = bool(np.any(np.isfinite(lo)) or np.any(np.isfinite(hi)))
        self.active = lam > 0 or self.has_bounds
        self.nonneg = bool(np.all(lo == 0) and np.all(np.isinf(hi)))

    def value(self, x: np.ndarray) -> float:
        return self.lam * float(np.abs(x).sum()) if self.lam else 0.0

    def value_block(self, xb: np.ndarray) -> float:
        return self.lam * float(np.abs(xb).sum()) if self.lam else 0.0

    def prox(self, v: np.ndarray, t: Any, idx: Any = slice(None)) -> np.ndarray:
        if self.lam:
            v = np.sign(v) * np.maximum(np.abs(v) - t * self.lam, 0.0)
        if self.has_bounds:
            v = np.clip(v, self.lower[idx], self.upper[idx])
        return v

    def feasible(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.lower, self.upper) if self.has_bounds else x


def as_objective(obj: Any) -> _Objective:
    if isinstance(obj, _Objective):
        return obj
    raise TypeError(
        "objective must be an optlab.bcd objective (Quadratic, LeastSquares, Logistic or Softmax), "
        f"got {type(obj).__name__}"
    )
