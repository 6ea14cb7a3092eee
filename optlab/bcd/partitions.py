"""Partitions of the coordinates into blocks (Nutini, Laradji & Schmidt, JMLR 2022, Sec. 3).

* fixed blocks of size ``tau``: natural order (``"order"``), sorted by the coordinate
  Lipschitz constants ``L_i`` so that similar ``L_i`` share a block (``"sort"``), or
  interleaving the largest and smallest ``L_i`` (``"avg"``);
* variable blocks (any ``tau`` coordinates chosen afresh at every iteration) are built by
  the selection rules (:mod:`optlab.bcd.rules`), not here;
* forest-structured blocks for sparse quadratics: :func:`grow_forest` (greedy growth
  in a given order, the paper's tree-growing rule), :func:`red_black` (independent sets
  of a greedy colouring: ``A_bb`` diagonal) and :func:`forest_partition` (a cover by a few
  induced forests; two for a lattice).

Examples
--------
>>> import numpy as np
>>> from optlab.bcd.partitions import fixed_blocks
>>> [b.tolist() for b in fixed_blocks(6, 2, L=np.array([3., 1, 2, 6, 5, 4]), kind="sort")]
[[1, 2], [0, 5], [4, 3]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["fixed_blocks", "check_blocks", "grow_forest", "red_black", "forest_partition", "is_forest",
           "adjacency"]


def fixed_blocks(n: int, block_size: int, *, L: Any = None, kind: str = "order") -> list[np.ndarray]:
    """Fixed partition of ``range(n)`` into blocks of ``block_size`` (the last may be smaller).

    ``kind``: ``"order"`` consecutive coordinates; ``"sort"`` consecutive after sorting by
    ``L``; ``"avg"`` each block takes coordinates alternately from the largest and the
    smallest ``L`` (so block averages of ``L`` are similar).
    """
    if not isinstance(block_size, int | np.integer) or block_size < 1:
        raise ValueError(f"block_size must be an integer >= 1, got {block_size!r}")
    block_size = min(int(block_size), n)
    if kind == "order":
        perm = np.arange(n)
    else:
        if L is None:
            raise ValueError(f"kind={kind!r} needs the coordinate Lipschitz constants L")
        order = np.argsort(np.asarray(L, dtype=float), kind="stable")
        if kind == "sort":
            perm = order
        elif kind == "avg":
            lo, hi = 0, n - 1
            perm = np.empty(n, dtype=np.int64)
            for k in range(n):
                if k % 2 == 0:
                    perm[k] = order[hi]
                    hi -= 1
                else:
                    perm[k] = order[lo]
                    lo += 1
        else:
            raise ValueError(f"kind must be one of ('order', 'sort', 'avg'), got {kind!r}")
    return [np.sort(perm[i:i + block_size]) if kind == "order" else perm[i:i + block_size].copy()
            for i in range(0, n, block_size)]


def check_blocks(blocks: Any, n: int) -> list[np.ndarray]:
    """Validate a user partition: integer blocks, non-empty, disjoint, covering ``range(n)``."""
    if isinstance(blocks, np.ndarray) and blocks.ndim == 2:
        blocks = list(blocks)
    try:
        out = [np.asarray(b, dtype=np.int64).ravel() for b in blocks]
    except (TypeError, ValueError) as exc:
        raise TypeError("blocks must be a sequence of integer index arrays") from exc
    if not out:
        raise ValueError("blocks must not be empty")
    seen = np.zeros(n, dtype=np.int64)
    for k, b in enumerate(out):
        if b.size == 0:
            raise ValueError(f"blocks[{k}] is empty (block size must be >= 1)")
        if b.min() < 0 or b.max() >= n:
            raise ValueError(f"blocks[{k}] has indices outside [0, {n})")
        np.add.at(seen, b, 1)
    if np.any(seen > 1):
        raise ValueError(f"blocks overlap: coordinate {int(np.argmax(seen > 1))} is in several blocks")
    if np.any(seen == 0):
        raise ValueError(f"blocks do not cover the coordinates: {int(np.sum(seen == 0))} missing, "
                         f"e.g. {int(np.argmin(seen))}")
    return out


def adjacency(A: Any) -> sp.csr_matrix:
    """Graph of the off-diagonal nonzeros of a symmetric sparse matrix (CSR, no diagonal)."""
    G = sp.csr_matrix(A, copy=True)
    G.setdiag(0)
    G.eliminate_zeros()
    return G


def _lists(G: sp.csr_matrix):
    return G.indptr.tolist(), G.indices.tolist()


def neighbour_lists(G: sp.csr_matrix) -> list[list[int]]:
    """Adjacency as Python lists (what the greedy tree growth loops over)."""
    ind = G.indices.tolist()
    ptr = G.indptr.tolist()
    return [ind[ptr[v]:ptr[v + 1]] for v in range(G.shape[0])]


def grow_forest(G: sp.csr_matrix, order: Any, *, max_size: int | None = None, _lists_cache=None) -> np.ndarray:
    """Greedy induced forest: scan ``order`` and add a node when its neighbours already in the
    block lie in pairwise distinct trees (so no cycle is closed). Cost ``O(nnz(G))``.

    This is the paper's tree-growing rule: with ``order`` sorted by a greedy score it gives
    the greedy tree blocks (GS-tree), with a random order the random tree blocks.
    """
    n = G.shape[0]
    nbrs = _lists_cache if _lists_cache is not None else neighbour_lists(G)
    parent = list(range(n))
    size = [1] * n
    inblock = [False] * n
    chosen: list[int] = []
    add = chosen.append
    cap = n if max_size is None else int(max_size)
    for v in (order.tolist() if isinstance(order, np.ndarray) else list(order)):
        r0 = -1  # root of the first in-block neighbour's tree
        roots = None  # roots of all of them, once there are two
        for u in nbrs[v]:
            if inblock[u]:
                pu = parent[u]
                while pu != u:  # find, with path halving (inlined: this loop is the cost)
                    gp = parent[pu]
                    parent[u] = gp
                    u = pu
                    pu = gp
                if r0 < 0:
                    r0 = u
                elif roots is None:
                    if u == r0:
                        break  # two neighbours in one tree: v would close a cycle
                    roots = [r0, u]
                elif u in roots:
                    break
                else:
                    roots.append(u)
        else:
            inblock[v] = True
            if roots is not None:  # union by size: everything under the largest tree's root
                big = max(roots, key=size.__getitem__)
                parent[v] = big
                tot = 1
                for r in roots:
                    tot += size[r]
                    parent[r] = big
                size[big] = tot
            elif r0 >= 0:
                parent[v] = r0
                size[r0] += 1
            add(v)
            if len(chosen) >= cap:
                break
    return np.asarray(sorted(chosen), dtype=np.int64)


def is_forest(G: sp.csr_matrix, b: Any) -> bool:
    """Whether the subgraph induced by ``b`` has no cycle (edges = nodes - components)."""
    from scipy.sparse.csgraph import connected_components

    b = np.asarray(b, dtype=np.int64)
    S = G[b][:, b]
    n_edges = (S != 0).sum() // 2
    ncomp = connected_components(S, directed=False)[0]
    return int(n_edges) == b.size - int(ncomp)


def red_black(G: sp.csr_matrix) -> list[np.ndarray]:
    """Greedy colouring (largest degree first) into independent sets: ``A_bb`` diagonal.
    Two colours (red-black) on a lattice or any bipartite graph with a BFS 2-colouring."""
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    n = G.shape[0]
    # try a 2-colouring by BFS depth parity first (exact for bipartite graphs)
    ncomp, lab = connected_components(G, directed=False)
    color = np.full(n, -1, dtype=np.int64)
    for c in range(ncomp):
        root = int(np.flatnonzero(lab == c)[0])
        order, pred = breadth_first_order(G, root, directed=False, return_predecessors=True)
        for v in order.tolist():
            p = pred[v]
            color[v] = 0 if p < 0 else 1 - color[p]
    Gc = G.tocoo()
    if not np.any(color[Gc.row] == color[Gc.col]):
        return [np.flatnonzero(color == k) for k in (0, 1)]
    indptr, indices = _lists(G)
    deg = np.diff(G.indptr)
    color = [-1] * n
    for v in np.argsort(-deg, kind="stable").tolist():
        used = {color[u] for u in indices[indptr[v]:indptr[v + 1]]}
        c = 0
        while c in used:
            c += 1
        color[v] = c
    color = np.asarray(color)
    return [np.flatnonzero(color == k) for k in range(color.max() + 1)]


def forest_partition(G: sp.csr_matrix, *, order: Any = None) -> list[np.ndarray]:
    """Cover the nodes by induced forests, each grown greedily from what is left.

    For a 2-D lattice the default order (rows of the lattice, i.e. node order) gives two
    forests (the "tree partitions" of the paper's Fig. 6).
    """
    n = G.shape[0]
    left = np.arange(n) if order is None else np.asarray(order, dtype=np.int64)
    blocks = []
    while left.size:
        sub = G[left][:, left]
        b_local = grow_forest(sp.csr_matrix(sub), np.arange(left.size))
        blocks.append(np.sort(left[b_local]))
        keep = np.ones(left.size, dtype=bool)
        keep[b_local] = False
        left = left[keep]
    return blocks
