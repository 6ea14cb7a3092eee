"""Matrix-completion instances: incoherent random low-rank matrices with a prescribed
condition number, uniform entry sampling, and real matrices (MNIST test images, scikit-learn
digits) with held-out entries.

Every instance stores the truth as factors ``L`` (m x r) and ``R`` (n x r) with
``M* = L @ R.T``; the dense matrix is never formed for the synthetic ones, so sizes up to
10^5 x 10^5 with 10^7 observations fit in memory.

Examples
--------
>>> from problems.lowrank_completion import completion_instance
>>> P = completion_instance(200, 150, rank=3, kappa=10.0, p=0.3, seed=0)
>>> P.rows.shape == P.cols.shape == P.vals.shape, round(P.kappa, 6), P.rank
(True, 10.0, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "LowRankMatrix",
    "CompletionInstance",
    "incoherent_lowrank",
    "sample_entries",
    "completion_instance",
    "mnist_completion",
    "digits_completion",
]


@dataclass
class LowRankMatrix:
    """``M* = L @ R.T`` with ``L = U* diag(sigma)``, ``R = V*`` (``U*``, ``V*`` orthonormal).

    ``mu`` is the incoherence ``max(m/r max_i ||U*_i||^2, n/r max_j ||V*_j||^2)``.
    """

    L: np.ndarray
    R: np.ndarray
    sigma: np.ndarray
    mu: float

    @property
    def shape(self) -> tuple[int, int]:
        return (self.L.shape[0], self.R.shape[0])

    @property
    def rank(self) -> int:
        return int(self.sigma.shape[0])

    @property
    def kappa(self) -> float:
        return float(self.sigma.max() / self.sigma.min())

    def entries(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``M*[rows[t], cols[t]]`` without forming ``M*`` (column by column)."""
        Lt, Rt = np.ascontiguousarray(self.L.T), np.ascontiguousarray(self.R.T)
        out = np.take(Lt[0], rows) * np.take(Rt[0], cols)
        for a in range(1, Lt.shape[0]):
            out += np.take(Lt[a], rows) * np.take(Rt[a], cols)
        return out

    @property
    def fro_norm(self) -> float:
        return float(np.linalg.norm(self.sigma))


@dataclass
class CompletionInstance:
    """Observations ``(rows, cols, vals)`` of an ``m x n`` matrix, the truth as factors
    (``truth``, ``None`` for real data) and held-out entries (``test_*``) for real data."""

    name: str
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    shape: tuple[int, int]
    rank: int
    truth: LowRankMatrix | None = None
    p: float = math.nan
    test_rows: np.ndarray | None = None
    test_cols: np.ndarray | None = None
    test_vals: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def nnz(self) -> int:
        return int(self.vals.shape[0])

    @property
    def kappa(self) -> float:
        return self.truth.kappa if self.truth is not None else math.nan

    @property
    def ground_truth(self) -> tuple[np.ndarray, np.ndarray] | None:
        return None if self.truth is None else (self.truth.L, self.truth.R)

    def sparse(self):
        """The observations as a ``scipy.sparse.csr_array`` (for :class:`MatrixCompletion`)."""
        import scipy.sparse as sp

        return sp.csr_array((self.vals, (self.rows, self.cols)), shape=self.shape)


def _orthonormal(rng: np.random.Generator, n: int, r: int) -> np.ndarray:
    Q, R = np.linalg.qr(rng.standard_normal((n, r)))
    return Q * np.sign(np.diag(R))


def incoherent_lowrank(
    m: int, n: int, rank: int, *, kappa: float = 1.0, seed: int = 0, spectrum: str = "geometric"
) -> LowRankMatrix:
    """A random rank-``rank`` matrix with singular values from ``kappa`` down to 1.

    ``U*``, ``V*`` are Haar-random orthonormal (Gaussian + QR), hence incoherent with
    ``mu = O(log max(m, n))`` w.h.p. ``spectrum="geometric"`` spaces the singular values
    geometrically, ``"linear"`` linearly; ``sigma_max / sigma_min = kappa`` exactly.
    """
    if not (1 <= rank <= min(m, n)):
        raise ValueError(f"rank must lie in [1, min(m, n)] = [1, {min(m, n)}], got {rank}")
    if not kappa >= 1:
        raise ValueError(f"kappa must be >= 1, got {kappa}")
    rng = np.random.default_rng(seed)
    U = _orthonormal(rng, m, rank)
    V = _orthonormal(rng, n, rank)
    if rank == 1:
        sigma = np.array([float(kappa)])
    elif spectrum == "geometric":
        sigma = np.geomspace(kappa, 1.0, rank)
    elif spectrum == "linear":
        sigma = np.linspace(kappa, 1.0, rank)
    else:
        raise ValueError(f"spectrum must be 'geometric' or 'linear', got {spectrum!r}")
    sigma[0], sigma[-1] = float(kappa), 1.0
    mu = max(m / rank * float(np.max(np.sum(U * U, 1))), n / rank * float(np.max(np.sum(V * V, 1))))
    return LowRankMatrix(L=U * sigma, R=V, sigma=sigma, mu=mu)


def sample_entries(
    m: int, n: int, *, p: float | None = None, nnz: int | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct positions sampled uniformly: each entry with probability ``p`` (Bernoulli
    model, the count is Binomial(mn, p)) or exactly ``nnz`` positions. ``O(nnz)`` memory,
    so it works for ``m n ~ 10^10``. Returned sorted by ``(row, col)``."""
    rng = np.random.default_rng(seed)
    total = m * n
    if (p is None) == (nnz is None):
        raise ValueError("give exactly one of p and nnz")
    if p is not None:
        if not 0 < p <= 1:
            raise ValueError(f"p must lie in (0, 1], got {p}")
        nnz = int(rng.binomial(total, p))
    if not 1 <= nnz <= total:
        raise ValueError(f"nnz must lie in [1, m n], got {nnz}")
    if nnz > total // 4:  # dense regime: a mask is cheap relative to the sample
        keys = np.sort(rng.choice(total, size=nnz, replace=False))
    else:
        keys = np.unique(rng.integers(0, total, size=int(nnz * 1.02) + 16))
        while keys.shape[0] < nnz:
            keys = np.unique(np.r_[keys, rng.integers(0, total, size=nnz - keys.shape[0] + 16)])
        keys = np.sort(rng.choice(keys, size=nnz, replace=False))
    return keys // n, keys % n


def completion_instance(
    m: int,
    n: int,
    rank: int,
    *,
    kappa: float = 1.0,
    p: float | None = None,
    nnz: int | None = None,
    c: float | None = None,
    noise: float = 0.0,
    seed: int = 0,
) -> CompletionInstance:
    """Incoherent rank-``rank`` truth with condition number ``kappa`` and uniformly sampled
    entries: give the rate ``p``, the count ``nnz`` or ``c`` for
    ``|Omega| = c (m + n) rank log(max(m, n))`` (the practical sample size, notes C.1).
    ``noise`` adds i.i.d. Gaussian noise of that standard deviation to the observations.
    """
    if c is not None:
        if p is not None or nnz is not None:
            raise ValueError("give only one of p, nnz and c")
        nnz = min(m * n, int(c * (m + n) * rank * math.log(max(m, n))))
    truth = incoherent_lowrank(m, n, rank, kappa=kappa, seed=seed)
    rows, cols = sample_entries(m, n, p=p, nnz=nnz, seed=seed + 1)
    vals = truth.entries(rows, cols)
    if noise > 0:
        vals = vals + noise * np.random.default_rng(seed + 2).standard_normal(vals.shape)
    return CompletionInstance(
        name=f"lowrank_completion(m={m}, n={n}, r={rank}, kappa={kappa:g}, nnz={rows.shape[0]})",
        rows=rows, cols=cols, vals=vals, shape=(m, n), rank=rank, truth=truth,
        p=rows.shape[0] / (m * n), params={"seed": seed, "noise": noise, "mu": truth.mu},
    )  # fmt: skip


def _holdout(X: np.ndarray, p: float, test_fraction: float, seed: int, rank: int, name: str):
    rng = np.random.default_rng(seed)
    m, n = X.shape
    u = rng.random((m, n))
    train = u < p
    test = (u >= p) & (u < p + test_fraction * (1 - p))
    i, j = np.nonzero(train)
    ti, tj = np.nonzero(test)
    return CompletionInstance(
        name=name, rows=i, cols=j, vals=X[i, j].astype(float), shape=(m, n), rank=rank,
        p=float(train.mean()), test_rows=ti, test_cols=tj, test_vals=X[ti, tj].astype(float),
        params={"seed": seed, "test_fraction": test_fraction},
    )  # fmt: skip


def mnist_completion(
    p: float = 0.3, *, rank: int = 20, n_images: int = 10000, test_fraction: float = 0.1,
    seed: int = 0, data_home: Any = None,
) -> CompletionInstance:
    """MNIST test images as a ``n_images x 784`` matrix (pixels scaled to [0, 1]); a
    fraction ``p`` of the entries is observed, a further ``test_fraction`` of the rest is
    held out for the test error. Needs the data folder (``problems._paths``)."""
    from optlab.data import load_mnist

    from ._paths import default_data_home

    home = data_home if data_home is not None else default_data_home()
    images, _ = load_mnist("test", data_home=home, download=False)
    X = images.reshape(images.shape[0], -1)[:n_images].astype(float) / 255.0
    return _holdout(X, p, test_fraction, seed, rank, f"mnist_completion(n={X.shape[0]}, p={p:g})")


def digits_completion(
    p: float = 0.5, *, rank: int = 10, test_fraction: float = 0.2, seed: int = 0
) -> CompletionInstance:
    """scikit-learn's bundled digits (1797 x 64, values 0..16), entries observed at rate
    ``p``, a further ``test_fraction`` of the rest held out. Always available offline."""
    from sklearn.datasets import load_digits

    X = load_digits().data.astype(float)
    return _holdout(X, p, test_fraction, seed, rank, f"digits_completion(p={p:g})")
