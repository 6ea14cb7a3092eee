r"""Optimal transport instances: random assignment, MNIST pairs, discretized densities.

Every generator returns an :class:`OTProblem` ``(a, b, M)`` with the ground cost normalized
to ``[0, 1]`` (``max M = 1``), so that ``reg = 1/eta`` has the meaning of the SNS paper
(Tang et al., ICLR 2024, Section 6: random assignment and MNIST at :math:`\eta = 1200`),
and an ``exact()`` method giving the unregularized OT value and plan from an exact LP
(POT's ``ot.emd``, network simplex), cached on disk.

Examples
--------
>>> from problems.ot import random_assignment
>>> p = random_assignment(50, seed=0)
>>> p.M.shape, float(p.a.sum())
((50, 50), 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._cache import cached

__all__ = [
    "OTProblem",
    "random_assignment",
    "mnist_pair",
    "density_1d",
    "density_2d",
    "grid_cost",
]


@dataclass(kw_only=True, eq=False)
class OTProblem:
    """A balanced OT instance ``min <P, M>`` s.t. ``P 1 = a``, ``P^T 1 = b``, ``P >= 0``.

    Attributes
    ----------
    name : str
    a, b : 1-D arrays (probability vectors)
    M : (n, m) array, ground cost scaled to ``max M = 1``
    seed : int or None
    params : dict (generator parameters, e.g. ``cost``, ``support`` sizes)
    """

    name: str
    a: np.ndarray
    b: np.ndarray
    M: np.ndarray
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return self.M.shape

    def exact(self, *, use_cache: bool = True) -> dict[str, Any]:
        """Exact LP solution: ``{"value": <P*, M>, "plan": P*}`` (POT ``ot.emd``, cached)."""
        import ot

        def compute():
            P = ot.emd(self.a, self.b, self.M, numItermax=10_000_000)
            return {"plan": P, "value": np.asarray(float((P * self.M).sum()))}

        out = cached("ot_emd_v1", {"name": self.name}, {"a": self.a, "b": self.b, "M": self.M},
                     compute, use_cache=use_cache)
        return {"value": float(out["value"]), "plan": out["plan"]}


def random_assignment(n: int, m: int | None = None, *, seed: int = 0) -> OTProblem:
    """Random assignment: ``C ~ U[0, 1]^{n x m}``, uniform marginals (SNS paper, Table 1)."""
    m = n if m is None else m
    rng = np.random.default_rng(seed)
    M = rng.random((n, m))
    return OTProblem(name=f"random_assignment(n={n}, m={m}, seed={seed})", a=np.full(n, 1.0 / n),
                     b=np.full(m, 1.0 / m), M=M, seed=seed, params={"n": n, "m": m})


def grid_cost(side: int, p: float = 2.0, *, metric: str = "l2") -> np.ndarray:
    """Cost between the points of a ``side x side`` grid: ``l2`` = squared Euclidean
    (``p = 2``) or ``l1`` = Manhattan, normalized to max 1."""
    ij = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1).reshape(-1, 2)
    d = ij[:, None, :] - ij[None, :, :]
    if metric == "l1":
        C = np.abs(d).sum(-1).astype(float)
    elif metric == "l2":
        C = (d.astype(float) ** 2).sum(-1) ** (p / 2.0)
    else:
        raise ValueError(f"metric must be 'l1' or 'l2', got {metric!r}")
    return C / C.max()


def mnist_pair(i: int = 0, j: int = 1, *, cost: str = "l2", smoothing: float = 0.0,
               data_home: Any = None) -> OTProblem:
    """Two MNIST test images as histograms on the 28 x 28 grid (n = m = 784).

    ``cost="l2"``: squared Euclidean distance between pixel positions; ``"l1"``: Manhattan
    (the paper's MNIST-L1 case, whose OT solution is not unique); both normalized to max 1.
    Pixel intensities are normalized to sum 1; ``smoothing`` adds a constant (relative to
    the mean intensity) to every pixel before normalizing (0: zero pixels carry no mass, as
    in the raw images). Needs the MNIST test files (``optlab.data.load_mnist``; no download
    in tests).
    """
    from optlab.data import load_mnist

    from ._paths import default_data_home

    home = data_home if data_home is not None else default_data_home()
    X, y = load_mnist("test", data_home=home, download=False)
    imgs = []
    for k in (i, j):
        h = X[k].astype(float).ravel()
        h = h + smoothing * h.mean()
        imgs.append(h / h.sum())
    M = grid_cost(28, metric=cost)
    return OTProblem(name=f"mnist_pair(i={i}, j={j}, cost={cost}, smoothing={smoothing:g})",
                     a=imgs[0], b=imgs[1], M=M, seed=None,
                     params={"i": i, "j": j, "cost": cost, "labels": (int(y[i]), int(y[j])),
                             "support": (int((imgs[0] > 0).sum()), int((imgs[1] > 0).sum()))})


def _mixture(x: np.ndarray, rng, n_comp: int) -> np.ndarray:
    means = rng.uniform(0.15, 0.85, size=(n_comp, x.shape[1]))
    sds = rng.uniform(0.04, 0.12, size=n_comp)
    w = rng.uniform(0.5, 1.5, size=n_comp)
    d2 = ((x[:, None, :] - means[None]) ** 2).sum(-1)
    dens = (w * np.exp(-0.5 * d2 / sds**2) / sds ** x.shape[1]).sum(1)
    return dens / dens.sum()


def density_1d(n: int, *, p: int = 2, seed: int = 0) -> OTProblem:
    """Two Gaussian mixtures on a uniform grid of ``[0, 1]`` with cost ``|x - y|^p``
    (``p = 1``: W1, ``p = 2``: W2), normalized to max 1."""
    if p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, n)[:, None]
    a, b = _mixture(x, rng, 3), _mixture(x, rng, 3)
    M = np.abs(x - x.T) ** p
    return OTProblem(name=f"density_1d(n={n}, p={p}, seed={seed})", a=a, b=b, M=M / M.max(),
                     seed=seed, params={"n": n, "p": p})


def density_2d(side: int, *, p: int = 2, seed: int = 0) -> OTProblem:
    """Two Gaussian mixtures on a ``side x side`` grid of ``[0, 1]^2`` (n = side^2) with
    cost ``||x - y||_2^p``, normalized to max 1."""
    if p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    rng = np.random.default_rng(seed)
    g = np.linspace(0.0, 1.0, side)
    x = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    a, b = _mixture(x, rng, 3), _mixture(x, rng, 3)
    M = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)) ** p
    return OTProblem(name=f"density_2d(side={side}, p={p}, seed={seed})", a=a, b=b, M=M / M.max(),
                     seed=seed, params={"side": side, "p": p})
