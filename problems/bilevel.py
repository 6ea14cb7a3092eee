"""Bilevel problem instances with exact answers or exact hypergradients.

Every generator returns an :class:`optlab.bilevel.base.BilevelProblem` (see its
docstring for the oracle protocol).

=========================  ======================================================  ===========================
generator                  problem                                                 known answer
=========================  ======================================================  ===========================
quadratic_bilevel          f, g quadratic; g strongly convex in y                   y*(x), grad F, x* closed form
ridge_bilevel              ridge weights exp(x) (scalar or per feature),            y*(x), grad F closed form;
                           validation least squares (diabetes, breast_cancer,       x* by Brent (scalar)
                           synthetic)
logistic_bilevel           per-feature exp(x_j) L2 weights of logistic regression  y*(x) by Newton, grad F by
                           (breast_cancer, mushrooms, synthetic)                    a dense solve
hyper_cleaning             MNIST data hyper-cleaning: per-sample weights            y*(x) by L-BFGS; clean test
                           sigmoid(x_i) on corrupted labels, linear softmax model   accuracy
relaxed_smooth_bilevel     cosh upper level ((L0, L1)-smooth, not L-smooth),       y*(x), grad F closed form;
                           quadratic lower level                                    x* by Newton
multiblock_bilevel         F = mean_i f_i(x, y_i*(x)), m quadratic lower blocks     y*(x), grad F, x* closed form
=========================  ======================================================  ===========================

Stochastic oracles (``sample(rng, batch)``): quadratic problems perturb their
data by Gaussian noise of standard deviation ``noise/sqrt(batch)`` (separately
``noise_f`` for the upper and ``noise_g`` for the lower level, unbiased, the
same draw for every oracle of the view); data problems draw mini-batches of
training (lower) and validation (upper) samples.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.linalg as sla
import scipy.optimize as sopt

from optlab._validate import check_int, check_nonnegative, check_positive
from optlab.bilevel.base import BilevelProblem, exact_hypergrad_dense

__all__ = [
    "quadratic_bilevel",
    "ridge_bilevel",
    "logistic_bilevel",
    "hyper_cleaning",
    "relaxed_smooth_bilevel",
    "multiblock_bilevel",
    "MultiBlockBilevel",
]


# ---------------------------------------------------------------------------
# quadratic
# ---------------------------------------------------------------------------
def _quad_oracles(d: dict[str, np.ndarray]) -> dict[str, Any]:
    """Oracles of f = x'Qx/2 + x'Dy + y'Py/2 + q'x + p'y, g = y'Ay/2 + x'Cy + a'y."""
    Q, D, P, q, p, A, C, a = (d[k] for k in ("Q", "D", "P", "q", "p", "A", "C", "a"))
    return dict(
        f=lambda x, y: float(0.5 * x @ Q @ x + x @ (D @ y) + 0.5 * y @ P @ y + q @ x + p @ y),
        g=lambda x, y: float(0.5 * y @ A @ y + x @ (C @ y) + a @ y),
        grad_f_x=lambda x, y: Q @ x + D @ y + q,
        grad_f_y=lambda x, y: D.T @ x + P @ y + p,
        grad_g_x=lambda x, y: C @ y,
        grad_g_y=lambda x, y: A @ y + C.T @ x + a,
        hvp_g_yy=lambda x, y, v: A @ v,
        jvp_g_xy=lambda x, y, v: C @ v,
    )


class _View:
    """A stochastic view: a bag of oracle callables."""

    def __init__(self, oracles: dict[str, Any]) -> None:
        self.__dict__.update(oracles)


class _QuadView:
    """Stochastic view of the quadratic bilevel problem: unbiased Gaussian perturbations.

    Upper level (std ``sf``): ``q, p`` (additive) and ``D`` (so that ``grad_x f`` depends on
    the sample at every point); lower level (std ``sg``): ``a`` (additive), ``C`` and ``A``
    (symmetric), so gradients, HVPs and JVPs are all noisy. Matrix entries have standard
    deviation ``s / sqrt(dim_y)`` (operator norm about ``2 s``); for ``A`` the scale is capped
    at ``mu_g / 4`` so that every sampled ``A`` stays positive definite (about ``>= mu_g / 2``).
    """

    def __init__(self, d, rng, sf, sg):
        self.Q, self.P, self.mu_g = d["Q"], d["P"], d["mu_g"]
        dx, dy = d["C"].shape
        if sf > 0:
            self.q = d["q"] + sf * rng.standard_normal(dx)
            self.p = d["p"] + sf * rng.standard_normal(dy)
            self.D = d["D"] + (sf / math.sqrt(dy)) * rng.standard_normal((dx, dy))
        else:
            self.q, self.p, self.D = d["q"], d["p"], d["D"]
        if sg > 0:
            self.a = d["a"] + sg * rng.standard_normal(dy)
            self.C = d["C"] + (sg / math.sqrt(dy)) * rng.standard_normal((dx, dy))
            self.A = d["A"] + _sym_noise(rng, dy, min(sg, self.mu_g / 4))
        else:
            self.a, self.C, self.A = d["a"], d["C"], d["A"]

    def f(self, x, y):
        return float(0.5 * x @ self.Q @ x + x @ (self.D @ y) + 0.5 * y @ self.P @ y + self.q @ x + self.p @ y)

    def g(self, x, y):
        return float(0.5 * y @ self.A @ y + x @ (self.C @ y) + self.a @ y)

    def grad_f_x(self, x, y):
        return self.Q @ x + self.D @ y + self.q

    def grad_f_y(self, x, y):
        return self.D.T @ x + self.P @ y + self.p

    def grad_g_x(self, x, y):
        return self.C @ y

    def grad_g_y(self, x, y):
        return self.A @ y + self.C.T @ x + self.a

    def hvp_g_yy(self, x, y, v):
        return self.A @ v

    def jvp_g_xy(self, x, y, v):
        return self.C @ v


def _sym_noise(rng, n, scale):
    E = rng.standard_normal((n, n)) * (scale / math.sqrt(2 * n))
    return E + E.T


def quadratic_bilevel(
    dim_x: int = 10,
    dim_y: int = 20,
    *,
    mu_g: float = 0.1,
    L_g: float = 1.0,
    coupling: float = 0.5,
    mu_F: float = 0.05,
    noise_f: float = 0.0,
    noise_g: float = 0.0,
    seed: int = 0,
) -> BilevelProblem:
    """Quadratic bilevel problem with closed-form ``y*(x)``, ``grad F`` and ``x*``.

    .. math::

        g(x, y) = \\tfrac12 y^T A y + x^T C y + a^T y, \\quad
        f(x, y) = \\tfrac12 x^T Q x + x^T D y + \\tfrac12 y^T P y + q^T x + p^T y,

    with ``A`` symmetric, spectrum log-spaced in ``[mu_g, L_g]`` (so ``mu_g`` and
    ``L_g`` are exact), ``||C||_2 = coupling``, and ``[[Q, D], [D^T, P]]``
    positive semidefinite plus ``mu_F I`` on the x block (so ``F`` is
    ``mu_F``-strongly convex). Then ``y*(x) = -A^{-1}(C^T x + a) = M x + m``,
    ``F(x) = f(x, Mx + m)`` is quadratic with Hessian
    ``H_F = Q + D M + M^T D^T + M^T P M`` and ``x* = -H_F^{-1} c``.

    ``noise_f``/``noise_g``: standard deviation of the (unbiased) Gaussian
    perturbation of the upper/lower data ``(D, q, p)``/``(A, C, a)`` in a
    stochastic view, divided by ``sqrt(batch)`` (see ``_QuadView``).

    Examples
    --------
    >>> import numpy as np
    >>> p = quadratic_bilevel(3, 4, seed=0)
    >>> np.testing.assert_allclose(p.hypergrad(p.x_star), 0, atol=1e-10)
    """
    dim_x = check_int(dim_x, "dim_x")
    dim_y = check_int(dim_y, "dim_y")
    mu_g = check_positive(mu_g, "mu_g")
    L_g = check_positive(L_g, "L_g")
    if L_g < mu_g:
        raise ValueError(f"L_g must be >= mu_g, got L_g={L_g}, mu_g={mu_g}")
    coupling = check_nonnegative(coupling, "coupling")
    mu_F = check_positive(mu_F, "mu_F")
    noise_f = check_nonnegative(noise_f, "noise_f")
    noise_g = check_nonnegative(noise_g, "noise_g")
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((dim_y, dim_y)))
    eig = np.geomspace(mu_g, L_g, dim_y)
    A = (U * eig) @ U.T
    A = 0.5 * (A + A.T)
    C = rng.standard_normal((dim_x, dim_y))
    C *= coupling / max(np.linalg.norm(C, 2), 1e-300)
    a = rng.standard_normal(dim_y)
    n = dim_x + dim_y
    G = rng.standard_normal((n, n)) / math.sqrt(n)
    S = G @ G.T
    S[:dim_x, :dim_x] += mu_F * np.eye(dim_x)
    Q, D, P = S[:dim_x, :dim_x], S[:dim_x, dim_x:], S[dim_x:, dim_x:]
    q = rng.standard_normal(dim_x)
    p = rng.standard_normal(dim_y)
    data = {"Q": Q, "D": D, "P": P, "q": q, "p": p, "A": A, "C": C, "a": a, "mu_g": mu_g}
    M = -np.linalg.solve(A, C.T)
    m = -np.linalg.solve(A, a)
    H_F = Q + D @ M + M.T @ D.T + M.T @ P @ M
    H_F = 0.5 * (H_F + H_F.T)
    c = D @ m + M.T @ (P @ m) + q + M.T @ p
    x_star = -np.linalg.solve(H_F, c)
    orc = _quad_oracles(data)

    def y_star(x):
        return M @ x + m

    def F(x):
        return orc["f"](x, y_star(x))

    def sample(rng, batch):
        bf, bg = (batch, batch) if np.isscalar(batch) else batch
        return _QuadView(data, rng, noise_f / math.sqrt(bf), noise_g / math.sqrt(bg))

    L_f = float(np.linalg.eigvalsh(S)[-1])
    return BilevelProblem(
        name=f"quadratic_bilevel(dx={dim_x}, dy={dim_y}, mu_g={mu_g:g})",
        dim_x=dim_x,
        dim_y=dim_y,
        x0=np.zeros(dim_x),
        y0=np.zeros(dim_y),
        **orc,
        sample=sample,
        y_star=y_star,
        hypergrad=lambda x: H_F @ x + c,
        F=F,
        x_star=x_star,
        F_star=F(x_star),
        hess_g_yy=lambda x, y: A,
        jac_g_xy=lambda x, y: C,
        constants={
            "mu_g": mu_g,
            "L_g": L_g,
            "L_gxy": coupling,
            "L_f": L_f,
            "mu_F": float(np.linalg.eigvalsh(H_F)[0]),
            "L_F": float(np.linalg.eigvalsh(H_F)[-1]),
        },
        params={"noise_f": noise_f, "noise_g": noise_g, "coupling": coupling},
        data={**data, "H_F": H_F, "c": c, "M": M, "m": m},
        seed=seed,
    )


# ---------------------------------------------------------------------------
# ridge
# ---------------------------------------------------------------------------
def _load_regression(dataset: str, n: int | None, d: int | None, seed: int):
    if dataset == "diabetes":
        from sklearn.datasets import load_diabetes

        X, t = load_diabetes(return_X_y=True)
    elif dataset == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        X, t = load_breast_cancer(return_X_y=True)
        t = np.where(t == 1, 1.0, -1.0)
    elif dataset == "synthetic":
        rng = np.random.default_rng(seed)
        n = 2 * (d or 100) if n is None else n
        d = 100 if d is None else d
        X = rng.standard_normal((n, d))
        w = rng.standard_normal(d) * (rng.random(d) < 0.3)
        t = X @ w + 0.5 * rng.standard_normal(n)
    else:
        raise ValueError(f"dataset must be 'diabetes', 'breast_cancer' or 'synthetic', got {dataset!r}")
    X = np.asarray(X, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    X = (X - X.mean(axis=0)) / np.maximum(X.std(axis=0), 1e-12)
    t = t - t.mean()
    if dataset == "diabetes":
        t = t / t.std()
    return X, t


def _split(n_total: int, frac_val: float, seed: int):
    perm = np.random.default_rng(seed + 1).permutation(n_total)
    n_val = max(1, int(round(frac_val * n_total)))
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def ridge_bilevel(
    dataset: str = "diabetes",
    *,
    per_feature: bool = False,
    n: int | None = None,
    d: int | None = None,
    frac_val: float = 0.5,
    seed: int = 0,
) -> BilevelProblem:
    """Ridge regularization weights learned on a validation set.

    .. math::

        g(x, w) = \\frac{1}{2n_t}\\|X_t w - t_t\\|^2 + \\frac12\\sum_j e^{x_j} w_j^2,\\quad
        f(x, w) = \\frac{1}{2n_v}\\|X_v w - t_v\\|^2,

    with one weight ``x`` (``per_feature=False``: ``e^x ||w||^2/2``) or one per
    feature. Closed forms: ``w*(x) = (X_t^T X_t/n_t + diag(e^x))^{-1} X_t^T t_t/n_t``
    and ``grad F(x) = -e^x * w* * v`` (per feature) or ``-e^x (w* . v)``
    (scalar), with ``v = H^{-1} X_v^T(X_v w* - t_v)/n_v``. For a scalar weight
    ``x*`` is found by a bounded Brent search of the exact ``F`` on
    ``[-12, 8]`` (through the eigendecomposition of ``X_t^T X_t``).

    Data: scikit-learn ``diabetes`` (442 x 10) or ``breast_cancer`` (569 x 30,
    labels +-1 regressed), features standardized, split by ``seed``; or
    ``synthetic`` Gaussian data of size ``n x d`` (for benchmarks).

    Examples
    --------
    >>> import numpy as np
    >>> p = ridge_bilevel("diabetes")
    >>> np.testing.assert_allclose(p.hypergrad(p.x_star), 0, atol=1e-7)
    """
    if not 0 < frac_val < 1:
        raise ValueError(f"frac_val must be in (0, 1), got {frac_val}")
    X, t = _load_regression(dataset, n, d, seed)
    tr, va = _split(X.shape[0], frac_val, seed)
    Xt, tt, Xv, tv = X[tr], t[tr], X[va], t[va]
    nt, nv = Xt.shape[0], Xv.shape[0]
    p_feat = X.shape[1]
    dense = p_feat <= 2000  # beyond, no d x d matrix is formed (Woodbury solves in sample space)
    G = Xt.T @ Xt / nt if dense else None
    bt = Xt.T @ tt / nt
    dim_x = p_feat if per_feature else 1

    def lam(x):
        return np.exp(x) if per_feature else np.full(p_feat, math.exp(float(x[0])))

    def H(x):
        return (G if dense else Xt.T @ Xt / nt) + np.diag(lam(x))

    def solve_H(x, rhs):
        if dense:
            return sla.solve(H(x), rhs, assume_a="pos")
        # (L + X'X/n)^-1 = L^-1 - L^-1 X' (n I + X L^-1 X')^-1 X L^-1
        li = 1.0 / lam(x)
        Z = (Xt * li) @ Xt.T + nt * np.eye(nt)
        r = li * rhs
        return r - li * (Xt.T @ sla.solve(Z, Xt @ r, assume_a="pos"))

    def f(x, w):
        r = Xv @ w - tv
        return float(0.5 * r @ r / nv)

    def g(x, w):
        r = Xt @ w - tt
        return float(0.5 * r @ r / nt + 0.5 * lam(x) @ (w * w))

    def grad_f_y(x, w):
        return Xv.T @ (Xv @ w - tv) / nv

    def grad_g_y(x, w):
        return Xt.T @ (Xt @ w - tt) / nt + lam(x) * w

    def _dx(vec_per_feature, x):
        # d/dx of sum_j lam_j(x) h_j: per feature lam*h, scalar lam . h
        return vec_per_feature if per_feature else np.array([float(np.sum(vec_per_feature))])

    def grad_g_x(x, w):
        return _dx(0.5 * lam(x) * w * w, x)

    def hvp_g_yy(x, w, v):
        return _gram_matvec(Xt, v) / nt + lam(x) * v

    def jvp_g_xy(x, w, v):
        return _dx(lam(x) * w * v, x)

    def y_star(x):
        return solve_H(x, bt)

    def hypergrad(x):
        w = y_star(x)
        v = solve_H(x, grad_f_y(x, w))
        return -jvp_g_xy(x, w, v)

    def F(x):
        return f(x, y_star(x))

    x_star = F_star = None
    if not per_feature and dense:
        ev, V = np.linalg.eigh(G)
        Vb = V.T @ bt

        def F_scalar(s):
            w = V @ (Vb / (ev + math.exp(s)))
            return f(None, w)

        opt = sopt.minimize_scalar(F_scalar, bounds=(-12.0, 8.0), method="bounded",
                                   options={"xatol": 1e-10})
        x_star = np.array([opt.x])
        F_star = F(x_star)

    def sample(rng, batch):
        bf, bg = (batch, batch) if np.isscalar(batch) else batch
        iv = rng.integers(0, nv, size=int(bf))
        it = rng.integers(0, nt, size=int(bg))
        Xvb, tvb, Xtb, ttb = Xv[iv], tv[iv], Xt[it], tt[it]
        return _View(dict(
            f=lambda x, w: float(0.5 * np.mean((Xvb @ w - tvb) ** 2)),
            g=lambda x, w: float(0.5 * np.mean((Xtb @ w - ttb) ** 2) + 0.5 * lam(x) @ (w * w)),
            grad_f_x=lambda x, w: np.zeros(dim_x),
            grad_f_y=lambda x, w: Xvb.T @ (Xvb @ w - tvb) / len(iv),
            grad_g_x=grad_g_x,
            grad_g_y=lambda x, w: Xtb.T @ (Xtb @ w - ttb) / len(it) + lam(x) * w,
            hvp_g_yy=lambda x, w, v: Xtb.T @ (Xtb @ v) / len(it) + lam(x) * v,
            jvp_g_xy=jvp_g_xy,
        ))

    eG = np.linalg.eigvalsh(G) if dense else np.array([0.0, _power_norm2(Xt) / nt])
    x0 = np.zeros(dim_x)
    return BilevelProblem(
        name=f"ridge_bilevel({dataset}, {'per-feature' if per_feature else 'scalar'}, n={nt}+{nv}, d={p_feat})",
        dim_x=dim_x,
        dim_y=p_feat,
        x0=x0,
        y0=np.zeros(p_feat),
        f=f,
        g=g,
        grad_f_x=lambda x, w: np.zeros(dim_x),
        grad_f_y=grad_f_y,
        grad_g_x=grad_g_x,
        grad_g_y=grad_g_y,
        hvp_g_yy=hvp_g_yy,
        jvp_g_xy=jvp_g_xy,
        sample=sample,
        y_star=y_star,
        hypergrad=hypergrad,
        F=F,
        x_star=x_star,
        F_star=F_star,
        hess_g_yy=lambda x, w: H(x),
        jac_g_xy=(lambda x, w: np.diag(lam(x) * w)) if per_feature else (lambda x, w: (lam(x) * w)[None, :]),
        constants={"mu_g_at_x0": float(eG[0] + 1.0), "L_g_at_x0": float(eG[-1] + 1.0),
                   "mu_G": float(eG[0]), "L_G": float(eG[-1])},
        params={"dataset": dataset, "per_feature": per_feature, "frac_val": frac_val},
        data={"X_train": Xt, "t_train": tt, "X_val": Xv, "t_val": tv},
        seed=seed,
    )


# ---------------------------------------------------------------------------
# logistic with per-feature regularization
# ---------------------------------------------------------------------------
_GRAM_BLOCK = 1 << 19  # float64 entries per row block (4 MiB): the block stays in cache for the 2nd pass


def _gram_matvec(A: np.ndarray, v: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``A^T diag(weights) A v`` in one pass over ``A`` (row blocks of about 4 MiB).

    Same result as ``A.T @ (weights * (A @ v))`` up to rounding, but each block of rows is
    read from memory once and reused from cache for the transposed product, which halves
    the memory traffic of the HVP when ``A`` does not fit in the cache (measured 1.3-1.7x
    faster single-threaded for 2000 x 3000 and 2000 x 10000 on the lab machine). Still
    matrix-free: no ``A^T A`` is formed.
    """
    n, d = A.shape
    rows = max(8, _GRAM_BLOCK // max(d, 1))
    if n <= rows:
        t = A @ v
        return (t if weights is None else weights * t) @ A
    out = np.zeros(d, dtype=np.result_type(A, v))
    for i in range(0, n, rows):
        Ab = A[i:i + rows]
        t = Ab @ v
        if weights is not None:
            t *= weights[i:i + rows]
        out += t @ Ab
    return out


def _power_norm2(A, iters: int = 50) -> float:
    """||A||_2^2 (exact SVD for small matrices, else power iteration on A^T A)."""
    if min(A.shape) <= 1000:
        return float(np.linalg.norm(A, 2) ** 2)
    v = np.random.default_rng(0).standard_normal(A.shape[1])
    lam = 0.0
    for _ in range(iters):
        u = A.T @ (A @ v)
        lam = float(np.linalg.norm(u))
        v = u / lam
    return lam


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _log1pexp(z):
    return np.logaddexp(0.0, z)


def _load_classification(dataset, n, d, seed):
    if dataset == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        X, t = load_breast_cancer(return_X_y=True)
        t = np.where(t == 1, 1.0, -1.0)
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    elif dataset == "mushrooms":
        from optlab.data import load_libsvm

        from ._paths import default_data_home

        Xs, t = load_libsvm("mushrooms", data_home=default_data_home(), download=False)
        X = np.asarray(Xs.todense(), dtype=np.float64)
        if n is not None and n < X.shape[0]:
            idx = np.sort(np.random.default_rng(seed).choice(X.shape[0], n, replace=False))
            X, t = X[idx], t[idx]
    elif dataset == "synthetic":
        rng = np.random.default_rng(seed)
        d = 50 if d is None else d
        n = 2 * d if n is None else n
        X = rng.standard_normal((n, d)) / math.sqrt(d) * 3.0
        w = rng.standard_normal(d) * (rng.random(d) < 0.2)
        t = np.where(X @ w + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)
    else:
        raise ValueError(f"dataset must be 'breast_cancer', 'mushrooms' or 'synthetic', got {dataset!r}")
    return np.asarray(X, dtype=np.float64), np.asarray(t, dtype=np.float64)


def logistic_bilevel(
    dataset: str = "breast_cancer",
    *,
    n: int | None = None,
    d: int | None = None,
    frac_val: float = 0.5,
    x_init: float = -3.0,
    seed: int = 0,
) -> BilevelProblem:
    """Per-feature L2 weights ``e^{x_j}`` of logistic regression, validation loss.

    .. math::

        g(x, w) = \\frac1{n_t}\\sum_{i} \\log(1 + e^{-t_i a_i^T w})
                  + \\frac12\\sum_j e^{x_j} w_j^2, \\quad
        f(x, w) = \\frac1{n_v}\\sum_{i} \\log(1 + e^{-t_i a_i^T w}).

    ``y_star`` by Newton's method to a gradient norm of 1e-13 (so the dense
    hypergradient through :func:`optlab.bilevel.base.exact_hypergrad_dense` is
    exact to about 1e-12). Data: ``breast_cancer`` (scikit-learn, 569 x 30,
    standardized), ``mushrooms`` (LIBSVM from ``../shared/data``, 8124 x 112),
    or ``synthetic`` (``n x d`` Gaussian, for benchmarks).
    """
    X, t = _load_classification(dataset, n, d, seed)
    tr, va = _split(X.shape[0], frac_val, seed)
    At, tt, Av, tv = X[tr], t[tr], X[va], t[va]
    nt, nv = At.shape[0], Av.shape[0]
    p_feat = X.shape[1]

    def loss(Amat, tvec, w):
        return float(np.mean(_log1pexp(-tvec * (Amat @ w))))

    def dloss(Amat, tvec, w):
        s = _sigmoid(-tvec * (Amat @ w))
        return Amat.T @ (-tvec * s) / Amat.shape[0]

    def f(x, w):
        return loss(Av, tv, w)

    def g(x, w):
        return loss(At, tt, w) + 0.5 * float(np.exp(x) @ (w * w))

    def grad_g_y(x, w):
        return dloss(At, tt, w) + np.exp(x) * w

    def hess_g(x, w):
        s = _sigmoid(At @ w)
        dw = s * (1 - s) / nt
        return (At.T * dw) @ At + np.diag(np.exp(x))

    cache: dict[str, Any] = {"w": None, "x": None}

    def _curv(x, w):
        # sigma'(a_i^T w) / n_t and e^x, cached for repeated HVPs at the same (x, w) (CG)
        if cache["w"] is not w or cache["x"] is not x:
            s = _sigmoid(At @ w)
            cache.update(w=w, x=x, dw=s * (1 - s) / nt, ex=np.exp(x))
        return cache["dw"], cache["ex"]

    def hvp_g_yy(x, w, v):
        dw, ex = _curv(x, w)
        return _gram_matvec(At, v, dw) + ex * v

    def y_star(x, tol=1e-13):
        w = np.zeros(p_feat)
        for _ in range(100):
            gr = grad_g_y(x, w)
            if np.linalg.norm(gr) <= tol:
                break
            step = sla.solve(hess_g(x, w), gr, assume_a="pos")
            w = w - step
        return w

    prob = BilevelProblem(
        name=f"logistic_bilevel({dataset}, n={nt}+{nv}, d={p_feat})",
        dim_x=p_feat,
        dim_y=p_feat,
        x0=np.full(p_feat, float(x_init)),
        y0=np.zeros(p_feat),
        f=f,
        g=g,
        grad_f_x=lambda x, w: np.zeros(p_feat),
        grad_f_y=lambda x, w: dloss(Av, tv, w),
        grad_g_x=lambda x, w: 0.5 * np.exp(x) * w * w,
        grad_g_y=grad_g_y,
        hvp_g_yy=hvp_g_yy,
        jvp_g_xy=lambda x, w, v: np.exp(x) * w * v,
        y_star=y_star,
        F=lambda x: f(x, y_star(x)),
        hess_g_yy=hess_g,
        jac_g_xy=lambda x, w: np.diag(np.exp(x) * w),
        constants={"L_loss": _power_norm2(At) / (4 * nt)},
        params={"dataset": dataset, "frac_val": frac_val},
        data={"X_train": At, "t_train": tt, "X_val": Av, "t_val": tv},
        seed=seed,
    )
    prob.hypergrad = lambda x: exact_hypergrad_dense(prob, x)
    return prob


# ---------------------------------------------------------------------------
# MNIST hyper-cleaning
# ---------------------------------------------------------------------------
def _softmax_rows(S):
    S = S - S.max(axis=1, keepdims=True)
    E = np.exp(S)
    return E / E.sum(axis=1, keepdims=True)


def hyper_cleaning(
    *,
    n_train: int = 2000,
    n_val: int = 1000,
    n_test: int = 2000,
    corruption: float = 0.3,
    pooling: int = 4,
    reg: float = 1e-2,
    seed: int = 0,
    data_home=None,
    images=None,
    labels=None,
) -> BilevelProblem:
    """Data hyper-cleaning on MNIST (F2SA's experiment, linear softmax model).

    The MNIST test images (10,000, from ``../shared/data`` via
    :func:`optlab.data.load_mnist`, no download) are split by ``seed`` into a
    training set whose labels are each replaced by a uniformly random *other*
    class with probability ``corruption``, a clean validation set and a clean
    test set. Features: ``pooling x pooling`` average pooling and a bias column.
    With per-sample weights ``sigma(x_i)`` (logistic sigmoid) and ``W`` the
    ``(p+1) x 10`` weights (``y = vec(W)``):

    .. math::

        g(x, W) = \\frac1{n_t}\\sum_i \\sigma(x_i)\\,\\ell(W; a_i, \\tilde b_i)
                  + \\frac{reg}{2}\\|W\\|^2, \\quad
        f(x, W) = \\frac1{n_v}\\sum_j \\ell(W; a_j, b_j),

    with ``l`` the softmax cross-entropy; ``g`` is ``reg``-strongly convex in
    ``W``. ``data["test_accuracy"](W)`` is the clean test accuracy and
    ``params["corrupted"]`` marks the corrupted training samples. ``y_star``
    runs L-BFGS to a gradient norm of 1e-10 (reference only). ``images`` and
    ``labels`` (``(n, 28, 28)`` uint8 and digits) may be given instead of the
    files (tests use this with synthetic digits).
    """
    if images is None or labels is None:
        from optlab.data import load_mnist

        from ._paths import default_data_home

        if data_home is None:
            data_home = default_data_home()
        images, labels = load_mnist("test", data_home=data_home, download=False)
    images = np.asarray(images)
    labels = np.asarray(labels).astype(np.int64)
    total = images.shape[0]
    if n_train + n_val + n_test > total:
        raise ValueError(f"n_train + n_val + n_test must be <= {total}")
    if not 0 <= corruption < 1:
        raise ValueError(f"corruption must be in [0, 1), got {corruption}")
    reg = check_positive(reg, "reg")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(total)
    m = 28 // pooling
    X = images.astype(np.float64).reshape(total, m, pooling, m, pooling).mean(axis=(2, 4))
    X = X.reshape(total, m * m) / 255.0
    X = np.hstack([X, np.ones((total, 1))])
    K = 10
    itr, iva, ite = perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:n_train + n_val + n_test]
    At, Av, Ate = X[itr], X[iva], X[ite]
    bt_clean, bv, bte = labels[itr], labels[iva], labels[ite]
    corrupted = rng.random(n_train) < corruption
    shift = rng.integers(1, K, size=n_train)
    bt = np.where(corrupted, (bt_clean + shift) % K, bt_clean)
    Yt, Yv = np.eye(K)[bt], np.eye(K)[bv]
    p1 = X.shape[1]
    dim_y = p1 * K

    def ce_rows(A, Y, W):
        S = A @ W
        Smax = S.max(axis=1, keepdims=True)
        lse = (Smax[:, 0] + np.log(np.exp(S - Smax).sum(axis=1)))
        return lse - (S * Y).sum(axis=1)

    def wts(x):
        return _sigmoid(x)

    def mk(At_, Yt_, Av_, Yv_, scale_x):
        nt_, nv_ = At_.shape[0], Av_.shape[0]

        def f(x, y):
            return float(np.mean(ce_rows(Av_, Yv_, y.reshape(p1, K))))

        def g(x, y):
            W = y.reshape(p1, K)
            return float(wts(x[scale_x]) @ ce_rows(At_, Yt_, W) / nt_ + 0.5 * reg * y @ y)

        def grad_f_y(x, y):
            W = y.reshape(p1, K)
            return (Av_.T @ (_softmax_rows(Av_ @ W) - Yv_) / nv_).ravel()

        def grad_g_y(x, y):
            W = y.reshape(p1, K)
            R = (_softmax_rows(At_ @ W) - Yt_) * wts(x[scale_x])[:, None]
            return (At_.T @ R / nt_).ravel() + reg * y

        def grad_g_x(x, y):
            W = y.reshape(p1, K)
            s = wts(x[scale_x])
            out = np.zeros_like(x)
            np.add.at(out, scale_x, s * (1 - s) * ce_rows(At_, Yt_, W) / nt_)
            return out

        def hvp_g_yy(x, y, v):
            W, V = y.reshape(p1, K), v.reshape(p1, K)
            P = _softmax_rows(At_ @ W)
            S = At_ @ V
            R = P * S - P * (P * S).sum(axis=1, keepdims=True)
            R *= wts(x[scale_x])[:, None]
            return (At_.T @ R / nt_).ravel() + reg * v

        def jvp_g_xy(x, y, v):
            W, V = y.reshape(p1, K), v.reshape(p1, K)
            P = _softmax_rows(At_ @ W)
            s = wts(x[scale_x])
            val = ((P - Yt_) * (At_ @ V)).sum(axis=1) * s * (1 - s) / nt_
            out = np.zeros_like(x)
            np.add.at(out, scale_x, val)
            return out

        return dict(f=f, g=g, grad_f_x=lambda x, y: np.zeros_like(x), grad_f_y=grad_f_y,
                    grad_g_x=grad_g_x, grad_g_y=grad_g_y, hvp_g_yy=hvp_g_yy, jvp_g_xy=jvp_g_xy)

    orc = mk(At, Yt, Av, Yv, np.arange(n_train))

    def y_star(x, y0=None, tol=1e-10):
        res = sopt.minimize(lambda y: orc["g"](x, y), np.zeros(dim_y) if y0 is None else y0,
                            jac=lambda y: orc["grad_g_y"](x, y), method="L-BFGS-B",
                            options={"maxiter": 5000, "gtol": tol, "ftol": 0.0})
        return res.x

    def test_accuracy(y):
        return float(np.mean(np.argmax(Ate @ y.reshape(p1, K), axis=1) == bte))

    def sample(rng, batch):
        bf, bg = (batch, batch) if np.isscalar(batch) else batch
        iv = rng.integers(0, n_val, size=int(bf))
        it = rng.integers(0, n_train, size=int(bg))
        # x-partials of the mini-batch mean are unbiased for the full mean's:
        # E[sigma'(x_i) l_i / |B| * #{i in B}] = sigma'(x_i) l_i / n_train
        v = mk(At[it], Yt[it], Av[iv], Yv[iv], it)
        return _View(v)

    prob = BilevelProblem(
        name=f"hyper_cleaning(mnist, n={n_train}/{n_val}/{n_test}, p={corruption:g}, d={dim_y})",
        dim_x=n_train,
        dim_y=dim_y,
        x0=np.zeros(n_train),
        y0=np.zeros(dim_y),
        **orc,
        sample=sample,
        y_star=y_star,
        F=lambda x: orc["f"](x, y_star(x)),
        metrics=lambda x, y: {"test_accuracy": test_accuracy(y), "val_loss": orc["f"](x, y)},
        constants={"mu_g": reg, "L_g": float(0.5 * np.linalg.norm(At, 2) ** 2 / n_train + reg),
                   "L_f": float(0.5 * np.linalg.norm(Av, 2) ** 2 / n_val)},
        params={"corruption": corruption, "pooling": pooling, "reg": reg,
                "corrupted": corrupted, "n_classes": K},
        data={"test_accuracy": test_accuracy, "X_test": Ate, "labels_test": bte},
        seed=seed,
    )
    return prob


# ---------------------------------------------------------------------------
# relaxed-smooth upper level (BO-REP)
# ---------------------------------------------------------------------------
def relaxed_smooth_bilevel(
    dim_x: int = 5,
    dim_y: int = 10,
    *,
    mu_g: float = 0.5,
    L_g: float = 2.0,
    scale: float = 1.0,
    noise: float = 0.0,
    x_init: float = 3.0,
    seed: int = 0,
) -> BilevelProblem:
    """Upper level with unbounded smoothness (``(L0, L1)``-smooth), quadratic lower level.

    .. math::

        f(x, y) = \\sum_j \\cosh(s x_j) / s^2 + \\tfrac12\\|y - b\\|^2,\\quad
        g(x, y) = \\tfrac12 y^T A y - x^T C y.

    ``cosh`` has ``|h''| <= s^2/s^2 (1) + s |h'|``: the Hessian of ``f`` in ``x``
    is not bounded but is bounded by ``L0 + L1 ||grad_x f||`` with
    ``L0 = 1, L1 = s`` (Zhang et al. 2020's relaxed smoothness, the class of
    Hao, Gong & Liu 2024, Assumption 1). ``y*(x) = A^{-1} C^T x``,
    ``grad F(x) = sinh(s x)/s + M^T (M x - b)`` with ``M = A^{-1} C^T``; ``F`` is
    strongly convex, ``x*`` by Newton. The default start ``x0 = x_init 1`` lies
    where ``f`` is steep (``cosh(3) ~ 10``). Stochastic views add Gaussian noise
    of standard deviation ``noise/sqrt(batch)`` to every oracle output (fresh
    per call).
    """
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((dim_y, dim_y)))
    A = (U * np.geomspace(mu_g, L_g, dim_y)) @ U.T
    A = 0.5 * (A + A.T)
    C = rng.standard_normal((dim_x, dim_y)) / math.sqrt(dim_y)
    b = rng.standard_normal(dim_y)
    M = np.linalg.solve(A, C.T)
    s = float(scale)

    orc = dict(
        f=lambda x, y: float(np.sum(np.cosh(s * x)) / s**2 + 0.5 * np.sum((y - b) ** 2)),
        g=lambda x, y: float(0.5 * y @ A @ y - x @ (C @ y)),
        grad_f_x=lambda x, y: np.sinh(s * x) / s,
        grad_f_y=lambda x, y: y - b,
        grad_g_x=lambda x, y: -(C @ y),
        grad_g_y=lambda x, y: A @ y - C.T @ x,
        hvp_g_yy=lambda x, y, v: A @ v,
        jvp_g_xy=lambda x, y, v: -(C @ v),
    )

    def hypergrad(x):
        return np.sinh(s * x) / s + M.T @ (M @ x - b)

    x = np.zeros(dim_x)
    for _ in range(100):
        gr = hypergrad(x)
        if np.linalg.norm(gr) < 1e-14:
            break
        Hm = np.diag(np.cosh(s * x)) + M.T @ M
        x = x - np.linalg.solve(Hm, gr)
    x_star = x

    def F(x):
        return orc["f"](x, M @ x)

    def sample(rng, batch):
        sd = noise / math.sqrt(float(batch if np.isscalar(batch) else batch[0]))

        def noisy(fn):
            return lambda *a: fn(*a) + sd * rng.standard_normal(np.shape(fn(*a)))

        v = {k: (noisy(fn) if k.startswith(("grad", "hvp", "jvp")) else fn) for k, fn in orc.items()}
        return _View(v)

    return BilevelProblem(
        name=f"relaxed_smooth_bilevel(dx={dim_x}, dy={dim_y}, s={s:g})",
        dim_x=dim_x,
        dim_y=dim_y,
        x0=np.full(dim_x, float(x_init)),
        y0=np.zeros(dim_y),
        **orc,
        sample=sample,
        y_star=lambda x: M @ x,
        hypergrad=hypergrad,
        F=F,
        x_star=x_star,
        F_star=F(x_star),
        hess_g_yy=lambda x, y: A,
        jac_g_xy=lambda x, y: -C,
        constants={"mu_g": mu_g, "L_g": L_g, "L0": 1.0, "L1": s, "L_gxy": float(np.linalg.norm(C, 2))},
        params={"noise": noise, "scale": s},
        data={"A": A, "C": C, "b": b, "M": M},
        seed=seed,
    )


# ---------------------------------------------------------------------------
# multi-block (MBBO)
# ---------------------------------------------------------------------------
class MultiBlockBilevel(BilevelProblem):
    """A :class:`BilevelProblem` with ``m`` lower-level blocks ``y = (y_1..y_m)``.

    Extra members: ``m``, ``dim_block``, ``block(i)`` (slice of block ``i`` in
    ``y``) and per-block stochastic oracles ``block_oracles(i, rng, batch)``
    returning an object with ``grad_f_x, grad_f_y, grad_g_y, hvp_g_yy, jvp_g_xy``
    acting on ``(x, y_i)`` for ``f_i, g_i`` (``F = (1/m) sum_i f_i``).
    """

    m: int = 1
    dim_block: int = 1
    block_oracles: Any = None

    def block(self, i: int) -> slice:
        return slice(i * self.dim_block, (i + 1) * self.dim_block)


def multiblock_bilevel(
    m: int = 20,
    dim_x: int = 5,
    dim_block: int = 5,
    *,
    mu_g: float = 0.5,
    L_g: float = 2.0,
    mu_x: float = 0.1,
    noise: float = 0.5,
    seed: int = 0,
) -> MultiBlockBilevel:
    """Multi-block bilevel problem: ``F(x) = (1/m) sum_i f_i(x, y_i*(x))``.

    .. math::

        g_i(x, y_i) = \\tfrac12 y_i^T A_i y_i - x^T C_i y_i,\\quad
        f_i(x, y_i) = \\tfrac12\\|y_i - b_i\\|^2 + \\tfrac{\\mu_x}2\\|x\\|^2,

    so ``y_i*(x) = A_i^{-1} C_i^T x = M_i x`` and ``F`` is quadratic with
    ``grad F(x) = mu_x x + (1/m) sum_i M_i^T (M_i x - b_i)`` and ``x*`` in closed
    form. As one bilevel problem, ``f = (1/m) sum f_i`` and ``g = sum g_i``
    (block-separable, ``mu_g``-strongly convex). Stochastic per-block oracles
    (``block_oracles(i, rng, B)``) perturb ``A_i, C_i, b_i`` by Gaussian noise of
    standard deviation ``noise/sqrt(B)`` (the setting of Hu et al., ICML 2023,
    with ``B`` samples per block).
    """
    m = check_int(m, "m")
    rng = np.random.default_rng(seed)
    As, Cs, bs, Ms = [], [], [], []
    for _ in range(m):
        U, _ = np.linalg.qr(rng.standard_normal((dim_block, dim_block)))
        Ai = (U * rng.uniform(mu_g, L_g, dim_block)) @ U.T
        Ai = 0.5 * (Ai + Ai.T)
        Ci = rng.standard_normal((dim_x, dim_block)) / math.sqrt(dim_block)
        bi = rng.standard_normal(dim_block)
        As.append(Ai)
        Cs.append(Ci)
        bs.append(bi)
        Ms.append(np.linalg.solve(Ai, Ci.T))
    H_F = mu_x * np.eye(dim_x) + sum(Mi.T @ Mi for Mi in Ms) / m
    c = -sum(Mi.T @ bi for Mi, bi in zip(Ms, bs, strict=True)) / m
    x_star = -np.linalg.solve(H_F, c)
    dy = m * dim_block

    def blocks(y):
        return y.reshape(m, dim_block)

    def f(x, y):
        Y = blocks(y)
        return float(sum(0.5 * np.sum((Y[i] - bs[i]) ** 2) for i in range(m)) / m + 0.5 * mu_x * x @ x)

    def g(x, y):
        Y = blocks(y)
        return float(sum(0.5 * Y[i] @ As[i] @ Y[i] - x @ (Cs[i] @ Y[i]) for i in range(m)))

    def grad_f_y(x, y):
        return (blocks(y) - np.array(bs)).ravel() / m

    def grad_g_y(x, y):
        Y = blocks(y)
        return np.concatenate([As[i] @ Y[i] - Cs[i].T @ x for i in range(m)])

    def grad_g_x(x, y):
        Y = blocks(y)
        return -sum(Cs[i] @ Y[i] for i in range(m))

    def hvp_g_yy(x, y, v):
        V = blocks(v)
        return np.concatenate([As[i] @ V[i] for i in range(m)])

    def jvp_g_xy(x, y, v):
        V = blocks(v)
        return -sum(Cs[i] @ V[i] for i in range(m))

    def y_star(x):
        return np.concatenate([Mi @ x for Mi in Ms])

    def block_oracles(i, rng, batch):
        sd = noise / math.sqrt(float(batch))
        Ai = As[i] + _sym_noise(rng, dim_block, sd) if sd > 0 else As[i]
        Ci = Cs[i] + rng.standard_normal(Cs[i].shape) * sd / math.sqrt(dim_block) if sd > 0 else Cs[i]
        bi = bs[i] + sd * rng.standard_normal(dim_block) if sd > 0 else bs[i]
        return _View(dict(
            grad_f_x=lambda x, yi: mu_x * x,
            grad_f_y=lambda x, yi: yi - bi,
            grad_g_y=lambda x, yi: Ai @ yi - Ci.T @ x,
            hvp_g_yy=lambda x, yi, v: Ai @ v,
            jvp_g_xy=lambda x, yi, v: -(Ci @ v),
        ))

    F = lambda x: f(x, y_star(x))  # noqa: E731
    prob = MultiBlockBilevel(
        name=f"multiblock_bilevel(m={m}, dx={dim_x}, dblock={dim_block})",
        dim_x=dim_x,
        dim_y=dy,
        x0=np.zeros(dim_x),
        y0=np.zeros(dy),
        f=f,
        g=g,
        grad_f_x=lambda x, y: mu_x * x,
        grad_f_y=grad_f_y,
        grad_g_x=grad_g_x,
        grad_g_y=grad_g_y,
        hvp_g_yy=hvp_g_yy,
        jvp_g_xy=jvp_g_xy,
        y_star=y_star,
        hypergrad=lambda x: H_F @ x + c,
        F=F,
        x_star=x_star,
        F_star=F(x_star),
        constants={"mu_g": mu_g, "L_g": L_g, "L_F": float(np.linalg.eigvalsh(H_F)[-1]),
                   "mu_F": float(np.linalg.eigvalsh(H_F)[0])},
        params={"noise": noise, "mu_x": mu_x},
        data={"A": As, "C": Cs, "b": bs, "H_F": H_F, "c": c},
        seed=seed,
    )
    prob.m = m
    prob.dim_block = dim_block
    prob.block_oracles = block_oracles
    return prob
