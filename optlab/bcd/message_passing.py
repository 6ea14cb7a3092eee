r"""Exact solve of a forest-structured symmetric positive definite system in ``O(|b|)``.

Nutini, Laradji & Schmidt (JMLR 2022), Sec. 5 (message passing): when the subgraph of a
sparse quadratic induced by a block ``b`` is a forest, the exact block update
``A_bb x_b = r_b`` is Gaussian elimination in leaf-to-root order followed by
back-substitution (Gaussian belief propagation, exact on trees), with no fill-in:

.. math::

    D_p \leftarrow D_p - A_{ip}^2 / D_i, \quad r_p \leftarrow r_p - A_{ip} r_i / D_i
    \quad \text{(every child } i \text{ of } p\text{, leaves first)},
    \qquad x_i = (r_i - A_{ip} x_p) / D_i \quad \text{(roots first)}.

Each node is eliminated once and substituted once: about ``8 |b|`` floating point
operations, counted exactly in :attr:`ForestSolver.ops`. :meth:`ForestSolver.solve` runs the
loops vectorized over the nodes of one depth of the trees (numpy scatter-adds), so the
Python overhead is proportional to the depth of the forest, not to ``|b|``; a forest is
rooted at the centre of each tree to keep the depth small. :meth:`ForestSolver.solve_compiled`
runs the same elimination (same leaf-to-root order, no pivoting, no fill-in) in compiled
code through SuperLU with its natural ordering, factored once and reused. :class:`TreeFactor`
is the lighter set-up of that compiled path (one breadth-first search for the order, no tree
centres): it is what the BCD driver uses, once per fixed forest block (cached on the objective)
and once per iteration for greedy tree blocks (numba is not a dependency). (The reference code
inverts the dense ``A_bb``, ``O(|b|^3)``.)

Examples
--------
>>> import numpy as np, scipy.sparse as sp
>>> A = sp.diags([[-1.0] * 4, [3.0] * 5, [-1.0] * 4], [-1, 0, 1], format="csr")  # a path
>>> fs = ForestSolver(A)
>>> x = fs.solve(np.ones(5))
>>> float(np.max(np.abs(A @ x - 1.0))) < 1e-14
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components

__all__ = ["ForestSolver", "forest_solve", "TreeFactor"]


class ForestSolver:
    """Leaf-to-root elimination / back-substitution for a forest-structured SPD matrix.

    Parameters
    ----------
    A : scipy.sparse matrix, shape (k, k)
        Symmetric positive definite whose off-diagonal graph is a forest (checked: a
        cycle raises ``ValueError``).

    Attributes
    ----------
    ops : int
        Floating point operations of one :meth:`solve` (elimination + substitution).
    depth : int
        Number of levels (Python-level iterations of each sweep).
    """

    def __init__(self, A: Any) -> None:
        A = sp.coo_matrix(A)
        k = A.shape[0]
        if A.shape != (k, k):
            raise ValueError(f"A must be square, got shape {A.shape}")
        on = A.row == A.col
        diag = np.zeros(k)
        np.add.at(diag, A.row[on], A.data[on])
        off = ~on & (A.data != 0)
        r, c, v = A.row[off], A.col[off], A.data[off]
        G = sp.csr_matrix((v, (r, c)), shape=(k, k))
        G.sum_duplicates()
        if G.nnz and abs(G - G.T).max() > 1e-12 * float(abs(G).max()):
            raise ValueError("A must be symmetric")
        Gc = G.tocoo()
        self._setup(k, diag, Gc.row.astype(np.int64), Gc.col.astype(np.int64), Gc.data)

    @classmethod
    def from_parts(cls, diag: np.ndarray, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> ForestSolver:
        """Build from the diagonal and the off-diagonal entries (both triangles, no duplicates),
        skipping the symmetry check (used by the BCD driver on blocks of a symmetric matrix)."""
        self = cls.__new__(cls)
        self._setup(diag.size, np.asarray(diag, dtype=float), rows, cols, vals)
        return self

    def _setup(self, k, diag, r, c, v) -> None:
        from scipy.sparse.csgraph import shortest_path

        if np.any(diag <= 0):
            raise ValueError("A must have a positive diagonal")
        self.k, self.diag = k, diag
        G = sp.csr_matrix((np.ones(r.size), (r, c)), shape=(k, k))
        ncomp, lab = connected_components(G, directed=False)
        if r.size // 2 != k - ncomp:
            raise ValueError("the graph of A is not a forest (it has a cycle)")
        roots = _centres(G, lab, ncomp)
        # depths by one unweighted BFS from a virtual super-root joined to every tree's centre
        rr = np.r_[r, roots, np.full(ncomp, k)]
        cc = np.r_[c, np.full(ncomp, k), roots]
        S = sp.csr_matrix((np.ones(rr.size), (rr, cc)), shape=(k + 1, k + 1))
        dist = shortest_path(S, method="D", unweighted=True, indices=k)[:k]
        depth = dist.astype(np.int64) - 1
        # parent of a node: its neighbour one level up
        up = depth[c] == depth[r] - 1
        parent = np.full(k, -1, dtype=np.int64)
        parent[r[up]] = c[up]
        w = np.zeros(k)
        w[r[up]] = v[up]
        self.parent, self.w = parent, w
        self.depth = int(depth.max()) + 1 if k else 0
        srt = np.argsort(depth, kind="stable")
        bounds = np.searchsorted(depth[srt], np.arange(self.depth + 1))
        self.levels = [srt[bounds[d]:bounds[d + 1]] for d in range(self.depth)]
        self.roots = self.levels[0] if self.depth else np.zeros(0, dtype=np.int64)
        self.ops = 8 * (k - self.roots.size) + self.roots.size
        self._r, self._c, self._v = r, c, v
        self._order = srt[::-1]  # elimination order: deepest first, roots last
        self._lu = None

    def _superlu(self):
        """SuperLU factor of ``A`` permuted into the leaf-to-root order (natural column order, no
        pivoting): the same elimination, no fill-in, run in compiled code."""
        from scipy.sparse.linalg import splu

        k = self.k
        inv = np.empty(k, dtype=np.int64)
        inv[self._order] = np.arange(k)
        rows = np.r_[inv[self._r], np.arange(k)]
        cols = np.r_[inv[self._c], np.arange(k)]
        vals = np.r_[self._v, self.diag[self._order]]
        P = sp.csc_matrix((vals, (rows, cols)), shape=(k, k))
        self._lu = splu(P, permc_spec="NATURAL", diag_pivot_thresh=0.0,
                        options={"SymmetricMode": True})
        return self._lu

    def solve_compiled(self, rhs: Any) -> np.ndarray:
        """Same solve through :meth:`_superlu` (factored once, then ``O(k)`` per solve in C)."""
        lu = self._lu if self._lu is not None else self._superlu()
        out = np.empty(self.k)
        out[self._order] = lu.solve(np.asarray(rhs, dtype=np.float64)[self._order])
        return out

    def solve(self, rhs: Any) -> np.ndarray:
        """Solve ``A x = rhs`` (``O(k)`` operations)."""
        D = self.diag.copy()
        r = np.array(rhs, dtype=np.float64, copy=True)
        par, w = self.parent, self.w
        for d in range(self.depth - 1, 0, -1):  # leaves to roots
            nodes = self.levels[d]
            p = par[nodes]
            t = w[nodes] / D[nodes]
            np.add.at(D, p, -w[nodes] * t)
            np.add.at(r, p, -t * r[nodes])
        x = np.empty_like(r)
        x[self.roots] = r[self.roots] / D[self.roots]
        for d in range(1, self.depth):  # roots to leaves
            nodes = self.levels[d]
            x[nodes] = (r[nodes] - w[nodes] * x[par[nodes]]) / D[nodes]
        return x


class TreeFactor:
    """Compiled one-shot elimination of a forest-structured SPD matrix (what the BCD driver uses).

    Same leaf-to-root elimination as :class:`ForestSolver` with no fill-in, but set up with one
    compiled breadth-first search (``scipy.sparse.csgraph``) from a virtual root joined to one
    node per tree -- no tree centres, no depth levels -- and factored by SuperLU in that order
    (natural column order, no pivoting). Set-up and solve are ``O(k)`` compiled work plus a
    constant Python overhead, which is what per-iteration greedy tree blocks need.

    Parameters
    ----------
    diag, rows, cols, vals : ndarray
        Diagonal and off-diagonal entries (both triangles, no duplicates, local indices) of a
        symmetric positive definite ``k x k`` matrix whose graph is a forest (checked).
    """

    def __init__(self, diag: np.ndarray, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        from scipy.sparse.linalg import splu

        diag = np.asarray(diag, dtype=np.float64)
        k = diag.size
        if np.any(diag <= 0):
            raise ValueError("A must have a positive diagonal")
        self.k = k
        self.ops = 8 * k
        if rows.size == 0:
            self._order = None
            self._diag = diag
            self.ops = k
            return
        G = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(k, k))
        ncomp, lab = connected_components(G, directed=False)
        if rows.size // 2 != k - ncomp:
            raise ValueError("the graph of A is not a forest (it has a cycle)")
        first = np.full(ncomp, -1, dtype=np.int64)
        idx = np.arange(k)
        first[lab[::-1]] = idx[::-1]
        rr = np.r_[rows, first, np.full(ncomp, k)]
        cc = np.r_[cols, np.full(ncomp, k), first]
        S = sp.csr_matrix((np.ones(rr.size), (rr, cc)), shape=(k + 1, k + 1))
        bfs = breadth_first_order(S, k, directed=False, return_predecessors=False)
        order = bfs[:0:-1].astype(np.int64)  # reversed BFS without the virtual root: leaves first
        inv = np.empty(k, dtype=np.int64)
        inv[order] = idx
        P = sp.csc_matrix((np.r_[vals, diag[order]], (np.r_[inv[rows], idx], np.r_[inv[cols], idx])),
                          shape=(k, k))
        self._lu = splu(P, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
        self._order = order

    def solve(self, rhs: Any) -> np.ndarray:
        """Solve ``A x = rhs``."""
        rhs = np.asarray(rhs, dtype=np.float64)
        if self._order is None:
            return rhs / self._diag
        out = np.empty(self.k)
        out[self._order] = self._lu.solve(rhs[self._order])
        return out


def _centres(G: sp.csr_matrix, lab: np.ndarray, ncomp: int) -> np.ndarray:
    """A centre (node of minimal eccentricity) per tree, found with two BFS sweeps per tree
    for the larger trees (the middle of a longest path); singletons are their own centre."""
    sizes = np.bincount(lab, minlength=ncomp)
    first = np.full(ncomp, -1, dtype=np.int64)
    idx = np.arange(lab.size)
    first[lab[::-1]] = idx[::-1]
    roots = first.copy()
    for c in np.flatnonzero(sizes > 32).tolist():
        s = int(first[c])
        o, _ = breadth_first_order(G, s, directed=False, return_predecessors=True)
        far = int(o[-1])
        o2, pr = breadth_first_order(G, far, directed=False, return_predecessors=True)
        end = int(o2[-1])
        path = [end]
        while path[-1] != far:
            path.append(int(pr[path[-1]]))
        roots[c] = path[len(path) // 2]
    return roots


def forest_solve(A: Any, rhs: Any) -> np.ndarray:
    """One-shot :class:`ForestSolver` solve of ``A x = rhs`` (``A`` forest-structured SPD)."""
    return ForestSolver(A).solve(rhs)
