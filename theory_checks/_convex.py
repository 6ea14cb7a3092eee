r"""Shared pieces of the convex claim checks (``test_convex_*.py``) and their figures.

- running optlab's convex solvers for exactly ``N`` steps and reading the gaps
  :math:`f(x_k) - f_\star` (``k = 0..N``) and distances :math:`\|x_k - x_\star\|`;
- the worst-case instances behind the PEPit checks: the Drori-Teboulle Huber function
  for gradient descent (``problems.huber_worst_case``) and a one-dimensional Huber
  function whose threshold is optimized numerically for the accelerated method
  (:func:`agd_worst_case`);
- random members of the class :math:`\mathcal F_{0,L}` (convex, :math:`L`-smooth) with a
  known minimizer (:func:`random_smooth_convex`).

Nothing here asserts; the ``test_convex_*`` modules turn these measurements into
verdicts of the claims they register.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar

from optlab.convex import accelerated_gradient, gradient_descent
from optlab.result import Status
from problems import Problem, huber_worst_case

#: a tolerance no run reaches: the solvers then take exactly ``max_iter`` steps
NO_STOP = 1e-300


# ----------------------------------------------------------------------------- running
def run_gd(p: Problem, N: int, *, step: float | None = None, x0: np.ndarray | None = None):
    """optlab gradient descent (step ``1/p.L`` or ``step``) for exactly ``N`` steps."""
    x0 = p.x0 if x0 is None else x0
    kw = {"L": p.L} if step is None else {"step": step}
    return gradient_descent(p.value, p.grad, x0, tol=NO_STOP, max_iter=N, **kw)


def run_agd(p: Problem, N: int, *, x0: np.ndarray | None = None):
    """optlab accelerated gradient (``mu = 0``, FISTA momentum) for exactly ``N`` steps."""
    x0 = p.x0 if x0 is None else x0
    return accelerated_gradient(p.value, p.grad, x0, L=p.L, tol=NO_STOP, max_iter=N)


def gaps(res, f_star: float, N: int | None = None) -> np.ndarray:
    """``f(x_k) - f_star`` for ``k = 0..nit`` from a Result's history.

    With ``N``: exactly ``N + 1`` entries. A run that stopped before ``N`` steps because
    it hit an exact zero gradient (``Status.CONVERGED`` with ``tol = NO_STOP``, e.g. a
    1-D quadratic solved in one step) is padded with its last value: optlab returns that
    point as the answer. Any other early stop raises.
    """
    g = np.asarray(res.history["fun"], dtype=float) - float(f_star)
    if N is None or g.size == N + 1:
        return g
    if g.size < N + 1 and res.status == Status.CONVERGED:
        return np.concatenate([g, np.full(N + 1 - g.size, g[-1])])
    raise RuntimeError(f"run stopped after {res.nit} of {N} steps: {res.message}")


def distances_gd(p: Problem, N: int, *, step: float | None = None) -> np.ndarray:
    """``||x_k - x_star||`` for ``k = 0..N`` of optlab's gradient descent (via the callback).

    Padded with the last value when the run hit an exact zero gradient before ``N``."""
    out: list[float] = []

    def cb(r):
        out.append(float(np.linalg.norm(np.asarray(r.x) - p.x_star)))

    kw = {"L": p.L} if step is None else {"step": step}
    res = gradient_descent(p.value, p.grad, p.x0, tol=NO_STOP, max_iter=N, callback=cb, **kw)
    d = np.asarray(out)
    if res.nit == N and d.size == N + 1:
        return d
    if res.status == Status.CONVERGED and d.size == res.nit:  # exact zero gradient at x_nit
        # the callback is not called at the converged iterate: add it from res.x
        d = np.append(d, float(np.linalg.norm(np.asarray(res.x) - p.x_star)))
        return np.concatenate([d, np.full(N - res.nit, d[-1])])
    raise RuntimeError(f"gradient descent stopped early on {p.name}: {res.message}")


# ----------------------------------------------------------------------------- instances
def huber_1d(delta: float, *, L: float = 1.0, R: float = 1.0) -> Problem:
    r"""1-D Huber function :math:`f(x) = L(\delta|x| - \delta^2/2)` for :math:`|x| > \delta`,
    :math:`Lx^2/2` otherwise; convex, :math:`L`-smooth, :math:`x_\star = 0`, :math:`x_0 = R`."""

    def value(x):
        a = abs(float(x[0]))
        return 0.5 * L * a * a if a <= delta else L * (delta * a - 0.5 * delta * delta)

    def grad(x):
        v = float(x[0])
        return np.array([L * v if abs(v) <= delta else L * delta * math.copysign(1.0, v)])

    return Problem(
        name=f"huber_1d(delta={delta:.6g})",
        value=value,
        grad=grad,
        L=L,
        mu=0.0,
        x0=np.array([R]),
        x_star=np.zeros(1),
        f_star=0.0,
        params={"delta": delta, "L": L, "R": R},
    )


def gd_worst_case(N: int, *, L: float = 1.0, R: float = 1.0) -> float:
    """``f(x_N) - f*`` of optlab's GD on the Drori-Teboulle Huber instance built for ``N``."""
    p = huber_worst_case(N, L=L, R=R)
    res = run_gd(p, N)
    return float(gaps(res, p.f_star, N)[N])


def agd_worst_case(N: int, *, L: float = 1.0, R: float = 1.0, n_grid: int = 60) -> tuple[float, float]:
    r"""Worst ``f(x_N) - f*`` of optlab's accelerated gradient over the 1-D Huber family.

    The threshold :math:`\delta` of :func:`huber_1d` is chosen to maximize the gap after
    ``N`` steps: a log-spaced scan of ``n_grid`` thresholds in :math:`[10^{-4}R, R]`,
    then ``scipy.optimize.minimize_scalar`` (bounded) between the neighbours of the
    best scan point. Every evaluation is a run of optlab's solver. Returns
    ``(gap, delta)``.
    """

    def gap(delta: float) -> float:
        p = huber_1d(delta, L=L, R=R)
        return float(gaps(run_agd(p, N), 0.0, N)[N])

    grid = np.geomspace(1e-4 * R, R, n_grid)
    vals = np.array([gap(d) for d in grid])
    i = int(np.argmax(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, n_grid - 1)]
    opt = minimize_scalar(lambda d: -gap(d), bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-12 * R})  # fmt: skip
    if -opt.fun >= vals[i]:
        return float(-opt.fun), float(opt.x)
    return float(vals[i]), float(grid[i])


def random_smooth_convex(seed: int, *, L: float = 1.0, R: float = 1.0) -> Problem:
    r"""A random convex :math:`L`-smooth function with a known minimizer.

    :math:`f(x) = \sum_i w_i\, h_{\delta_i}(a_i^\top(x - x_\star))` with :math:`h_\delta`
    the Huber function of threshold :math:`\delta` (a quadratic term,
    for about a third of the terms), random dimension 1-8 and 1-12 terms, rescaled so
    that :math:`\lambda_{\max}(\sum_i w_i a_i a_i^\top) = L` (an upper bound on the
    curvature, so :math:`f \in \mathcal F_{0,L}`); :math:`f_\star = f(x_\star) = 0` and
    :math:`\|x_0 - x_\star\| = R`.
    """
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 9))
    m = int(rng.integers(1, 13))
    A = rng.standard_normal((m, d))
    w = rng.uniform(0.1, 1.0, m)
    # 1e100 stands for an infinite threshold (a quadratic term); 1e200 still fits a float
    delta = np.where(rng.uniform(size=m) < 1 / 3, 1e100, 10.0 ** rng.uniform(-3, 0.5, m))
    lam = float(np.linalg.eigvalsh((A.T * w) @ A)[-1])
    w = w * (L / lam)
    x_star = rng.standard_normal(d)
    u = rng.standard_normal(d)
    x0 = x_star + R * u / np.linalg.norm(u)

    def value(x):
        t = A @ (np.asarray(x) - x_star)
        a = np.abs(t)
        h = np.where(a <= delta, 0.5 * t * t, delta * a - 0.5 * delta * delta)
        return float(w @ h)

    def grad(x):
        t = A @ (np.asarray(x) - x_star)
        return A.T @ (w * np.clip(t, -delta, delta))

    return Problem(
        name=f"random_smooth_convex(seed={seed}, d={d}, m={m})",
        value=value,
        grad=grad,
        L=L,
        mu=0.0,
        x0=x0,
        x_star=x_star,
        f_star=0.0,
        seed=seed,
        params={"d": d, "m": m, "R": R},
    )


def lasso_diabetes(lam_ratio: float = 0.05) -> Problem:
    r"""Lasso on scikit-learn's diabetes data (442 x 10, real design, bundled offline).

    :math:`F(x) = \|Ax - b\|^2/(2n) + \lambda\|x\|_1` with the standardized features
    (unit column norms rescaled to unit variance) and centred target scaled to unit
    variance; :math:`\lambda = ` ``lam_ratio`` :math:`\cdot\lambda_{\max}`,
    :math:`\lambda_{\max} = \|A^\top b\|_\infty/n`. :math:`F_\star` from cvxpy + Clarabel
    (tolerances 1e-12), polished by solving the KKT system on the support; the polish is
    accepted only when it keeps the sign pattern and the off-support KKT conditions
    (then :math:`x_\star` is exact to rounding). ``x0 = 0``.
    """
    import cvxpy as cp
    from sklearn.datasets import load_diabetes

    A, b = load_diabetes(return_X_y=True)
    A = (A - A.mean(0)) / A.std(0)
    b = (b - b.mean()) / b.std()
    n, d = A.shape
    lam = lam_ratio * float(np.abs(A.T @ b).max() / n)
    x = cp.Variable(d)
    prob = cp.Problem(cp.Minimize(cp.sum_squares(A @ x - b) / (2 * n) + lam * cp.norm1(x)))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    xs = np.asarray(x.value, dtype=float)
    S = np.flatnonzero(np.abs(xs) > 1e-7 * max(1.0, np.abs(xs).max()))
    s = np.sign(xs[S])
    cand = np.zeros(d)
    cand[S] = np.linalg.solve(A[:, S].T @ A[:, S] / n, A[:, S].T @ b / n - lam * s)
    c = A.T @ (A @ cand - b) / n
    off = np.setdiff1d(np.arange(d), S)
    polished = bool(np.all(np.sign(cand[S]) == s) and (off.size == 0 or np.abs(c[off]).max() <= lam * (1 + 1e-9)))
    if polished:
        xs = cand
    G = A.T @ A / n
    L = float(np.linalg.eigvalsh(G)[-1])

    def value(x):
        r = A @ np.asarray(x) - b
        return float(r @ r / (2 * n))

    def grad(x):
        return A.T @ (A @ np.asarray(x) - b) / n

    def g(x):
        return lam * float(np.abs(np.asarray(x)).sum())

    def prox(v, step):
        v = np.asarray(v, dtype=float)
        return np.sign(v) * np.maximum(np.abs(v) - step * lam, 0.0)

    return Problem(
        name=f"lasso_diabetes(lam={lam:.4g})",
        value=value,
        grad=grad,
        g=g,
        prox=prox,
        L=L,
        mu=float(np.linalg.eigvalsh(G)[0]),
        x0=np.zeros(d),
        x_star=xs,
        f_star=value(xs) + g(xs),
        params={"lam": lam, "lam_ratio": lam_ratio, "polished": polished, "n": n, "d": d},
        data={"A": A, "b": b},
    )


def logspectrum_quadratic_sum(
    *, J: int = 30, n: int = 64, lam_min: float = 1e-6, noise: float = 0.3, R: float = 1.0, seed: int = 0
) -> Problem:
    r"""A finite-sum quadratic whose spectrum covers every scale evenly (SGD's 1/sqrt(k) instance).

    :math:`f(x) = \frac1n\sum_i f_i(x)`, :math:`f_i(x) = \frac12\sum_j \lambda_j (x_j -
    \xi_{ij})^2` with :math:`\lambda_j` log-uniform in :math:`[\lambda_{\min}, 1]` (``J``
    values), :math:`\xi_{ij}` Gaussian of standard deviation ``noise`` centred over
    :math:`i` (so :math:`x_\star = 0`, :math:`f_\star = f(0)`, and the stochastic gradients
    are noisy at :math:`x_\star`), and :math:`x_0 - x_\star` spread evenly over the
    eigen-directions, :math:`\|x_0 - x_\star\| = R`.

    Why this instance: averaged SGD with steps :math:`\gamma/\sqrt{t+1}` damps the error
    along :math:`\lambda` once :math:`\lambda\gamma\sqrt k \gtrsim 1`, so at iteration
    :math:`k` the directions with :math:`\lambda \approx 1/(\gamma\sqrt k)` dominate
    :math:`f(\bar x_k) - f_\star` and contribute :math:`\approx \lambda \|x_0-x_\star\|^2/J`:
    with one direction per scale the gap decays exactly like :math:`k^{-1/2}` while
    :math:`1/(\gamma\sqrt k)` lies inside the spectrum. A problem with a bounded condition
    number would instead show the faster asymptotic rate of strongly convex problems.
    """
    rng = np.random.default_rng(seed)
    lam = np.geomspace(1.0, lam_min, J)
    xi = noise * rng.standard_normal((n, J))
    xi -= xi.mean(axis=0)
    const = 0.5 * float(np.mean(xi**2, axis=0) @ lam)

    def value(x):
        x = np.asarray(x)
        return 0.5 * float(lam @ (x * x)) + const

    def grad(x):
        return lam * np.asarray(x)

    def grad_i(x, idx):
        idx = np.atleast_1d(np.asarray(idx))
        return lam * (np.asarray(x) - xi[idx].mean(axis=0))

    x0 = np.full(J, R / np.sqrt(J))
    return Problem(
        name=f"logspectrum_quadratic_sum(J={J}, n={n}, lam_min={lam_min:g}, noise={noise:g})",
        value=value,
        grad=grad,
        L=1.0,
        mu=lam_min,
        x0=x0,
        x_star=np.zeros(J),
        f_star=const,
        n_samples=n,
        grad_i=grad_i,
        L_max=float(lam.max()),  # each f_i has Hessian diag(lam)
        seed=seed,
        params={"J": J, "n": n, "lam_min": lam_min, "noise": noise, "R": R},
    )
