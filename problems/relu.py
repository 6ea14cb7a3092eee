"""Data sets for convex two-layer ReLU training (``optlab.relu``).

Every generator returns a :class:`ReluData` with training rows ``X`` (a bias column of ones
appended last when ``bias``), targets ``y`` (``+-1`` labels for classification tasks), an
optional test split, and ``params``. Small synthetic sets are *enumerable*: their exact
arrangement (:func:`optlab.relu.enumerate_patterns`) is small, so the exact convex program,
hence the global optimum of the non-convex training problem, can be computed.

* :func:`relu_synthetic`: ``n`` points in ``d - 1`` dimensions plus bias (regression on a
  sum of ReLUs with noise, or the sign of it for classification);
* :func:`relu_spiral`: two interleaved 2-D spirals (classification, enumerable for small n);
* :func:`relu_breast_cancer`, :func:`relu_digits`: scikit-learn's bundled sets, standardised,
  binary;
* :func:`relu_mnist`: MNIST test images from the data folder (``optlab.data``), binary tasks
  (one digit against another, or odd against even), pixels scaled to [0, 1].

Examples
--------
>>> from problems.relu import relu_synthetic
>>> p = relu_synthetic(n=12, d=2, seed=0)
>>> p.X.shape, p.params["n_patterns_exact"]
((12, 2), 23)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._paths import default_data_home

__all__ = ["ReluData", "relu_synthetic", "relu_spiral", "relu_breast_cancer", "relu_digits", "relu_mnist"]


@dataclass(kw_only=True, eq=False)
class ReluData:
    """A training set (and optional test split) for ``optlab.relu``."""

    name: str
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    task: str = "regression"
    bias: bool = True
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)


def _with_bias(Z: np.ndarray, bias: bool) -> np.ndarray:
    return np.c_[Z, np.ones(Z.shape[0])] if bias else Z


def _split(X, y, n_train, rng):
    idx = rng.permutation(X.shape[0])
    tr, te = idx[:n_train], idx[n_train:]
    return X[tr], y[tr], X[te], y[te]


def relu_synthetic(n: int = 20, d: int = 2, *, seed: int = 0, task: str = "regression", noise: float = 0.1,
                   n_teacher: int = 3, bias: bool = True) -> ReluData:
    """``n`` Gaussian points in ``d - 1`` dimensions (plus bias), targets from a random
    teacher network with ``n_teacher`` ReLUs (regression: plus ``noise``; classification:
    its sign). ``params`` has ``n_patterns_exact`` (the exact arrangement size, for
    ``d <= 4``)."""
    from optlab.relu import max_patterns

    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d - 1 if bias else d))
    X = _with_bias(Z, bias)
    Ut = rng.standard_normal((n_teacher, X.shape[1]))
    at = rng.choice([-1.0, 1.0], n_teacher)
    f = np.maximum(X @ Ut.T, 0.0) @ at
    if task == "classification":
        y = np.where(f - np.median(f) >= 0, 1.0, -1.0)
    elif task == "regression":
        y = f + noise * rng.standard_normal(n)
    else:
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
    r = int(np.linalg.matrix_rank(X))
    return ReluData(name=f"relu_synthetic(n={n}, d={d}, {task})", X=X, y=y, task=task, bias=bias, seed=seed,
                    params={"noise": noise, "n_teacher": n_teacher,
                            "n_patterns_exact": max_patterns(n, r) - 1 if bias else max_patterns(n, r)})


def relu_spiral(n: int = 20, *, seed: int = 0, turns: float = 1.0, noise: float = 0.0, bias: bool = True) -> ReluData:
    """Two interleaved spirals in 2-D (``n`` points, labels ``+-1``); enumerable for small ``n``."""
    rng = np.random.default_rng(seed)
    m = n // 2
    t = np.sqrt(rng.uniform(0.05, 1.0, m)) * turns * 2 * np.pi
    p1 = np.c_[t * np.cos(t), t * np.sin(t)] / (turns * 2 * np.pi)
    Z = np.r_[p1, -p1[: n - m]] + noise * rng.standard_normal((n, 2))
    y = np.r_[np.ones(m), -np.ones(n - m)]
    return ReluData(name=f"relu_spiral(n={n})", X=_with_bias(Z, bias), y=y, task="classification", bias=bias,
                    seed=seed, params={"turns": turns, "noise": noise})


def _standardise(Xtr, Xte, scale):
    mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
    sd[sd == 0] = 1.0
    return (Xtr - mu) / sd * scale, (Xte - mu) / sd * scale


def relu_breast_cancer(*, n_train: int = 400, seed: int = 0, scale: float | None = None,
                       n_features: int | None = None, bias: bool = True) -> ReluData:
    """scikit-learn breast cancer (569 x 30), labels ``+-1`` (malignant -1), standardised with
    training statistics and multiplied by ``scale`` (default ``1/sqrt(d)``, so rows have norm
    about 1); the first ``n_features`` columns only when given."""
    from sklearn.datasets import load_breast_cancer

    Xr, yr = load_breast_cancer(return_X_y=True)
    if n_features is not None:
        Xr = Xr[:, :n_features]
    y = 2.0 * yr - 1.0
    rng = np.random.default_rng(seed)
    Xtr, ytr, Xte, yte = _split(Xr, y, n_train, rng)
    s = 1.0 / np.sqrt(Xr.shape[1]) if scale is None else scale
    Xtr, Xte = _standardise(Xtr, Xte, s)
    return ReluData(name=f"breast_cancer(n_train={n_train}, d={Xr.shape[1]})", X=_with_bias(Xtr, bias), y=ytr,
                    X_test=_with_bias(Xte, bias), y_test=yte, task="classification", bias=bias, seed=seed,
                    params={"scale": s})


def relu_digits(*, positive=(0,), negative=(1,), n_train: float = 0.7, seed: int = 0, bias: bool = True) -> ReluData:
    """scikit-learn digits (8x8), a binary task: ``positive`` digits (+1) against ``negative``
    digits (-1), e.g. ``positive=(0, 2, 4, 6, 8), negative=(1, 3, 5, 7, 9)`` for even vs odd.
    Pixels scaled to [0, 1] then by ``1/8`` (row norms about 1); ``n_train`` is a fraction."""
    from sklearn.datasets import load_digits

    Xr, lab = load_digits(return_X_y=True)
    keep = np.isin(lab, list(positive) + list(negative))
    Xr, lab = Xr[keep] / 16.0 / 8.0, lab[keep]
    y = np.where(np.isin(lab, list(positive)), 1.0, -1.0)
    rng = np.random.default_rng(seed)
    Xtr, ytr, Xte, yte = _split(Xr, y, int(round(n_train * Xr.shape[0])), rng)
    return ReluData(name=f"digits({positive} vs {negative})", X=_with_bias(Xtr, bias), y=ytr,
                    X_test=_with_bias(Xte, bias), y_test=yte, task="classification", bias=bias, seed=seed,
                    params={"positive": list(positive), "negative": list(negative)})


def relu_mnist(task: Any = "odd_even", *, n_train: int = 8000, seed: int = 0, bias: bool = True,
               data_home=None, download: bool | None = False) -> ReluData:
    """MNIST test split (10,000 images) from the data folder, a binary task: ``"odd_even"``
    (even +1) or a pair ``(a, b)`` (digit ``a`` +1 against ``b`` -1). Pixels in [0, 1]
    divided by ``sqrt(784)/4``; ``n_train`` rows for training (at most all of them), the
    rest for testing. Raises ``FileNotFoundError`` when the files are absent."""
    from optlab.data import load_mnist

    if data_home is None:
        data_home = default_data_home()
    img, lab = load_mnist("test", data_home=data_home, download=download)
    Xr = img.reshape(img.shape[0], -1).astype(np.float64) / 255.0 / 7.0
    if task == "odd_even":
        y = np.where(lab % 2 == 0, 1.0, -1.0)
    else:
        a, b = task
        keep = (lab == a) | (lab == b)
        Xr, lab = Xr[keep], lab[keep]
        y = np.where(lab == a, 1.0, -1.0)
    rng = np.random.default_rng(seed)
    n_train = min(int(n_train), Xr.shape[0])
    Xtr, ytr, Xte, yte = _split(Xr, y, n_train, rng)
    return ReluData(name=f"mnist({task}, n_train={n_train})", X=_with_bias(Xtr, bias), y=ytr,
                    X_test=_with_bias(Xte, bias) if Xte.shape[0] else None, y_test=yte if yte.size else None,
                    task="classification", bias=bias, seed=seed, params={"task": str(task)})
