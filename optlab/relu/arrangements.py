r"""Activation patterns of a ReLU layer: hyperplane arrangements of the data.

For data :math:`X \in \mathbb{R}^{n \times d}` a *pattern* is the diagonal 0/1 matrix
:math:`D = \mathrm{diag}(\mathbb{1}[X h \ge 0])` for some :math:`h \in \mathbb{R}^d`,
stored here as a column of a 0/1 array ``D`` of shape ``(n, P)``. The number of
distinct patterns is at most :math:`2 \sum_{k=0}^{r-1} \binom{n-1}{k}` (``r = rank X``),
with equality for rows in general position (Cover 1965; Pilanci & Ergen 2020, Sec. 2).

* :func:`enumerate_patterns` lists all of them (exactly) when ``C(n, r-1)`` is small:
  every open cell of the central arrangement :math:`\{h: x_k^\top h = 0\}` has, on its
  boundary, a ray cut out by ``r - 1`` of the hyperplanes; around each such ray every
  sign choice of those ``r - 1`` rows is realised (general position), the others keep
  the sign they have on the ray.
* :func:`sample_patterns` draws :math:`h_j \sim N(0, I_d)` and keeps the distinct,
  non-zero patterns (the "practical" formulation of Pilanci & Ergen 2020 and Bai, Gautam &
  Sojoudi 2023).
* :func:`max_patterns` is the count above.

Patterns are combinatorial preprocessing: they are computed on the host (NumPy) and the
solvers move them to the namespace of ``X``.

References
----------
.. [1] M. Pilanci, T. Ergen, "Neural networks are convex regularizers: exact
   polynomial-time convex optimization formulations for two-layer networks", ICML 2020.
.. [2] Y. Bai, T. Gautam, S. Sojoudi, "Efficient global optimization of two-layer ReLU
   networks: quadratic-time algorithms and adversarial training", SIAM J. Math. Data
   Sci. 2023 (arXiv:2201.01965).

Examples
--------
>>> import numpy as np
>>> from optlab.relu import enumerate_patterns, max_patterns
>>> X = np.random.default_rng(0).standard_normal((10, 2))
>>> D = enumerate_patterns(X)
>>> D.shape[1] == max_patterns(10, 2)
True
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from optlab._backend import to_numpy
from optlab._validate import check_array, check_int

__all__ = ["enumerate_patterns", "sample_patterns", "max_patterns", "unique_patterns"]


def max_patterns(n: int, r: int) -> int:
    r"""Number of distinct patterns of ``n`` points in general position in rank ``r``:
    :math:`2 \sum_{k=0}^{r-1} \binom{n-1}{k}` (an upper bound in general)."""
    n = check_int(n, "n", minimum=1)
    r = check_int(r, "r", minimum=1)
    return 2 * sum(math.comb(n - 1, k) for k in range(r))


def unique_patterns(D: Any, *, drop_zero: bool = True) -> np.ndarray:
    """Distinct columns of a 0/1 array ``(n, P)`` (first occurrence order kept);
    the all-zero pattern is dropped when ``drop_zero`` (it contributes nothing)."""
    D = np.asarray(to_numpy(D)) > 0.5
    if D.ndim != 2:
        raise ValueError(f"D must be 2-D (n, P), got shape {D.shape}")
    packed = np.packbits(D, axis=0).T
    _, idx = np.unique(packed, axis=0, return_index=True)
    idx = np.sort(idx)
    out = D[:, idx]
    if drop_zero:
        out = out[:, out.any(axis=0)]
    return out.astype(np.float64)


def sample_patterns(
    X: Any, P: int, *, seed: int | np.random.Generator | None = 0, return_generators: bool = False
):
    r"""Sample up to ``P`` distinct activation patterns :math:`\mathbb{1}[X h_j \ge 0]`,
    :math:`h_j \sim N(0, I_d)`.

    Parameters
    ----------
    X : array, shape (n, d)
        Data (any namespace; patterns are computed on the host).
    P : int
        Number of Gaussian directions drawn (``P >= 1``). Duplicates and the all-zero
        pattern are removed, so ``D`` may have fewer than ``P`` columns. With the same
        ``seed`` the directions for ``P`` are the first ``P`` of those for any larger
        ``P``, so the pattern sets are nested (first-occurrence order is kept).
    seed : int, Generator or None
    return_generators : bool
        Also return the directions ``H`` (``d x P_s``) that produced the kept patterns.

    Returns
    -------
    D : numpy.ndarray of float64, shape (n, P_s)
    H : numpy.ndarray, shape (d, P_s) (only with ``return_generators``)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((30, 3))
    >>> sample_patterns(X, 20, seed=1).shape[0]
    30
    """
    Xn = to_numpy(check_array(X, "X", ndim=2))
    P = check_int(P, "P", minimum=1)
    rng = np.random.default_rng(seed)
    H = rng.standard_normal((P, Xn.shape[1])).T  # row-major draws: a larger P extends a smaller one
    D = (Xn @ H) >= 0
    packed = np.packbits(D, axis=0).T
    _, idx = np.unique(packed, axis=0, return_index=True)
    idx = np.sort(idx)
    idx = idx[D[:, idx].any(axis=0)]
    Dout = D[:, idx].astype(np.float64)
    if return_generators:
        return Dout, H[:, idx]
    return Dout


def enumerate_patterns(X: Any, *, max_candidates: int = 2_000_000, tol: float = 1e-10) -> np.ndarray:
    r"""All distinct non-zero activation patterns :math:`\mathbb{1}[X h \ge 0]` (exact).

    Every open cell of the arrangement :math:`\{h : x_k^\top h = 0\}` is adjacent to a ray
    :math:`\pm h_S` where ``r - 1`` hyperplanes (a subset ``S`` of rows) meet; next to that
    ray the rows in ``S`` take every sign combination (rows in general position) and the
    other rows the sign of :math:`x_k^\top h_S`. So the patterns are those sign vectors,
    over all subsets ``S`` of size ``r - 1`` (with ``r = rank X``; for ``r < d`` the rows
    are first expressed in an orthonormal basis of their span).

    Parameters
    ----------
    X : array, shape (n, d)
        Rows in general position (any ``r`` of them independent, no row zero).
    max_candidates : int
        Refuse (``ValueError``) when ``C(n, r-1) 2^r`` exceeds this: use
        :func:`sample_patterns` instead.
    tol : float
        Relative threshold for ``x_k^T h_S = 0`` (a row outside ``S`` on the ray means
        the rows are not in general position: ``ValueError``).

    Returns
    -------
    D : numpy.ndarray of float64, shape (n, P)
        With ``P = max_patterns(n, r)`` for rows in general position (minus the all-zero
        pattern when the rows span a half-space... it is always dropped).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.c_[np.random.default_rng(2).standard_normal((6, 1)), np.ones(6)]
    >>> enumerate_patterns(X).shape
    (6, 11)
    """
    Xn = to_numpy(check_array(X, "X", ndim=2))
    n, d = Xn.shape
    if np.any(np.linalg.norm(Xn, axis=1) == 0):
        raise ValueError("X has a zero row: patterns are only defined up to that row's value")
    # rows expressed in an orthonormal basis of their span (rank r)
    U, s, Vt = np.linalg.svd(Xn, full_matrices=False)
    r = int(np.sum(s > s[0] * 1e-12))
    Z = U[:, :r] * s[:r]
    ncand = math.comb(n, r - 1) * 2 ** r
    if ncand > max_candidates:
        raise ValueError(
            f"exact enumeration needs {ncand} candidate sign vectors (n={n}, rank={r}), more than "
            f"max_candidates={max_candidates}; use sample_patterns"
        )
    scale = np.linalg.norm(Z, axis=1)
    pats = []
    if r == 1:
        h = np.ones(1)
        for sgn in (1.0, -1.0):
            pats.append(((Z @ (sgn * h)) >= 0)[None, :])
    else:
        signs = np.array(list(itertools.product((True, False), repeat=r - 1)))  # (2^{r-1}, r-1)
        for S in itertools.combinations(range(n), r - 1):
            S = list(S)
            # null direction of the r-1 rows in S (within the r-dim span)
            _, _, vt = np.linalg.svd(Z[S], full_matrices=True)
            h = vt[-1]
            for sgn in (1.0, -1.0):
                z = Z @ (sgn * h)
                off = np.ones(n, dtype=bool)
                off[S] = False
                if np.any(np.abs(z[off]) <= tol * scale[off] * np.linalg.norm(h)):
                    raise ValueError(
                        "rows of X are not in general position (r rows on one hyperplane through 0); "
                        "use sample_patterns"
                    )
                base = z >= 0
                block = np.repeat(base[None, :], signs.shape[0], axis=0)
                block[:, S] = signs
                pats.append(block)
    D = np.concatenate(pats, axis=0).T
    return unique_patterns(D)
