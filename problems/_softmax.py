r"""L2-regularized softmax (multinomial logistic) regression: synthetic and MNIST.

With features :math:`a_i \in \mathbb{R}^p`, labels :math:`c_i \in \{0, \dots, K-1\}`
and a weight matrix :math:`W \in \mathbb{R}^{K \times p}` (row ``k`` scores class
``k``),

.. math:: f(W) = \frac1n \sum_{i=1}^n \Big[\log\sum_{k=0}^{K-1} e^{w_k^\top a_i}
   - w_{c_i}^\top a_i\Big] + \frac{\lambda}{2}\|W\|_F^2 .

**Parameterization.** All ``K`` classes are kept (scikit-learn's multinomial
convention, no intercept); the variable is ``x = W.ravel()`` (class-major, so
``x.reshape(K, p)`` is scikit-learn's ``coef_``), ``d = p K``. The loss is
invariant under ``W -> W + 1 v^T``, so without ``lam`` the minimizer is never
unique; ``lam > 0`` is required, makes ``f`` ``lam``-strongly convex with a
unique minimizer, and that minimizer has zero class sum
(:math:`\sum_k w_k = 0`: the loss gradient summed over classes vanishes, so
:math:`\lambda \sum_k w_k = 0` at the optimum).

**Derivatives** (``P`` the ``n x K`` class probabilities, ``Y`` the one-hot labels):
:math:`\nabla f = \frac1n (P - Y)^\top A + \lambda W`,
:math:`\nabla^2 f = \frac1n \sum_i (\mathrm{Diag}(p_i) - p_i p_i^\top) \otimes a_i a_i^\top
+ \lambda I`, vectorized over samples (the only Python loop is over the ``K``
classes when the Hessian's diagonal blocks are formed).

**Constants.** ``mu = lam`` (attained: the loss Hessian vanishes along
``1 (x) v``), ``L = ||A||_2^2 / (2n) + lam`` and ``L_max = max_i ||a_i||^2 / 2 + lam``
from Bohning's bound :math:`\mathrm{Diag}(p) - pp^\top \preceq \frac12 (I_K - \frac1K 11^\top)`
(Bohning 1992), whose largest eigenvalue is ``1/2``.

**Approximate Hessians** (``hess_approx``, all symmetric positive definite):

``"gauss_newton"``: :math:`\frac1n\sum_i \mathrm{Diag}(p_i) \otimes a_i a_i^\top + \lambda I`,
    the *weighted Gauss-Newton* approximation of Semenov, Jaggi & Doikov (2025)
    for LogSumExp (drop :math:`-p_i p_i^\top` from the LogSumExp Hessian). Block
    diagonal (``K`` blocks :math:`\frac1n A^\top \mathrm{Diag}(P_{:k}) A + \lambda I`),
    so it factors in ``K`` pieces of size ``p``. Bound: ``hess <= gauss_newton``.
``"fisher"``: the empirical Fisher matrix :math:`\frac1n\sum_i g_i g_i^\top + \lambda I`,
    :math:`g_i = (p_i - e_{c_i}) \otimes a_i` the per-sample loss gradient (the
    true Fisher information of the model equals the Hessian; this observed-label
    version bounds it in neither direction).
``"bohning"``: the constant bound :math:`\frac12(I_K - \frac1K 11^\top) \otimes
    \frac1n A^\top A + \lambda I`, ``hess <= bohning`` everywhere.

The solution is computed once by damped Newton with Cholesky solves
(:func:`problems._logistic.newton_cholesky`, to the rounding floor, typically
``||grad|| ~ 1e-15``) and cached on disk; tests compare it with scikit-learn's
``LogisticRegression`` (multinomial, ``fit_intercept=False``, ``C = 1/(n lam)``).

References
----------
A. Semenov, M. Jaggi, N. Doikov, "Gradient-Normalized Smoothness for Optimization
with Approximate Hessians", arXiv:2506.13710 (2025).
D. Bohning, "Multinomial logistic regression algorithm", Ann. Inst. Statist. Math. 44 (1992).
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from optlab._validate import check_int, check_positive

from ._cache import cached
from ._logistic import newton_cholesky
from ._paths import default_data_home
from .base import Problem

__all__ = ["softmax", "softmax_regression", "softmax_mnist", "mnist_features"]


def _probs(A, W):
    Z = A @ W.T
    Z -= Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    E /= E.sum(axis=1, keepdims=True)
    return E


def _kron_rows(R, A):
    """Rows ``r_i (x) a_i`` (class-major): an (n, K p) array."""
    n, K = R.shape
    return (R[:, :, None] * A[:, None, :]).reshape(n, K * A.shape[1])


def _oracles(A, labels, K, lam):
    n, p = A.shape
    d = K * p
    rows = np.arange(n)
    Y = np.zeros((n, K))
    Y[rows, labels] = 1.0
    diag = np.diag_indices(d)

    def value(x):
        W = x.reshape(K, p)
        Z = A @ W.T
        return float(np.mean(logsumexp(Z, axis=1) - Z[rows, labels]) + 0.5 * lam * (x @ x))

    def grad(x):
        W = x.reshape(K, p)
        return (((_probs(A, W) - Y).T @ A) / n + lam * W).ravel()

    def block_diag_part(P):
        """The K diagonal blocks A^T Diag(P[:, k]) A / n, as a (K, p, p) array."""
        return np.stack([A.T @ (A * (P[:, k] / n)[:, None]) for k in range(K)])

    def hess(x):
        P = _probs(A, x.reshape(K, p))
        M = _kron_rows(P, A)
        H = -(M.T @ M) / n
        blocks = block_diag_part(P)
        for k in range(K):
            H[k * p : (k + 1) * p, k * p : (k + 1) * p] += blocks[k]
        H[diag] += lam
        return H

    def hvp(x, v):
        W, V = x.reshape(K, p), np.asarray(v).reshape(K, p)
        P = _probs(A, W)
        ZV = A @ V.T
        S = P * (ZV - np.sum(P * ZV, axis=1, keepdims=True))
        return ((S.T @ A) / n + lam * V).ravel()

    def grad_i(x, idx):
        idx = np.atleast_1d(np.asarray(idx))
        W = x.reshape(K, p)
        Ai = A[idx]
        return (((_probs(Ai, W) - Y[idx]).T @ Ai) / idx.size + lam * W).ravel()

    def gauss_newton(x):
        """Weighted Gauss-Newton: (1/n) sum_i Diag(p_i) (x) a_i a_i^T + lam I  (>= hess)."""
        blocks = block_diag_part(_probs(A, x.reshape(K, p)))
        H = np.zeros((d, d))
        for k in range(K):
            H[k * p : (k + 1) * p, k * p : (k + 1) * p] = blocks[k]
        H[diag] += lam
        return H

    def fisher(x):
        """Empirical Fisher: (1/n) sum_i g_i g_i^T + lam I, g_i the per-sample loss gradient."""
        M = _kron_rows(_probs(A, x.reshape(K, p)) - Y, A)
        H = (M.T @ M) / n
        H[diag] += lam
        return H

    state = {}

    def bohning(x):
        """Bohning bound: (1/2)(I_K - 11^T/K) (x) A^T A / n + lam I  (>= hess everywhere)."""
        if "B" not in state:
            C = 0.5 * (np.eye(K) - np.full((K, K), 1.0 / K))
            B = np.kron(C, (A.T @ A) / n)
            B[diag] += lam
            state["B"] = B
        return state["B"].copy()

    approx = {"gauss_newton": gauss_newton, "fisher": fisher, "bohning": bohning}
    return value, grad, hess, hvp, grad_i, approx


def softmax(
    A,
    labels,
    *,
    lam: float,
    n_classes: int | None = None,
    name: str = "softmax",
    seed: int | None = None,
    params=None,
    use_cache: bool = True,
) -> Problem:
    """Softmax regression on given dense features ``A`` (n x p) and integer ``labels`` in 0..K-1.

    ``n_classes`` defaults to ``labels.max() + 1``. See the module docstring for
    the parameterization, the constants and the approximate Hessians.

    Examples
    --------
    >>> import numpy as np
    >>> from problems import softmax
    >>> A = np.array([[1.0, 0.5], [-1.0, 0.2], [0.3, -1.0], [0.1, 0.9]])
    >>> p = softmax(A, np.array([0, 1, 2, 0]), lam=0.1, use_cache=False)
    >>> p.dim, p.residual(p.x_star) < 1e-13
    (6, True)
    """
    lam = check_positive(lam, "lam")
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"A must be an n x p array, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError("A must be finite (no NaN or inf)")
    labels = np.asarray(labels)
    if labels.shape != (A.shape[0],):
        raise ValueError(f"labels must have length n={A.shape[0]}, got shape {labels.shape}")
    if labels.size == 0:
        raise ValueError("need at least one sample")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(labels == np.round(labels)):
            raise ValueError("labels must be integers 0..K-1")
    labels = labels.astype(np.int64)
    if labels.min() < 0:
        raise ValueError("labels must be integers 0..K-1")
    K = int(labels.max()) + 1 if n_classes is None else check_int(n_classes, "n_classes", minimum=2)
    if K < 2 or labels.max() >= K:
        raise ValueError(f"labels must lie in 0..n_classes-1 with n_classes >= 2, got K={K}")
    n, p = A.shape
    value, grad, hess, hvp, grad_i, approx = _oracles(A, labels, K, lam)
    sol = cached(
        "softmax-v1",
        {"lam": lam, "K": K},
        {"A": A, "labels": labels},
        lambda: newton_cholesky(value, grad, hess, np.zeros(K * p)),
        use_cache=use_cache,
    )
    x_star = sol["x_star"]
    norm_sq = (
        float(np.linalg.eigvalsh(A.T @ A)[-1]) if p <= n else float(np.linalg.eigvalsh(A @ A.T)[-1])
    )
    row_sq = np.einsum("ij,ij->i", A, A)
    return Problem(
        name=name,
        value=value,
        grad=grad,
        hess=hess,
        hvp=hvp,
        L=norm_sq / (2 * n) + lam,
        mu=lam,
        x0=np.zeros(K * p),
        x_star=x_star,
        f_star=value(x_star),
        seed=seed,
        params={
            "lam": lam,
            "n": n,
            "p": p,
            "K": K,
            "newton_steps": int(sol["nit"]),
            **(params or {}),
        },
        data={"A": A, "labels": labels},
        n_samples=n,
        grad_i=grad_i,
        L_max=float(row_sq.max()) / 2 + lam,
        hess_approx=approx,
    )


def softmax_regression(
    n: int,
    p: int,
    K: int,
    *,
    lam: float = 1e-3,
    seed: int = 0,
    signal: float = 3.0,
    use_cache: bool = True,
) -> Problem:
    r"""Synthetic softmax regression.

    :math:`a_i \sim N(0, I_p)`, :math:`W_{\rm true} = \text{signal} \cdot G / \sqrt p`
    with ``G`` standard normal (``K x p``), and labels drawn from the model,
    :math:`c_i \sim \mathrm{softmax}(W_{\rm true} a_i)` (Gumbel-max sampling), so the
    classes overlap and the data are not separable.

    Examples
    --------
    >>> from problems import softmax_regression
    >>> p = softmax_regression(60, 3, 4, lam=0.01, seed=0, use_cache=False)
    >>> p.dim, p.params["K"], p.residual(p.x_star) < 1e-12
    (12, 4, True)
    """
    n = check_int(n, "n", minimum=1)
    p = check_int(p, "p", minimum=1)
    K = check_int(K, "K", minimum=2)
    signal = float(signal)
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    W_true = signal * rng.standard_normal((K, p)) / np.sqrt(p)
    labels = np.argmax(A @ W_true.T + rng.gumbel(size=(n, K)), axis=1)
    return softmax(
        A,
        labels,
        lam=lam,
        n_classes=K,
        name=f"softmax_regression(n={n}, p={p}, K={K}, lam={lam:g})",
        seed=seed,
        params={"signal": signal, "W_true": W_true},
        use_cache=use_cache,
    )


def mnist_features(images, *, pooling: int = 2, pca: int | None = None) -> np.ndarray:
    """MNIST images (n, 28, 28) uint8 -> float features in [0, 1], pooled, optionally PCA.

    ``pooling``: average over non-overlapping ``pooling x pooling`` blocks (a
    divisor of 28: 1, 2, 4, 7, 14, 28), giving ``(28 / pooling)^2`` features
    (784, 196, 49, 16, 4, 1). ``pca``: then keep the scores on the top ``pca``
    principal components of the (column-centred) pooled features, each component's
    sign fixed so that its largest-magnitude loading is positive.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((2, 28, 28), dtype=np.uint8); X[0, :2, :2] = 255
    >>> F = mnist_features(X, pooling=2)
    >>> F.shape, float(F[0, 0]), float(F[1].sum())
    ((2, 196), 1.0, 0.0)
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"images must have shape (n, 28, 28), got {images.shape}")
    pooling = check_int(pooling, "pooling", minimum=1)
    if 28 % pooling:
        raise ValueError(f"pooling must divide 28 (1, 2, 4, 7, 14, 28), got {pooling}")
    n = images.shape[0]
    m = 28 // pooling
    X = images.astype(np.float64) / 255.0
    X = X.reshape(n, m, pooling, m, pooling).mean(axis=(2, 4)).reshape(n, m * m)
    if pca is not None:
        pca = check_int(pca, "pca", minimum=1)
        if pca > min(n, m * m):
            raise ValueError(f"pca must be <= min(n, features) = {min(n, m * m)}, got {pca}")
        Xc = X - X.mean(axis=0)
        _, _, Vt = np.linalg.svd(Xc, full_matrices=False)
        V = Vt[:pca].T
        signs = np.sign(V[np.argmax(np.abs(V), axis=0), np.arange(pca)])
        X = Xc @ (V * signs)
    return X


def softmax_mnist(
    *,
    n: int | None = None,
    pooling: int = 2,
    pca: int | None = None,
    lam: float = 1e-3,
    seed: int = 0,
    data_home=None,
    download: bool | None = None,
    use_cache: bool = True,
) -> Problem:
    """Softmax regression on the MNIST test images (10,000 x 784, K = 10).

    Features by :func:`mnist_features` (pixels / 255, ``pooling x pooling``
    averaging, optional PCA to ``pca`` dimensions), so ``d = 10 p``: with the
    default 2 x 2 pooling ``p = 196`` and ``d = 1960``; ``pooling=4`` gives
    ``d = 490``. ``n`` (default: all 10,000) draws a uniform subsample without
    replacement with ``seed`` (kept in file order). Loaded by
    :func:`optlab.data.load_mnist` (checksum-verified); when ``data_home`` is not
    given and ``OPTLAB_DATA`` is unset, ``../shared/data`` next to the repository
    is used if it exists. The solution (Newton, cached) takes ~10-20 s once at
    ``n = 10000, d = 1960``.

    Examples
    --------
    >>> from problems import softmax_mnist
    >>> p = softmax_mnist(n=500, pooling=4, lam=1e-2)  # doctest: +SKIP
    >>> p.dim  # doctest: +SKIP
    490
    """
    from optlab.data import load_mnist

    if data_home is None:
        data_home = default_data_home()
    images, digits = load_mnist("test", data_home=data_home, download=download)
    total = images.shape[0]
    if n is not None:
        n = check_int(n, "n", minimum=1)
        if n > total:
            raise ValueError(f"n must be <= {total}, got {n}")
        if n < total:
            idx = np.sort(np.random.default_rng(seed).choice(total, size=n, replace=False))
            images, digits = images[idx], digits[idx]
    A = mnist_features(images, pooling=pooling, pca=pca)
    n_used = A.shape[0]
    return softmax(
        A,
        digits.astype(np.int64),
        lam=lam,
        n_classes=10,
        name=f"softmax_mnist(n={n_used}, p={A.shape[1]}, lam={lam:g})",
        seed=seed if n_used < total else None,
        params={"pooling": pooling, "pca": pca},
        use_cache=use_cache,
    )
