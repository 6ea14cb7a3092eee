r"""Low-rank matrix sensing instances: ground truths with prescribed rank and condition
number, Gaussian (or entry-sampling) measurements, optional outliers and noise, and a
convex reference (nuclear-norm minimization with cvxpy + Clarabel).

================================  ===============================================================
generator                         what
================================  ===============================================================
:func:`low_rank_matrix`           :math:`M^\star = U\operatorname{diag}(\sigma)V^\top`, random
                                  orthonormal (incoherent w.h.p.) ``U, V``, :math:`\sigma_1 = 1`,
                                  :math:`\sigma_r = 1/\kappa`; PSD (``V = U``) when ``symmetric``
:func:`sensing_problem`           :math:`y = \mathcal A(M^\star) + s + \text{noise}`, ``m = c n r``
                                  measurements; outliers on a fraction of them
:func:`nuclear_norm_recovery`     :math:`\min \|X\|_*` s.t. :math:`\mathcal A(X) = y` (PSD:
                                  :math:`\min\operatorname{tr}X`, :math:`X\succeq 0`), cvxpy
================================  ===============================================================

Spectra: ``"linear"`` spaces :math:`\sigma_i` evenly from 1 to :math:`1/\kappa` (Tong's
ScaledGD experiments, ``MS.m``), ``"geometric"`` spaces them geometrically.

Outliers (Tong's ``MS_l1_outlier.m`` and Ma & Fattahi's outlier model): a fraction
``outlier_fraction`` of the measurements, chosen at random, get an added
:math:`s_i = \text{outlier\_scale}\cdot\|\mathcal A(M^\star)\|_\infty\cdot U(-1, 1)`.

Examples
--------
>>> from problems.lowrank_sensing import sensing_problem
>>> P = sensing_problem(10, 2, kappa=10.0, c=5.0, seed=0)
>>> P.op.m, P.sigma.tolist(), P.kappa
(100, [1.0, 0.1], 10.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optlab._backend import to_numpy
from optlab._validate import check_choice, check_int, check_nonnegative, check_positive
from optlab.lowrank.operators import EntrySampling, GaussianDesign, SensingOperator

__all__ = ["SensingInstance", "low_rank_matrix", "sensing_problem", "nuclear_norm_recovery"]


@dataclass(kw_only=True, eq=False)
class SensingInstance:
    """A sensing instance with everything a check needs.

    Attributes
    ----------
    name : str
    op : SensingOperator
    y : (m,) array
        Measurements (with outliers and noise), in the operator's namespace.
    y_clean : (m,) array
        :math:`\\mathcal A(M^\\star)`.
    M_star : (n1, n2) array
        Ground truth, in the operator's namespace.
    L, R : arrays (n1, r), (n2, r)
        Factors with :math:`M^\\star = LR^\\top` (``R`` is ``L`` when symmetric), balanced:
        :math:`L = U\\Sigma^{1/2}`, :math:`R = V\\Sigma^{1/2}`.
    sigma : numpy array (r,)
        Singular values, descending.
    rank, kappa, symmetric
        Rank, condition number :math:`\\sigma_1/\\sigma_r`, PSD or not.
    outliers : numpy integer array
        Indices of the corrupted measurements (empty when none).
    params : dict
        Generator arguments.
    """

    name: str
    op: SensingOperator
    y: Any
    y_clean: Any
    M_star: Any
    L: Any
    R: Any
    sigma: np.ndarray
    rank: int
    kappa: float
    symmetric: bool
    outliers: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def sigma_min(self) -> float:
        return float(self.sigma[-1])

    @property
    def sigma_max(self) -> float:
        return float(self.sigma[0])


def _orthonormal(rng: np.random.Generator, n: int, r: int) -> np.ndarray:
    Q, Rr = np.linalg.qr(rng.standard_normal((n, r)))
    return Q * np.sign(np.diag(Rr))[None, :]


def low_rank_matrix(
    n1: int,
    n2: int | None = None,
    rank: int = 1,
    kappa: float = 1.0,
    *,
    symmetric: bool = False,
    spectrum: str = "linear",
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""A random rank-``rank`` matrix with :math:`\sigma_1 = 1`, :math:`\sigma_r = 1/\kappa`.

    Returns ``(M, L, R, sigma)`` (host NumPy) with :math:`M = LR^\top`,
    :math:`L = U\Sigma^{1/2}`, :math:`R = V\Sigma^{1/2}` (``V = U`` when ``symmetric``).

    Examples
    --------
    >>> import numpy as np
    >>> M, L, R, s = low_rank_matrix(6, rank=2, kappa=4.0, symmetric=True)
    >>> np.testing.assert_allclose(np.linalg.eigvalsh(M)[-2:], [0.25, 1.0], atol=1e-12)
    """
    n1 = check_int(n1, "n1")
    n2 = n1 if n2 is None else check_int(n2, "n2")
    rank = check_int(rank, "rank")
    if rank > min(n1, n2):
        raise ValueError(f"rank must be <= min(n1, n2) = {min(n1, n2)}, got {rank}")
    kappa = check_positive(kappa, "kappa")
    if kappa < 1:
        raise ValueError(f"kappa must be >= 1, got {kappa!r}")
    spectrum = check_choice(spectrum, "spectrum", ("linear", "geometric"))
    if symmetric and n1 != n2:
        raise ValueError(f"symmetric=True needs n1 == n2, got {n1} and {n2}")
    rng = np.random.default_rng(seed)
    if spectrum == "linear":
        sigma = np.linspace(1.0, 1.0 / kappa, rank)
    else:
        sigma = np.geomspace(1.0, 1.0 / kappa, rank)
    U = _orthonormal(rng, n1, rank)
    V = U if symmetric else _orthonormal(rng, n2, rank)
    L = U * np.sqrt(sigma)[None, :]
    R = L if symmetric else V * np.sqrt(sigma)[None, :]
    M = L @ R.T
    if symmetric:
        M = 0.5 * (M + M.T)
    return M, L, R, sigma


def sensing_problem(
    n: int,
    rank: int,
    kappa: float = 1.0,
    *,
    n2: int | None = None,
    m: int | None = None,
    c: float = 10.0,
    symmetric: bool = True,
    design: str = "gaussian",
    spectrum: str = "linear",
    outlier_fraction: float = 0.0,
    outlier_scale: float = 10.0,
    noise: float = 0.0,
    storage: str = "dense",
    seed: int | None = 0,
    like: Any = None,
) -> SensingInstance:
    r"""A sensing instance :math:`y = \mathcal A(M^\star) + s + \nu`.

    Parameters
    ----------
    n, rank, kappa
        Size (``n x n``, or ``n x n2``), rank ``r`` and condition number of :math:`M^\star`.
    m : int, optional
        Number of measurements; default ``ceil(c * max(n, n2) * r)``.
    c : float
        Oversampling constant (default 10; the notes' experiments use 5 to 40).
    symmetric : bool
        PSD ground truth and the symmetric Gaussian design (default); else a general
        ``n x n2`` matrix and the plain Gaussian design.
    design : {"gaussian", "entries"}
        Gaussian design (:class:`~optlab.lowrank.operators.GaussianDesign`) or uniform
        entry sampling without replacement (:class:`~optlab.lowrank.operators.EntrySampling`).
    outlier_fraction : float
        Fraction in ``[0, 1)`` of corrupted measurements.
    outlier_scale : float
        Outlier magnitude relative to :math:`\|\mathcal A(M^\star)\|_\infty` (default 10).
    noise : float
        Standard deviation of added Gaussian noise on every measurement.
    storage : {"dense", "seeded"}
        Storage of the Gaussian design.
    seed : int
        Seeds the ground truth, the design (``seed + 1``) and the corruption (``seed + 2``).
    like : array, optional
        Namespace/device/dtype to build the operator and arrays in (default NumPy float64).

    Examples
    --------
    >>> P = sensing_problem(8, 1, outlier_fraction=0.25, c=5.0, seed=3)
    >>> len(P.outliers), P.op.m
    (10, 40)
    """
    n = check_int(n, "n")
    n2v = n if n2 is None else check_int(n2, "n2")
    rank = check_int(rank, "rank")
    design = check_choice(design, "design", ("gaussian", "entries"))
    c = check_positive(c, "c")
    outlier_fraction = check_nonnegative(outlier_fraction, "outlier_fraction")
    if outlier_fraction >= 1:
        raise ValueError(f"outlier_fraction must be < 1, got {outlier_fraction!r}")
    outlier_scale = check_nonnegative(outlier_scale, "outlier_scale")
    noise = check_nonnegative(noise, "noise")
    if symmetric and n2v != n:
        raise ValueError("symmetric=True needs a square matrix (n2 = n)")
    seed0 = 0 if seed is None else check_int(seed, "seed", minimum=0)
    M, L, R, sigma = low_rank_matrix(n, n2v, rank, kappa, symmetric=symmetric, spectrum=spectrum, seed=seed0)
    if m is None:
        m = int(math.ceil(c * max(n, n2v) * rank))
    m = check_int(m, "m")
    if design == "gaussian":
        op = GaussianDesign(n, n2v, m, symmetric=symmetric, seed=seed0 + 1, storage=storage, like=like)
    else:
        op = EntrySampling.random(n, n2v, m, seed=seed0 + 1, like=like)
    xp = op.xp

    def to_xp(a):
        return xp.asarray(np.ascontiguousarray(a), dtype=op.dtype, device=op.device)

    M_x, L_x, R_x = to_xp(M), to_xp(L), to_xp(R)
    y_clean = op.apply(M_x)
    y_host = np.array(to_numpy(y_clean), dtype=np.float64)
    rng = np.random.default_rng(seed0 + 2)
    n_out = int(round(outlier_fraction * m))
    idx = np.sort(rng.choice(m, size=n_out, replace=False)) if n_out else np.zeros(0, dtype=np.int64)
    if n_out:
        y_host[idx] += outlier_scale * np.max(np.abs(y_host)) * rng.uniform(-1.0, 1.0, n_out)
    if noise > 0:
        y_host += noise * rng.standard_normal(m)
    y = to_xp(y_host) if (n_out or noise > 0) else y_clean
    name = (f"sensing(n={n}{'' if n2 is None else f', n2={n2v}'}, r={rank}, kappa={kappa:g}, m={m}, "
            f"{'sym' if symmetric else 'asym'}, {design}, outliers={outlier_fraction:g})")
    return SensingInstance(
        name=name, op=op, y=y, y_clean=y_clean, M_star=M_x, L=L_x, R=L_x if symmetric else R_x,
        sigma=sigma, rank=rank, kappa=float(kappa), symmetric=bool(symmetric), outliers=idx,
        params=dict(n=n, n2=n2v, rank=rank, kappa=float(kappa), m=m, c=c, symmetric=symmetric,
                    design=design, spectrum=spectrum, outlier_fraction=outlier_fraction,
                    outlier_scale=outlier_scale, noise=noise, seed=seed0),
    )


def nuclear_norm_recovery(op: SensingOperator, y: Any, *, psd: bool = False, solver: str = "CLARABEL",
                          loss: str = "equality") -> np.ndarray:
    r"""Convex reference: nuclear-norm minimization (cvxpy; Clarabel by default, or SCS).

    ``loss="equality"``: :math:`\min\|X\|_*` s.t. :math:`\mathcal A(X) = y` (with
    ``psd=True``: :math:`\min\operatorname{tr}X` s.t. :math:`X\succeq 0`, :math:`\mathcal A(X) = y`);
    ``loss="l1"``: :math:`\min\|\mathcal A(X) - y\|_1` (over PSD matrices when ``psd``,
    unregularized: the robust convex formulation for outliers). For tiny instances only
    (the operator is expanded to an ``(m, n1 n2)`` matrix). Returns a host NumPy array.

    Examples
    --------
    >>> P = sensing_problem(5, 1, c=8.0, seed=0)
    >>> X = nuclear_norm_recovery(P.op, P.y, psd=True)
    >>> bool(np.linalg.norm(X - P.M_star) < 1e-5)
    True
    """
    import cvxpy as cp

    check_choice(loss, "loss", ("equality", "l1"))
    n1, n2 = op.shape
    Amat = op.to_matrix()
    yv = np.asarray(to_numpy(y), dtype=np.float64)
    if psd:
        if n1 != n2:
            raise ValueError("psd=True needs a square operator")
        X = cp.Variable((n1, n1), symmetric=True)
        cons = [X >> 0]
    else:
        X = cp.Variable((n1, n2))
        cons = []
    meas = Amat @ cp.reshape(X, (n1 * n2,), order="C")
    if loss == "equality":
        obj = cp.trace(X) if psd else cp.normNuc(X)
        cons.append(meas == yv)
    else:
        obj = cp.norm1(meas - yv)
    prob = cp.Problem(cp.Minimize(obj), cons)
    prob.solve(solver=solver)
    if X.value is None:
        raise RuntimeError(f"cvxpy ({solver}) returned no solution: status {prob.status}")
    return np.asarray(X.value)
