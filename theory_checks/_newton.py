r"""Shared pieces of the second-order claim checks (``test_newton_*.py``) and their figures.

- the arithmetic-cost sweep of the lazy-Hessian methods over the update period ``m``
  (:func:`cost_run`, :func:`cost_sweep`, :func:`gain_summary`) on synthetic logistic
  regression, with the regularization constant of the theory (:math:`M = m L_H`,
  :func:`logistic_hess_lipschitz`) or the adaptive search;
- the *ramp* family (:func:`ramp`): functions of one Hessian-Lipschitz class on which
  cubic Newton needs :math:`\Theta(\varepsilon^{-3/2})` iterations, the exponent of the
  worst-case bound;
- runs of lazy cubic Newton from perturbed saddle points (:func:`saddle_starts`,
  :func:`sosp_runs`);
- the phase-map Q-order of lazy regularized Newton (:func:`phase_order`);
- the 1-D arctan-Huber instance of the damped Newton O(k^-3) phase
  (:func:`atan_huber`, :func:`damped_global_phase`);
- global linear rates of gradient-regularized Newton with approximate Hessians
  (:func:`approx_rate`).

Nothing here asserts; the ``test_newton_*`` modules turn these measurements into
verdicts of the claims they register.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from optlab.newton import damped_newton, lazy_cubic_newton, lazy_regularized_newton
from optlab.rates import convergence_order, linear_rate, scaling_exponent, sublinear_order
from problems import Problem, logistic_synthetic

#: max |l'''| of the logistic loss l(t) = log(1 + e^-t) (attained at sigma = 1/2 - sqrt(3)/6)
LOGISTIC_THIRD = 1.0 / (6.0 * math.sqrt(3.0))

# ----------------------------------------------------------------------------- cost sweep
#: the cost-scaling instance: logistic_synthetic(n = N_FACTOR d, d, lam = COST_LAM, seed 0)
N_FACTOR = 2
COST_LAM = 0.1
COST_TOL = 1e-8


def logistic_hess_lipschitz(p: Problem) -> float:
    r"""A Lipschitz constant of :math:`\nabla^2 f` (spectral norm) for logistic regression.

    :math:`\nabla^2 f(x) - \nabla^2 f(z) = \frac1n\sum_i (\ell''(t_i) - \ell''(s_i))
    a_i a_i^\top` with :math:`|\ell''(t) - \ell''(s)| \le c_3 |t - s|`,
    :math:`c_3 = \max|\ell'''| = 1/(6\sqrt3)` and :math:`|t_i - s_i| \le \|a_i\|\|x - z\|`,
    so :math:`L_H = c_3 \min(\max_i\|a_i\|\,\|A\|_2^2/n,\ \frac1n\sum_i\|a_i\|^3)`.
    :math:`\|A\|_2^2 = 4n(L - \lambda)` from the problem's ``L``.
    """
    A = p.data["A"]
    n = A.shape[0]
    if sp.issparse(A):
        rows = np.sqrt(np.asarray(A.multiply(A).sum(axis=1)).ravel())
    else:
        rows = np.sqrt(np.einsum("ij,ij->i", A, A))
    norm_sq = 4.0 * n * (p.L - p.params["lam"])
    return LOGISTIC_THIRD * min(float(rows.max()) * norm_sq / n, float(np.mean(rows**3)))


def cost_problem(d: int, *, lam: float = COST_LAM, n_factor: int = N_FACTOR, seed: int = 0) -> Problem:
    """The cost-sweep instance at dimension ``d`` (``n = n_factor d`` samples)."""
    return logistic_synthetic(n_factor * d, d, lam=lam, seed=seed)


def cost_ms(d: int, *, sqrt_d: bool = False) -> list[int]:
    """The grid of update periods: 1, d/4, d/2, d, 2d (and about sqrt(d) with ``sqrt_d``)."""
    ms = {1, max(1, d // 4), max(1, d // 2), d, 2 * d}
    if sqrt_d:
        ms.add(max(1, round(math.sqrt(d))))
    return sorted(ms)


def cost_run(
    p: Problem,
    m: int,
    *,
    mode: str = "theory",
    method: str = "regularized",
    tol: float = COST_TOL,
    max_iter: int = 100_000,
    L_H: float | None = None,
    timed: bool = False,
) -> dict:
    r"""One lazy run to ``||grad|| <= tol``: operation counts and the cost of the paper's model.

    ``mode="theory"``: fixed :math:`M = m L_H` (the theory's :math:`M \propto mL`);
    ``mode="adaptive"``: ``M=None`` (the solver's adaptive search). The cost model is
    the solver's ``Result.cost`` with ``grad_cost = n d`` (a gradient of the logistic
    loss costs one pass over the ``n x d`` data; a Hessian ``d`` gradients, a
    factorization ``d^3``, a lazy step ``d^2``). ``timed``: also the wall-clock time of
    this run (``record=False``, so no function values are computed for a history).
    """
    n, d = p.data["A"].shape
    solver = lazy_regularized_newton if method == "regularized" else lazy_cubic_newton
    if mode == "theory":
        M = m * (logistic_hess_lipschitz(p) if L_H is None else L_H)
    elif mode == "adaptive":
        M = None
    else:
        raise ValueError(f"mode must be 'theory' or 'adaptive', got {mode!r}")
    kw = dict(m=m, M=M, tol=tol, max_iter=max_iter, grad_cost=float(n * d))
    t0 = time.perf_counter()
    res = solver(p.value, p.grad, p.hess, p.x0, record=False, **kw)
    seconds = time.perf_counter() - t0
    out = {
        "d": d,
        "n": n,
        "m": m,
        "M": M if M is not None else float(res.M),
        "cost": float(res.cost),
        "nit": int(res.nit),
        "njev": int(res.njev),
        "nhev": int(res.nhev),
        "n_factorizations": int(res.n_factorizations),
        "n_solves": int(res.n_solves),
        "success": bool(res.success),
        "message": str(res.message),
    }
    if timed:
        out["seconds"] = seconds
    return out


def gain_summary(rows: list[dict]) -> dict:
    """Per dimension: the cost at m = 1, the argmin m over the grid, the gain cost(1)/min cost.

    ``rows``: :func:`cost_run` records (one ``mode``). Returns ``{d: {...}}``.
    """
    out = {}
    for d in sorted({r["d"] for r in rows}):
        rs = {r["m"]: r for r in rows if r["d"] == d}
        if 1 not in rs:
            raise ValueError(f"d={d}: the sweep has no m = 1 run")
        best = min(rs, key=lambda m: rs[m]["cost"])
        out[d] = {
            "cost_m1": rs[1]["cost"],
            "best_m": best,
            "best_cost": rs[best]["cost"],
            "gain": rs[1]["cost"] / rs[best]["cost"],
            "gain_m_d": rs[1]["cost"] / rs[d]["cost"] if d in rs else math.nan,
            "log2_best_m_over_d": math.log2(best / d),
            "nit": {m: r["nit"] for m, r in sorted(rs.items())},
            "cost_over_d3": {m: r["cost"] / d**3 for m, r in sorted(rs.items())},
            "all_converged": all(r["success"] for r in rs.values()),
        }
    return out


def gain_exponent(summary: dict) -> dict:
    """Fitted exponent of gain ~ c d^a over the dimensions of a :func:`gain_summary`."""
    ds = np.array(sorted(summary), dtype=float)
    gains = np.array([summary[int(d)]["gain"] for d in ds])
    fit = scaling_exponent(ds, gains)
    return {"exponent": fit.value, "r2": fit.r2, "c": fit.extra.get("c"), "d": ds.tolist(),
            "gain": gains.tolist()}


# ----------------------------------------------------------------------------- ramp family
#: max |psi'''| of psi(t) = sqrt(1 + t^2) (at t = 1/2): 3 t (1 + t^2)^(-5/2) = 1.5 / 1.25^2.5
PSI_THIRD = 1.5 / 1.25**2.5


def ramp(eps: float, *, d: int = 4, T: float = 10.0, seed: int = 0) -> Problem:
    r"""A member of the class where cubic Newton needs :math:`\Theta(\varepsilon^{-3/2})` steps.

    .. math:: f_\varepsilon(x) = \psi(b\, u^\top x) - 1 + \tfrac12 \sum_{j} c_j (p_j^\top x)^2,
       \qquad \psi(t) = \sqrt{1 + t^2},\quad b = 2\varepsilon,

    with :math:`(u, p_1, \dots, p_{d-1})` a random orthonormal basis and
    :math:`c_j \in [1, 2]`. Started at :math:`x_0 = (T/b) u + \sum_j p_j`, the gradient
    along :math:`u` is :math:`b\,\psi'(t) \in [\varepsilon, 2\varepsilon)` on the whole
    ramp :math:`t = b u^\top x \in [1/\sqrt3, T]`, so the test
    :math:`\|\nabla f\| \le \varepsilon` is met only once :math:`t < 1/\sqrt 3`, while
    :math:`f(x_0) - f^\star = \sqrt{1 + T^2} - 1 + \sum_j c_j/2` does not depend on
    :math:`\varepsilon` and the Hessian's Lipschitz constant
    :math:`L_H = b^3 \max|\psi'''|` (``PSI_THIRD``) decreases with it. Every member with
    :math:`\varepsilon \le \varepsilon_{\max}` thus lies in one class
    :math:`\{L_H \le 8\,\mathrm{PSI\_THIRD}\,\varepsilon_{\max}^3,\ f(x_0) - f^\star \le
    \Delta\}`. A cubic step with a fixed :math:`M` moves along the ramp by
    :math:`\approx \sqrt{2 b \psi'/M}` (the model's curvature :math:`b^2\psi''` is
    :math:`O(b^{3/2})` relative to :math:`M\|h\|/2`), so crossing it takes
    :math:`\approx b^{-3/2}\sqrt{M/2}\int dt/\sqrt{\psi'(t)} \propto \varepsilon^{-3/2}`
    iterations: the exponent of the worst-case bound :math:`O(\sqrt{M}\,\Delta\,
    \varepsilon^{-3/2})` is attained (the idea of the lower-bound constructions for
    cubic regularization: a long path on which the gradient stays of order
    :math:`\varepsilon`; Cartis, Gould & Toint 2010).
    """
    b = 2.0 * eps
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    u, P = Q[:, 0], Q[:, 1:]
    c = np.linspace(1.0, 2.0, d - 1)

    def value(x):
        t = b * float(u @ x)
        z = P.T @ x
        return float(math.sqrt(1.0 + t * t) - 1.0 + 0.5 * np.sum(c * z * z))

    def grad(x):
        t = b * float(u @ x)
        return (b * t / math.sqrt(1.0 + t * t)) * u + P @ (c * (P.T @ x))

    H0 = (P * c) @ P.T
    uu = np.outer(u, u)

    def hess(x):
        t = b * float(u @ x)
        H = H0 + (b * b / (1.0 + t * t) ** 1.5) * uu
        return 0.5 * (H + H.T)

    return Problem(
        name=f"ramp(eps={eps:g}, d={d}, T={T:g})",
        value=value,
        grad=grad,
        hess=hess,
        L=float(c.max()) + b * b,
        mu=0.0,
        x0=(T / b) * u + P @ np.ones(d - 1),
        x_star=np.zeros(d),
        f_star=0.0,
        seed=seed,
        params={"eps": eps, "b": b, "T": T, "hess_lipschitz": PSI_THIRD * b**3},
    )


def ramp_run(eps: float, *, eps_max: float, d: int = 4, m: int | None = None) -> dict:
    r"""Lazy cubic Newton (``m = d``, fixed :math:`M = m L_{\rm class}`, :math:`L_{\rm class}`
    the Hessian-Lipschitz constant of the member ``eps_max``, the largest of the family) on
    :func:`ramp` ``(eps)`` to ``||grad|| <= eps``."""
    m = d if m is None else m
    M = m * PSI_THIRD * (2.0 * eps_max) ** 3
    p = ramp(eps, d=d)
    r = lazy_cubic_newton(p.value, p.grad, p.hess, p.x0, m=m, M=M, tol=eps, max_iter=10**7,
                          record=False)  # fmt: skip
    return {"eps": eps, "nit": int(r.nit), "success": bool(r.success), "M": M, "m": m}


def ramp_iterations(epss, *, d: int = 4, m: int | None = None) -> dict:
    """:func:`ramp_run` for each ``eps`` (one ``M`` for the family: ``eps_max = max(epss)``) and
    the fitted exponent of ``nit`` against ``1/eps``."""
    epss = sorted(float(e) for e in epss)
    runs = [ramp_run(e, eps_max=max(epss), d=d, m=m) for e in epss]
    its = [r["nit"] for r in runs]
    fit = scaling_exponent(1.0 / np.array(epss), np.array(its, dtype=float))
    return {"eps": epss, "nit": its, "converged": [r["success"] for r in runs], "M": runs[0]["M"],
            "m": runs[0]["m"], "exponent": fit.value, "r2": fit.r2}


# ----------------------------------------------------------------------------- saddles
def saddle_starts(p: Problem, *, n_saddles: int = 2, delta: float = 1e-3, seed: int = 0) -> dict:
    """``{"x0": p.x0, "saddle<i>": saddle_i + delta * u_i}`` for the first verified saddles
    (``u_i`` a random unit vector, seeded)."""
    rng = np.random.default_rng(seed)
    starts = {"x0": np.asarray(p.x0, dtype=float)}
    for i, s in enumerate(p.params.get("saddles", [])[:n_saddles]):
        u = rng.standard_normal(p.dim)
        starts[f"saddle{i}"] = np.asarray(s["x"], dtype=float) + delta * u / np.linalg.norm(u)
    return starts


def sosp_runs(p: Problem, epss, *, starts: dict | None = None, m: int | None = None) -> list[dict]:
    r"""Lazy cubic Newton (``m = d``, :math:`M = m L_H`, ``L_H = p.params["hess_lipschitz"]``)
    from each start to each ``eps``: iterations, the output's gradient norm and
    :math:`\lambda_{\min}(\nabla^2 f)`, and :math:`\max(0, -\lambda_{\min})/\sqrt{M\varepsilon}`.
    Runs that take no step (the start already meets the test) are marked ``stepped=False``."""
    starts = saddle_starts(p) if starts is None else starts
    m = p.dim if m is None else m
    M = m * float(p.params["hess_lipschitz"])
    out = []
    for name, x0 in starts.items():
        for eps in sorted(epss, reverse=True):
            r = lazy_cubic_newton(p.value, p.grad, p.hess, x0, m=m, M=M, tol=eps, max_iter=10**6,
                                  record=False)  # fmt: skip
            lam_min = float(np.linalg.eigvalsh(p.hess(np.asarray(r.x)))[0])
            out.append({
                "problem": p.name, "start": name, "eps": eps, "m": m, "M": M,
                "nit": int(r.nit), "success": bool(r.success), "stepped": int(r.nit) >= 1,
                "grad_norm": float(np.linalg.norm(p.grad(np.asarray(r.x)))),
                "lambda_min": lam_min, "fun": float(r.fun),
                "ratio": max(0.0, -lam_min) / math.sqrt(M * eps),
            })
    return out


def iteration_exponents(runs: list[dict]) -> dict:
    """Fitted exponent of nit vs 1/eps per (problem, start), over the runs that stepped."""
    out = {}
    for key in sorted({(r["problem"], r["start"]) for r in runs}):
        rs = [r for r in runs if (r["problem"], r["start"]) == key and r["stepped"]]
        if len(rs) < 3:
            continue
        e = np.array([r["eps"] for r in rs])
        n = np.array([max(r["nit"], 1) for r in rs], dtype=float)
        out[f"{key[0]} from {key[1]}"] = scaling_exponent(1.0 / e, n).value
    return out


# ----------------------------------------------------------------------------- local rate
def phase_order(p: Problem, m: int, *, x0=None, tol: float = 1e-14, tail: int = 3) -> dict:
    r"""Q-order of the phase map :math:`x_{jm} \mapsto x_{(j+1)m}` of lazy regularized Newton
    (adaptive ``M``) in the local region.

    Errors :math:`e_j = \|x_{jm} - x_\star\|` at the snapshot iterates (via the callback),
    then :func:`optlab.rates.convergence_order` over the last ``tail`` of them above the
    floor :math:`10^{-12}(1 + \|x_\star\|)` (``tail = 3``: the classical three-point
    estimate, two phase ratios)."""
    x0 = p.x0 if x0 is None else x0
    xs: list[np.ndarray] = []
    res = lazy_regularized_newton(p.value, p.grad, p.hess, x0, m=m, tol=tol, max_iter=20_000,
                                  callback=lambda r: xs.append(np.array(r.x)))  # fmt: skip
    if not xs or not np.array_equal(xs[-1], np.asarray(res.x)):
        xs.append(np.asarray(res.x))
    e = np.array([np.linalg.norm(x - p.x_star) for x in xs])
    floor = 1e-12 * (1.0 + float(np.linalg.norm(p.x_star)))
    ph = e[::m]
    try:
        fit = convergence_order(ph, floor=floor, tail=tail)
        order, superlinear = fit.value, bool(fit.extra["superlinear"])
    except ValueError:  # fewer than 3 snapshot errors above the floor: no order measured
        order, superlinear = math.nan, False
    return {"m": m, "order": order, "superlinear": superlinear,
            "nit": int(res.nit), "nhev": int(res.nhev), "success": bool(res.success),
            "phase_errors": [float(v) for v in ph if v > floor][-5:],
            "final_grad_norm": float(res.history["grad_norm"][-1])}


# ----------------------------------------------------------------------------- damped Newton
def atan_huber(mu: float = 1e-5, x0: float = 1e3) -> Problem:
    r"""1-D :math:`f(x) = x\arctan x - \tfrac12\log(1 + x^2) + \tfrac\mu2 x^2`, :math:`x^\star = 0`.

    :math:`f'' = 1/(1 + x^2) + \mu`; the third derivative is :math:`M`-Lipschitz in the
    local norm with :math:`M = 2/\mu^2` (``q = 4``; certified by the damped-Newton
    solver's author, ``tests/test_damped_newton.py``). For :math:`1 \ll |x| \ll
    \mu^{-1/2}` the function is nearly linear, :math:`f \approx \frac\pi2|x|`, the RN step
    is :math:`\alpha_k \approx 1/\theta_k`, :math:`\theta_k = (9M)^{1/3}(g_k^*)^{2/3}`,
    :math:`g_k^* \approx \frac\pi2|x_k|`, and the Newton step :math:`\approx
    \frac\pi2 x_k^2`, so :math:`|x_{k+1}| \approx |x_k| - c|x_k|^{4/3}`: :math:`|x_k| \propto
    (k + k_0)^{-3}` and :math:`f(x_k) - f^\star \propto k^{-3}` (Theorem 4's order).
    """
    def value(x):
        return float(np.sum(x * np.arctan(x) - 0.5 * np.log1p(x**2) + 0.5 * mu * x**2))

    def grad(x):
        return np.arctan(x) + mu * x

    def hess(x):
        return np.reshape(1.0 / (1.0 + x**2) + mu, (1, 1))

    return Problem(
        name=f"atan_huber(mu={mu:g}, x0={x0:g})",
        value=value, grad=grad, hess=hess, L=1.0 + mu, mu=mu, x0=np.array([float(x0)]),
        x_star=np.zeros(1), f_star=0.0, params={"M": 2.0 / mu**2, "q": 4.0},
    )


#: the asymptotic regime of atan_huber: 1/|x| <= 0.1 and mu x^2 <= 0.1
WINDOW_LO = 10.0
WINDOW_MU_X2 = 0.1


def damped_global_phase(mu: float = 1e-5, x0: float = 1e3, *, full_run: bool = False) -> dict:
    r"""RN damped Newton on :func:`atan_huber`: the log-log slope of :math:`f(x_k) - f^\star`
    over the window :math:`10 \le |x_k| \le (0.1/\mu)^{1/2}` (the regime where both
    corrections to the linear model, :math:`1/|x|` and :math:`\mu x^2`, are at most 10%),
    fitted by :func:`optlab.rates.sublinear_order` on ``(k, gap_k)``; plus, for the
    record, the slopes of other windows and Theorem 4's bound (``gamma = 1`` assumed).
    Stops once :math:`|x_k| < 3` unless ``full_run``."""
    p = atan_huber(mu, x0)
    M = p.params["M"]
    xs: list[float] = []
    stop_at = 3.0

    def cb(r):
        xs.append(float(np.asarray(r.x)[0]))
        return (not full_run) and abs(xs[-1]) < stop_at

    res = damped_newton(p.value, p.grad, p.hess, p.x0, M=M, q=4.0, tol=1e-10, max_iter=500_000,
                        callback=cb)  # fmt: skip
    h = res.history
    gap = np.asarray(h["fun"], dtype=float)[: len(xs)]
    k = np.asarray(h["iter"], dtype=float)[: len(xs)]
    ax = np.abs(np.array(xs))
    hi = math.sqrt(WINDOW_MU_X2 / mu)

    def window_slope(lo, up):
        idx = np.flatnonzero((ax >= lo) & (ax <= up) & (k >= 1))
        if idx.size < 3:
            return None
        fit = sublinear_order(gap[idx], k[idx], skip=0, floor=0.0)
        return {"p": fit.value, "r2": fit.r2, "k": [int(k[idx[0]]), int(k[idx[-1]])],
                "abs_x": [float(lo), float(up)]}

    main = window_slope(WINDOW_LO, hi)
    if main is not None:
        # diagnostics of the time origin: under x_k ~ (k + k0)^-3 the window's ends give k0, and
        # the log-log slope against k is biased by about k0 / k; the rate law
        # gap_k - gap_{k+1} ~ gap_k^(1 + 1/p) gives an exponent that does not depend on k0
        k_a, k_b = main["k"]
        r = (ax[k_b] / ax[k_a]) ** (-1.0 / 3.0)  # (k_b + k0) / (k_a + k0)
        main["k0_implied"] = float((k_b - r * k_a) / (r - 1.0))
        idx = np.flatnonzero((ax >= WINDOW_LO) & (ax <= hi))[:-1]
        dec = gap[idx] - gap[idx + 1]
        s_rl = float(np.polyfit(np.log(gap[idx]), np.log(dec), 1)[0])
        main["p_rate_law"] = 1.0 / (s_rl - 1.0)
    others = {f"|x| in [{lo:g}, {up:g}]": window_slope(lo, up)
              for lo, up in ((3.0, hi), (WINDOW_LO, 3 * hi), (3 * WINDOW_LO, 3 * hi), (3.0, 30.0))}
    # the window rules of the solver's own test: the linear regime |x| >= 3, skip 10/25/50%
    stop = int(np.argmax(ax < 3.0)) if np.any(ax < 3.0) else ax.size
    for frac in (0.1, 0.25, 0.5):
        fit = sublinear_order(gap[:stop], k[:stop], skip=int(stop * frac), floor=0.0)
        others[f"|x| >= 3, skip {int(frac * 100)}%"] = {"p": fit.value, "r2": fit.r2}
    # Theorem 4 (secondary sources): D = level-set diameter in the local norm, gamma = 1 assumed
    from optlab.newton._damped import damped_newton_bound

    D = 2.0 * abs(x0) * math.sqrt(1.0 + mu)
    kk = k[k >= 1]
    bound = damped_newton_bound(kk, M=M, q=4.0, D=D, g0=float(h["local_norm"][0]), gamma=1.0)
    return {
        "instance": p.name, "M": M, "window": main, "other_windows": others,
        "nit": int(res.nit), "theorem4_max_gap_over_bound": float(np.max(gap[k >= 1] / bound)),
        "k": k.tolist() if full_run else None, "gap": gap.tolist() if full_run else None,
        "alpha": np.asarray(h["alpha"], dtype=float)[: len(xs)].tolist() if full_run else None,
    }


# ----------------------------------------------------------------------------- approximate Hessians
def approx_rate(p: Problem, approx: str, *, tol: float = 1e-10, max_iter: int = 20_000) -> dict:
    r"""Gradient-regularized Newton (``lazy_regularized_newton``, ``m = 1``, adaptive ``M``)
    with the approximate Hessian ``p.hess_approx[approx]`` (``"exact"``: ``p.hess``) to
    ``||grad|| <= tol``; the linear rate of ``||grad f(x_k)||`` fitted over the **whole**
    run from :math:`x_0` (``skip=0``: a global rate), its ``r2`` and the largest one-step
    ratio."""
    B = p.hess if approx == "exact" else p.hess_approx[approx]
    res = lazy_regularized_newton(p.value, p.grad, B, p.x0, m=1, tol=tol, max_iter=max_iter)
    g = np.asarray(res.history["grad_norm"], dtype=float)
    fit = linear_rate(g, skip=0)
    return {"problem": p.name, "approx": approx, "nit": int(res.nit), "success": bool(res.success),
            "q": fit.value, "r2": fit.r2, "max_step_ratio": float(np.max(g[1:] / g[:-1])),
            "grad_norm": g.tolist()}
