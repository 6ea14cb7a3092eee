r"""L2-regularized logistic regression: synthetic, breast cancer, LIBSVM mushrooms.

All three build

.. math:: f(x) = \frac1n \sum_{i=1}^n \log\big(1 + e^{-y_i a_i^\top x}\big) + \frac{\lambda}{2}\|x\|^2,
   \qquad y_i \in \{-1, +1\},

with ``L = ||A||_2^2 / (4n) + lam`` (the logistic loss has curvature <= 1/4),
``mu = lam``, ``L_max = max_i ||a_i||^2 / 4 + lam`` for the finite sum
``f_i(x) = log(1 + exp(-y_i a_i^T x)) + lam ||x||^2 / 2``, and no intercept.
``x_star`` is computed by scipy (trust-region Newton with the exact Hessian),
polished by full Newton steps until the gradient norm stops decreasing
(typically ~1e-16), and cached on disk.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize as so
import scipy.sparse as sp
from scipy.special import expit

from optlab._validate import check_int, check_nonnegative, check_positive

from ._cache import cached
from ._paths import default_data_home
from .base import Problem

__all__ = ["logistic", "logistic_regression", "logistic_breast_cancer", "logistic_mushrooms"]


def _spectral_norm_sq(A) -> float:
    n, d = A.shape
    if sp.issparse(A):
        G = (A.T @ A).toarray() if d <= n else (A @ A.T).toarray()
    else:
        G = A.T @ A if d <= n else A @ A.T
    return float(np.linalg.eigvalsh(G)[-1])


def _oracles(A, y, lam):
    n, d = A.shape
    dense = not sp.issparse(A)

    def value(x):
        z = y * (A @ x)
        return float(np.logaddexp(0.0, -z).mean() + 0.5 * lam * (x @ x))

    def grad(x):
        z = y * (A @ x)
        return A.T @ (-y * expit(-z)) / n + lam * x

    def hess(x):
        z = y * (A @ x)
        w = expit(z) * expit(-z) / n
        # sparse A: A^T (diag(w) A) as sparse @ dense (profiled on mushrooms: ~20x faster than
        # the sparse-sparse product, and faster than a dense GEMM with this machine's BLAS)
        H = A.T @ (A * w[:, None]) if dense else A.T @ A.multiply(w[:, None]).toarray()
        H = np.asarray(H)
        H[np.diag_indices(d)] += lam
        return H

    def hvp(x, v):
        z = y * (A @ x)
        w = expit(z) * expit(-z) / n
        return A.T @ (w * (A @ v)) + lam * v

    def grad_i(x, idx):
        idx = np.atleast_1d(np.asarray(idx))
        Ai, yi = A[idx], y[idx]
        z = yi * (Ai @ x)
        return Ai.T @ (-yi * expit(-z)) / idx.size + lam * x

    return value, grad, hess, hvp, grad_i


def _solve(A, y, lam) -> dict[str, np.ndarray]:
    value, grad, hess, _, _ = _oracles(A, y, lam)
    d = A.shape[1]
    res = so.minimize(
        value, np.zeros(d), jac=grad, hess=hess, method="trust-exact", options={"gtol": 1e-12}
    )
    x = np.asarray(res.x, dtype=np.float64)
    gn = float(np.linalg.norm(grad(x)))
    for _ in range(20):  # Newton polish: quadratic convergence from scipy's point
        x_new = x - np.linalg.solve(hess(x), grad(x))
        gn_new = float(np.linalg.norm(grad(x_new)))
        if not gn_new < gn:
            break
        x, gn = x_new, gn_new
    return {"x_star": x, "grad_norm": gn, "scipy_nit": res.nit}


def logistic(
    A,
    y,
    *,
    lam: float,
    name: str = "logistic",
    seed: int | None = None,
    params=None,
    use_cache=True,
) -> Problem:
    """Logistic regression problem on given data ``A`` (dense or sparse, n x d) and ``y`` in {-1, +1}."""
    lam = check_positive(lam, "lam")
    if sp.issparse(A):
        A = sp.csr_matrix(A, dtype=np.float64)
    else:
        A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if A.ndim != 2 or y.shape != (A.shape[0],):
        raise ValueError(f"A must be n x d and y of length n, got {A.shape} and {y.shape}")
    if not np.all(np.abs(y) == 1):
        raise ValueError("y must take values in {-1, +1}")
    n, d = A.shape
    value, grad, hess, hvp, grad_i = _oracles(A, y, lam)
    sol = cached(
        "logistic-v1",
        {"lam": lam},
        {"A": A, "y": y},
        lambda: _solve(A, y, lam),
        use_cache=use_cache,
    )
    x_star = sol["x_star"]
    row_sq = (
        np.asarray(A.multiply(A).sum(axis=1)).ravel()
        if sp.issparse(A)
        else np.einsum("ij,ij->i", A, A)
    )
    return Problem(
        name=name,
        value=value,
        grad=grad,
        hess=hess,
        hvp=hvp,
        L=_spectral_norm_sq(A) / (4 * n) + lam,
        mu=lam,
        x0=np.zeros(d),
        x_star=x_star,
        f_star=value(x_star),
        seed=seed,
        params={"lam": lam, "n": n, "d": d, **(params or {})},
        data={"A": A, "y": y},
        n_samples=n,
        grad_i=grad_i,
        L_max=float(row_sq.max()) / 4 + lam,
    )


def logistic_regression(
    n: int, d: int, *, lam: float = 1e-3, seed: int = 0, flip: float = 0.1, use_cache: bool = True
) -> Problem:
    """Synthetic logistic regression.

    ``a_i`` i.i.d. standard normal in ``R^d``, ``y_i = sign(a_i^T x_true)`` with
    ``x_true ~ N(0, I/d)``, then each label flipped with probability ``flip``.

    Examples
    --------
    >>> from problems import logistic_regression
    >>> p = logistic_regression(50, 5, lam=0.1, seed=0, use_cache=False)
    >>> p.residual(p.x_star) < 1e-12
    True
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    flip = check_nonnegative(flip, "flip")
    if flip > 1:
        raise ValueError(f"flip must be a probability, got {flip}")
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    x_true = rng.standard_normal(d) / np.sqrt(d)
    y = np.where(A @ x_true >= 0, 1.0, -1.0)
    y[rng.random(n) < flip] *= -1.0
    return logistic(
        A,
        y,
        lam=lam,
        name=f"logistic_regression(n={n}, d={d}, lam={lam:g})",
        seed=seed,
        params={"flip": flip, "x_true": x_true},
        use_cache=use_cache,
    )


def logistic_breast_cancer(
    *, lam: float = 1e-3, standardize: bool = True, use_cache: bool = True
) -> Problem:
    """Logistic regression on scikit-learn's bundled Wisconsin breast cancer set (569 x 30).

    Labels: scikit-learn's target 1 (benign) -> +1, 0 (malignant) -> -1. With
    ``standardize`` each feature is centred and scaled to unit standard deviation.
    Needs scikit-learn (the ``peers`` extra), imported lazily.
    """
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "logistic_breast_cancer needs scikit-learn: pip install 'optlab[peers]'"
        ) from exc
    X, t = load_breast_cancer(return_X_y=True)
    X = np.asarray(X, dtype=np.float64)
    if standardize:
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = np.where(t == 1, 1.0, -1.0)
    return logistic(
        X,
        y,
        lam=lam,
        name=f"logistic_breast_cancer(lam={lam:g})",
        params={"standardize": standardize},
        use_cache=use_cache,
    )


def logistic_mushrooms(
    *, lam: float = 1e-3, data_home=None, download: bool | None = None, use_cache: bool = True
) -> Problem:
    """Logistic regression on LIBSVM ``mushrooms`` (8124 x 112, sparse binary features).

    Loaded by :func:`optlab.data.load_libsvm` (labels 1 -> +1, 2 -> -1). When
    ``data_home`` is not given and ``OPTLAB_DATA`` is unset, ``../shared/data``
    next to the repository is used if it exists.
    """
    from optlab.data import load_libsvm

    if data_home is None:
        data_home = default_data_home()
    A, y = load_libsvm("mushrooms", data_home=data_home, download=download)
    return logistic(
        A,
        y,
        lam=lam,
        name=f"logistic_mushrooms(lam={lam:g})",
        use_cache=use_cache,
    )
