r"""L2-regularized logistic regression: synthetic, breast cancer, LIBSVM mushrooms.

All three build

.. math:: f(x) = \frac1n \sum_{i=1}^n \log\big(1 + e^{-y_i a_i^\top x}\big) + \frac{\lambda}{2}\|x\|^2,
   \qquad y_i \in \{-1, +1\},

with ``L = ||A||_2^2 / (4n) + lam`` (the logistic loss has curvature <= 1/4),
``mu = lam``, ``L_max = max_i ||a_i||^2 / 4 + lam`` for the finite sum
``f_i(x) = log(1 + exp(-y_i a_i^T x)) + lam ||x||^2 / 2``, and no intercept.
``x_star`` is computed by scipy (trust-region Newton with the exact Hessian),
polished by full Newton steps until the gradient norm stops decreasing
(typically ~1e-16), and cached on disk. :func:`logistic_synthetic` (large,
ill-conditioned instances for the lazy-Hessian experiments) is solved instead by
damped Newton with Cholesky factorizations (:func:`newton_cholesky`), which
needs one Hessian and one factorization per step and scales to d = 2000.

Every logistic problem carries approximate Hessians in ``hess_approx`` (see
:func:`logistic_hess_approx`): the weighted Gauss-Newton matrix and the fixed
Bohning bound, both ``>= hess(x)`` in the Loewner order, and the empirical
Fisher matrix, which bounds nothing but satisfies ``gauss_newton = hess +
fisher - lam I`` exactly.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.linalg as sla
import scipy.optimize as so
import scipy.sparse as sp
from scipy.special import expit

from optlab._validate import check_int, check_nonnegative, check_positive

from ._cache import cached
from ._paths import default_data_home
from .base import Problem

__all__ = [
    "logistic",
    "logistic_regression",
    "logistic_synthetic",
    "logistic_breast_cancer",
    "logistic_mushrooms",
    "logistic_hess_approx",
    "newton_cholesky",
]

logger = logging.getLogger("optlab")


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
    # The margins z = y * (A x) are shared by value, grad and hess at the same x (solvers
    # typically ask for f and then grad at a new point): remember the last one. The check
    # costs O(d) against the O(nd) product it saves; the stored x is a copy.
    last: dict[str, np.ndarray | None] = {"x": None, "z": None}

    def margins(x):
        lx = last["x"]
        if lx is not None and lx.shape == x.shape and np.array_equal(lx, x):
            return last["z"]
        z = y * (A @ x)
        last["x"], last["z"] = np.array(x, copy=True), z
        return z

    def value(x):
        z = margins(x)
        return float(np.logaddexp(0.0, -z).mean() + 0.5 * lam * (x @ x))

    def grad(x):
        z = margins(x)
        return A.T @ (-y * expit(-z)) / n + lam * x

    def hess(x):
        z = margins(x)
        w = expit(z) * expit(-z) / n
        # sparse A: A^T (diag(w) A) as sparse @ dense (profiled on mushrooms: ~20x faster than
        # the sparse-sparse product, and faster than a dense GEMM with this machine's BLAS)
        H = A.T @ (A * w[:, None]) if dense else A.T @ A.multiply(w[:, None]).toarray()
        H = np.asarray(H)
        H[np.diag_indices(d)] += lam
        return H

    def hvp(x, v):
        z = margins(x)
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


def _gram(A) -> np.ndarray:
    """``A^T A`` as a dense (d, d) array (sparse ``A``: the sparse product, densified)."""
    if sp.issparse(A):
        return np.asarray((A.T @ A).toarray())
    return A.T @ A


def logistic_hess_approx(A, y, lam: float, *, gram=None) -> dict:
    r"""Approximate Hessians of L2-regularized logistic regression.

    With margins :math:`t_i = y_i a_i^\top x`, :math:`\sigma(t) = 1/(1 + e^{-t})`
    and :math:`f(x) = \frac1n\sum_i \ell(t_i) + \frac\lambda2\|x\|^2`,
    :math:`\ell(t) = \log(1 + e^{-t})`, the Hessian is
    :math:`\nabla^2 f(x) = \frac1n A^\top \mathrm{Diag}(\sigma(t_i)\sigma(-t_i)) A + \lambda I`.
    All three approximations are :math:`\frac1n A^\top \mathrm{Diag}(w) A + \lambda I`
    with ``w >= 0``, hence symmetric positive definite:

    ``"gauss_newton"``: :math:`w_i = \sigma(-t_i)`. The *weighted Gauss-Newton*
        approximation of Semenov, Jaggi & Doikov (2025) for a LogSumExp of an
        affine map, :math:`\nabla^2\,\mathrm{LSE}(Cx) = C^\top(\mathrm{Diag}(\pi) -
        \pi\pi^\top)C \preceq C^\top \mathrm{Diag}(\pi) C` with
        :math:`\pi = \mathrm{softmax}(Cx)`, applied to
        :math:`\ell(t_i) = \mathrm{LSE}(0, -t_i)` (the two-class softmax loss with
        the other class's logit fixed at 0): :math:`\pi = (\sigma(t_i),
        \sigma(-t_i))` and only the second logit depends on ``x``. Valid upper
        approximation: ``hess(x) <= gauss_newton(x)`` since
        :math:`\sigma(t)\sigma(-t) \le \sigma(-t)`; the ratio of the weights is
        :math:`1 + e^{-t_i}`, close to 1 on well-classified points.
    ``"fisher"``: :math:`w_i = \sigma(-t_i)^2`, the *empirical Fisher* matrix
        :math:`\frac1n\sum_i \nabla\ell_i \nabla\ell_i^\top + \lambda I` with
        :math:`\nabla\ell_i = -y_i\sigma(-t_i) a_i` (the observed-label version
        of the Fisher information, which for this canonical-link model equals the
        Hessian itself). It bounds ``hess`` in neither direction in general
        (per sample it is below the Hessian exactly when :math:`t_i \ge 0`), but
        ``gauss_newton = hess + fisher - lam I`` holds exactly, and at ``x = 0``
        ``fisher = hess = bohning``.
    ``"bohning"``: :math:`w_i = 1/4`, the constant bound of Bohning & Lindsay
        (1988), ``hess(x) <= A^T A/(4n) + lam I`` for every ``x`` since
        :math:`\sigma\sigma' \le 1/4`; it is also the weighted Gauss-Newton
        matrix of the symmetric form :math:`\ell(t) = \mathrm{LSE}(t/2, -t/2) - t/2`.
        Computed once (lazily), a fresh copy is returned on each call.

    Parameters
    ----------
    A : (n, d) ndarray or scipy.sparse matrix
    y : (n,) ndarray of +-1
    lam : float
        L2 weight.
    gram : (d, d) ndarray, optional
        ``A^T A`` when already computed (used by ``"bohning"``).

    Returns
    -------
    dict of str to callable
        ``{"gauss_newton", "fisher", "bohning"}``, each ``x -> (d, d) ndarray``.

    References
    ----------
    A. Semenov, M. Jaggi, N. Doikov, "Gradient-Normalized Smoothness for Optimization
    with Approximate Hessians", arXiv:2506.13710 (2025); code
    github.com/epfml/grad-norm-smooth (``approx_hess_fn_logsumexp``).
    D. Bohning, B. Lindsay, "Monotonicity of quadratic-approximation algorithms",
    Ann. Inst. Statist. Math. 40 (1988).

    Examples
    --------
    >>> import numpy as np
    >>> from problems import logistic_regression
    >>> p = logistic_regression(40, 3, lam=0.1, seed=0, use_cache=False)
    >>> x = np.ones(3)
    >>> bool(np.linalg.eigvalsh(p.hess_approx["gauss_newton"](x) - p.hess(x)).min() >= -1e-14)
    True
    """
    n, d = A.shape
    dense = not sp.issparse(A)
    diag = np.diag_indices(d)

    def weighted(w):
        w = w / n
        H = A.T @ (A * w[:, None]) if dense else A.T @ A.multiply(w[:, None]).toarray()
        H = np.array(H)
        H[diag] += lam
        return H

    def gauss_newton(x):
        return weighted(expit(-y * (A @ x)))

    def fisher(x):
        return weighted(expit(-y * (A @ x)) ** 2)

    state = {"gram": gram}

    def bohning(x):
        if "B" not in state:
            G = state.pop("gram")
            G = _gram(A) if G is None else G
            B = np.array(G, dtype=np.float64) / (4 * n)
            B[diag] += lam
            state["B"] = B
        return state["B"].copy()

    gauss_newton.__doc__ = (
        "Weighted Gauss-Newton: A^T diag(sigmoid(-y*Ax)) A / n + lam I  (>= hess)."
    )
    fisher.__doc__ = "Empirical Fisher: mean of grad_i grad_i^T + lam I (PSD; no bound)."
    bohning.__doc__ = "Bohning bound: A^T A / (4n) + lam I  (>= hess for every x)."
    return {"gauss_newton": gauss_newton, "fisher": fisher, "bohning": bohning}


def newton_cholesky(
    value, grad, hess, x0, *, gtol: float = 1e-13, max_iter: int = 200, c1: float = 1e-4
) -> dict:
    r"""Damped Newton with Cholesky solves, for the cached reference solutions.

    Step :math:`s = -\nabla^2 f(x)^{-1}\nabla f(x)` (``scipy.linalg.cho_factor``),
    backtracking (halving) from ``t = 1`` until the Armijo condition
    :math:`f(x + ts) \le f(x) + c_1 t \nabla f(x)^\top s` holds, or, once the
    decrease of ``f`` is below rounding, until the gradient norm decreases. Global
    convergence for smooth strongly convex ``f`` and local quadratic convergence
    (Boyd & Vandenberghe, Convex Optimization, Sec. 9.5.3). Stops when
    ``||grad|| <= gtol``, when no step decreases anything (the rounding floor), or
    after ``max_iter`` Newton steps. Not a library solver: it backs the problem
    generators (the Hessian must be positive definite) and raises
    ``numpy.linalg.LinAlgError`` otherwise.

    Returns
    -------
    dict
        ``x_star``, ``grad_norm`` (at ``x_star``), ``nit`` (Newton steps), ``seconds``.

    Examples
    --------
    >>> import numpy as np
    >>> Q = np.diag([1.0, 10.0]); b = np.ones(2)
    >>> r = newton_cholesky(lambda x: 0.5 * x @ Q @ x - b @ x, lambda x: Q @ x - b,
    ...                     lambda x: Q, np.zeros(2))
    >>> np.allclose(r["x_star"], [1.0, 0.1]), int(r["nit"])
    (True, 1)
    """
    t0 = time.perf_counter()
    x = np.array(x0, dtype=np.float64)
    f, g = float(value(x)), np.asarray(grad(x), dtype=np.float64)
    gn = float(np.linalg.norm(g))
    nit = 0
    while gn > gtol and nit < max_iter:
        s = -sla.cho_solve(sla.cho_factor(hess(x), check_finite=False), g, check_finite=False)
        slope = float(g @ s)
        t, accepted = 1.0, False
        while t > 1e-12:
            x_new = x + t * s
            f_new = float(value(x_new))
            g_new = np.asarray(grad(x_new), dtype=np.float64)
            gn_new = float(np.linalg.norm(g_new))
            if f_new <= f + c1 * t * slope or (
                gn_new < gn and f_new <= f + 16 * np.finfo(float).eps * abs(f)
            ):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break
        x, f, g, gn = x_new, f_new, g_new, gn_new
        nit += 1
    return {"x_star": x, "grad_norm": gn, "nit": nit, "seconds": time.perf_counter() - t0}


def _solve_newton(A, y, lam) -> dict[str, np.ndarray]:
    """x_star by :func:`newton_cholesky` from 0, the Hessian by one symmetric rank-k update."""
    value, grad, hess, _, _ = _oracles(A, y, lam)
    n, d = A.shape
    if sp.issparse(A):
        fast_hess = hess
    else:
        Af = np.asfortranarray(A)
        diag = np.diag_indices(d)

        def fast_hess(x):
            z = y * (Af @ x)
            B = Af * np.sqrt(expit(z) * expit(-z) / n)[:, None]
            H = sla.blas.dsyrk(1.0, B, trans=1, lower=0)  # upper triangle of B^T B
            H[diag] += lam
            return H  # cho_factor reads the upper triangle only (lower=False)

    res = newton_cholesky(value, grad, fast_hess, np.zeros(d))
    logger.info(
        "problems: logistic Newton solve n=%d d=%d: %d steps, ||grad||=%.2e, %.1f s",
        n,
        d,
        res["nit"],
        res["grad_norm"],
        res["seconds"],
    )
    return res


def logistic(
    A,
    y,
    *,
    lam: float,
    name: str = "logistic",
    seed: int | None = None,
    params=None,
    use_cache=True,
    solver: str = "trust-exact",
) -> Problem:
    """Logistic regression problem on given data ``A`` (dense or sparse, n x d) and ``y`` in {-1, +1}.

    ``solver`` computes the cached ``x_star``: ``"trust-exact"`` (scipy, then
    Newton polish; the default) or ``"newton"`` (:func:`newton_cholesky` from 0,
    the fast path for large dense instances).
    """
    lam = check_positive(lam, "lam")
    if solver not in ("trust-exact", "newton"):
        raise ValueError(f"solver must be 'trust-exact' or 'newton', got {solver!r}")
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
    if solver == "newton":
        sol = cached(
            "logistic-newton-v1",
            {"lam": lam},
            {"A": A, "y": y},
            lambda: _solve_newton(A, y, lam),
            use_cache=use_cache,
        )
    else:
        sol = cached(
            "logistic-v1",
            {"lam": lam},
            {"A": A, "y": y},
            lambda: _solve(A, y, lam),
            use_cache=use_cache,
        )
    x_star = sol["x_star"]
    # ||A||_2^2 from the Gram matrix (as _spectral_norm_sq does), kept for the Bohning bound
    gram = _gram(A) if d <= n else None
    norm_sq = float(np.linalg.eigvalsh(gram)[-1]) if gram is not None else _spectral_norm_sq(A)
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
        L=norm_sq / (4 * n) + lam,
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
        hess_approx=logistic_hess_approx(A, y, lam, gram=gram),
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


def logistic_synthetic(
    n: int,
    d: int,
    *,
    lam: float = 1e-4,
    seed: int = 0,
    col_scale: tuple[float, float] = (0.05, 3.0),
    flip: float = 0.1,
    use_cache: bool = True,
) -> Problem:
    r"""Ill-conditioned synthetic logistic regression for the lazy-Hessian experiments.

    Latent features :math:`z_i \sim N(0, I_d)`, labels
    :math:`y_i = \mathrm{sign}(z_i^\top x_{\rm true})` with
    :math:`x_{\rm true} \sim N(0, I/d)`, each flipped with probability ``flip``;
    the observed features are the latent ones with column ``j`` scaled by
    :math:`s_j`, log-spaced from ``col_scale[0]`` to ``col_scale[1]``
    (:math:`a_i = \mathrm{Diag}(s) z_i`). Every column carries signal; the scaling
    only sets the conditioning (the feature covariance has condition number
    :math:`(s_{\max}/s_{\min})^2 = 3600` by default) together with the small
    ``lam``. This is the setting of the notes' quick check (columns scaled from
    0.05 to 3, ``mu = 1e-4``; ``n = 10 d`` is typical). The solution is computed by
    damped Newton with Cholesky (:func:`newton_cholesky`) and cached; at
    ``n = 20000, d = 2000`` building takes a few seconds plus, once, the solve.

    Examples
    --------
    >>> from problems import logistic_synthetic
    >>> p = logistic_synthetic(200, 20, lam=1e-3, seed=0, use_cache=False)
    >>> p.residual(p.x_star) < 1e-12, p.params["col_scale"]
    (True, (0.05, 3.0))
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    flip = check_nonnegative(flip, "flip")
    if flip > 1:
        raise ValueError(f"flip must be a probability, got {flip}")
    try:
        lo, hi = (float(c) for c in col_scale)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"col_scale must be a pair of floats, got {col_scale!r}") from exc
    check_positive(lo, "col_scale[0]")
    check_positive(hi, "col_scale[1]")
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    x_true = rng.standard_normal(d) / np.sqrt(d)
    y = np.where(A @ x_true >= 0, 1.0, -1.0)
    y[rng.random(n) < flip] *= -1.0
    scales = np.geomspace(lo, hi, d)
    A *= scales
    return logistic(
        A,
        y,
        lam=lam,
        name=f"logistic_synthetic(n={n}, d={d}, lam={lam:g})",
        seed=seed,
        params={"flip": flip, "x_true": x_true, "col_scale": (lo, hi), "scales": scales},
        use_cache=use_cache,
        solver="newton",
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
