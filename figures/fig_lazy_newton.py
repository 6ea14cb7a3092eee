"""Newton's method with lazy Hessians: convergence and arithmetic cost against the update period m.

Doikov, Chayti & Jaggi (2023), "Second-order optimization with lazy Hessians", ICML 2023,
arXiv:2212.00781 (theorem numbers unverified). Claims shown (checked in
theory_checks/test_newton_lazy.py): newton.lazy.cost_argmin_m, newton.lazy.cost_gain_sqrt_d,
newton.lazy_cubic.iterations_eps_tight (the adaptive-M gain is shown for comparison, not claimed).

Top row: gradient norm of lazy regularized Newton (adaptive M, the solver's default) against
iterations and against the arithmetic cost of the paper's model (a gradient costs n d, a
Hessian d gradients, a factorization d^3, a lazy step d^2), for m in {1, sqrt d, d, 2d}, on
l2-logistic regression: LIBSVM mushrooms (8124 x 112, lam = 1e-3) and a synthetic
ill-conditioned instance (logistic_synthetic, n = 10 d, lam = 1e-4; d = 400, quick: 100).
Bottom row: total cost to ||grad|| <= 1e-8 against m (stars) and wall-clock time (dashed,
right axis, crosses: fastest; best of 3, measured serially on this machine) on the cost-claim
instance (logistic_synthetic n = 2d, lam = 0.1, d = 400, quick: 100) with the theory's
M = m L_H and the adaptive M, and on mushrooms (adaptive M); the gain cost(m = 1) / min_m cost
against d = 50..800 on the cost-claim instances (logistic_synthetic n = 2d, lam = 0.1) with the
fitted exponents and sqrt(d)/2 (the claim's full tier extends the same sweep to d = 2000), and the
iterations of lazy cubic Newton on the ramp family against 1/eps (slope 3/2 attained).
"""

from __future__ import annotations

import math

import numpy as np
from _common import (
    load_data,
    run_figure,
    savefig,
    setup_matplotlib,
    sweep_options,
)

CLAIMS = ["newton.lazy.cost_argmin_m", "newton.lazy.cost_gain_sqrt_d",
          "newton.lazy_cubic.iterations_eps_tight"]


def _problem(name: str, d: int):
    if name == "mushrooms":
        from problems import logistic_mushrooms

        return logistic_mushrooms(lam=1e-3)
    from problems import logistic_synthetic

    return logistic_synthetic(10 * d, d, lam=1e-4, seed=0)


def _thin(a: np.ndarray, n: int = 400) -> np.ndarray:
    """Indices of at most ~n points, log-spaced (keeps the start and the end)."""
    if a.size <= n:
        return np.arange(a.size)
    return np.unique(np.r_[np.geomspace(1, a.size, n).astype(int) - 1, a.size - 1])


def run_trace(problem: str, d: int, m: int) -> dict:
    """Histories (grad norm, cost) of one lazy regularized Newton run (adaptive M)."""
    from optlab.newton import lazy_regularized_newton

    p = _problem(problem, d)
    n, dd = p.data["A"].shape
    r = lazy_regularized_newton(p.value, p.grad, p.hess, p.x0, m=m, tol=1e-10, max_iter=100_000,
                                grad_cost=float(n * dd))  # fmt: skip
    h = r.history
    g, c = np.asarray(h["grad_norm"]), np.asarray(h["cost"])
    idx = _thin(g)
    return {"problem_name": p.name, "d": dd, "n": n, "nit": int(r.nit), "nhev": int(r.nhev),
            "success": bool(r.success), "iter": idx.tolist(), "grad_norm": g[idx].tolist(),
            "cost": c[idx].tolist()}


def run_cost(problem: str, d: int, m: int, mode: str, timed: bool) -> dict:
    """Total cost (and, with ``timed``, the best of 3 wall-clock times) to ||grad|| <= 1e-8."""
    from theory_checks import _newton as N

    if problem == "cost_instance":
        p = N.cost_problem(d)
    else:
        p = _problem(problem, d)
    r = N.cost_run(p, m, mode=mode)
    r["problem_name"] = p.name
    if timed:
        r["seconds"] = min(N.cost_run(p, m, mode=mode, timed=True)["seconds"] for _ in range(3))
    return r


def run_ramp(eps: float, eps_max: float) -> dict:
    from theory_checks import _newton as N

    return N.ramp_run(eps, eps_max=eps_max)


def compute(args) -> tuple[list[dict], dict]:
    from optlab.sweep import sweep

    quick = bool(args.quick)
    d_syn = 100 if quick else 400
    ms = {"mushrooms": 112, "synthetic": d_syn}
    grid = []
    for prob, d in ms.items():
        for m in sorted({1, round(math.sqrt(d)), d, 2 * d}):
            grid.append({"problem": prob, "d": d, "m": m})
    recs = [dict(r, kind="trace") for r in sweep(run_trace, grid, seeds=None, desc="lazy traces",
                                                  **sweep_options(args))]
    # total cost vs m: counts in parallel, then the wall-clock times one run at a time. The
    # theory's M = m L_H only on the cost-claim instance (on the lam = 1e-4 instances above it
    # needs 1e4-1e5 iterations); mushrooms with the adaptive M only.
    cgrid = []
    d_cost = 100 if quick else 400
    for prob, d, modes in (("cost_instance", d_cost, ("theory", "adaptive")), ("mushrooms", 112, ("adaptive",))):
        m_grid = sorted({1, 2, 4} | {int(v) for v in np.unique(np.geomspace(4, 4 * d, 12).astype(int))})
        for mode in modes:
            cgrid += [{"problem": prob, "d": d, "m": m, "mode": mode, "timed": False} for m in m_grid]
    recs += [dict(r, kind="cost_vs_m") for r in sweep(run_cost, cgrid, seeds=None,
                                                       desc="cost vs m", **sweep_options(args))]
    tgrid = [dict(g, timed=True) for g in cgrid]
    recs += [dict(r, kind="time_vs_m") for r in sweep(run_cost, tgrid, seeds=None, desc="timed",
                                                       n_jobs=1)]
    # gain vs d on the cost-claim instances (the same runs as the claims)
    # up to d = 800 here (the claim's full tier in theory_checks runs the same sweep to d = 2000)
    ds = (50, 100, 200) if quick else (50, 100, 200, 400, 800)
    from theory_checks import _newton as N

    ggrid = [{"problem": "cost_instance", "d": d, "m": m, "mode": mode, "timed": False}
             for mode in ("theory", "adaptive") for d in ds for m in N.cost_ms(d)]
    recs += [dict(r, kind="gain_run") for r in sweep(run_cost, ggrid, seeds=None, desc="gain vs d",
                                                      **sweep_options(args))]
    epss = (0.1, 0.05, 0.02, 0.01) if quick else (0.1, 0.05, 0.02, 0.01, 0.005, 0.002)
    recs += [dict(r, kind="ramp") for r in sweep(run_ramp, {"eps": list(epss), "eps_max": [max(epss)]},
                                                  seeds=None, desc="ramp", **sweep_options(args))]
    return recs, {"quick": quick, "d_synthetic": d_syn, "ds": list(ds)}


COLORS = {1: "tab:blue", "sqrt": "tab:orange", "d": "tab:green", "2d": "tab:red"}


def _label(m: int, d: int) -> tuple[str, str]:
    if m == 1:
        return "m = 1 (classical)", COLORS[1]
    if m == d:
        return f"m = d = {d}", COLORS["d"]
    if m == 2 * d:
        return f"m = 2d = {m}", COLORS["2d"]
    return f"m = {m} (~sqrt d)", COLORS["sqrt"]


def plot(paths) -> None:
    from theory_checks import _newton as N

    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(2, 4, figsize=(20, 9.4), constrained_layout=True)
    fig.get_layout_engine().set(w_pad=0.12, wspace=0.06)
    traces = [r for r in records if r["kind"] == "trace"]
    for col, prob in enumerate(("mushrooms", "synthetic")):
        rs = sorted((r for r in traces if r["problem"] == prob), key=lambda r: r["m"])
        for j, xkey in enumerate(("iter", "cost")):
            ax = axes[0, 2 * col + j]
            for r in rs:
                lab, c = _label(r["m"], r["d"])
                x = np.asarray(r[xkey], dtype=float)
                if xkey == "cost":
                    x = x / r["d"] ** 3
                ax.semilogy(x, r["grad_norm"], color=c, label=f"{lab}: {r['nit']} it, {r['nhev']} Hess")
            ax.set_xlabel("iteration $t$" if xkey == "iter" else r"arithmetic cost / $d^3$")
            ax.set_ylabel(r"$\|\nabla f(x_t)\|$")
            name = rs[0]["problem_name"] if rs else prob
            ax.set_title(f"{name}\n(d = {rs[0]['d'] if rs else '?'}, adaptive M)", fontsize=9.5)
            ax.legend(fontsize=7.5)
    # cost vs m
    for col, prob in enumerate(("cost_instance", "mushrooms")):
        ax = axes[1, col]
        cr = [r for r in records if r["kind"] == "cost_vs_m" and r["problem"] == prob]
        tr = [r for r in records if r["kind"] == "time_vs_m" and r["problem"] == prob]
        d = cr[0]["d"] if cr else 1
        ax2 = ax.twinx() if tr else None
        best_t = {}
        for mode, c in (("theory", "tab:purple"), ("adaptive", "tab:green")):
            rs = sorted((r for r in cr if r["mode"] == mode), key=lambda r: r["m"])
            if not rs:
                continue
            m = np.array([r["m"] for r in rs], dtype=float)
            cost = np.array([r["cost"] for r in rs]) / d**3
            lab = "M = m L_H (theory)" if mode == "theory" else "adaptive M"
            ax.loglog(m, cost, "o-", color=c, ms=3.5, label=f"cost, {lab}")
            i = int(np.argmin(cost))
            ax.plot(m[i], cost[i], "*", color=c, ms=14)
            ts = sorted((r for r in tr if r["mode"] == mode), key=lambda r: r["m"])
            if ts and ax2 is not None:
                mt = np.array([r["m"] for r in ts], dtype=float)
                sec = np.array([r["seconds"] for r in ts])
                ax2.loglog(mt, sec, "s--", color=c, alpha=0.55, ms=3, label=f"time, {lab}")
                j = int(np.argmin(sec))
                ax2.plot(mt[j], sec[j], "P", color=c, ms=11, mec="black")
                best_t[mode] = (int(m[i]), int(mt[j]))
        ax.axvline(d, color="gray", ls=":", lw=1)
        ax.text(d, ax.get_ylim()[1], " m = d", va="top", fontsize=8, color="gray")
        if ax2 is not None:
            ax2.set_ylabel("wall-clock time (s), best of 3")
            ax2.grid(False)
            ax2.legend(loc="lower right", fontsize=7.5)
        ax.set_xlabel("Hessian update period m")
        ax.set_ylabel(r"total cost to $\|\nabla f\| \leq 10^{-8}$ / $d^3$")
        name = cr[0].get("problem_name", prob) if cr else prob
        opt = "; ".join(f"{md}: cost m*={a}, time m*={b}" for md, (a, b) in best_t.items())
        ax.set_title(f"{name}\n{opt}", fontsize=8.5)
        ax.legend(loc="upper center", fontsize=7.5)
    # gain vs d
    ax = axes[1, 2]
    gr = [r for r in records if r["kind"] == "gain_run"]
    for mode, c in (("theory", "tab:purple"), ("adaptive", "tab:green")):
        rows = [r for r in gr if r["mode"] == mode]
        if not rows:
            continue
        s = N.gain_summary(rows)
        ex = N.gain_exponent(s) if len(s) >= 2 else {"exponent": math.nan}
        dd = np.array(sorted(s), dtype=float)
        ax.loglog(dd, [s[int(x)]["gain"] for x in dd], "o-", color=c,
                  label=f"{'M = m L_H' if mode == 'theory' else 'adaptive M'}: fitted exponent "
                        f"{ex['exponent']:.2f}")  # fmt: skip
        for x in dd:
            ax.annotate(f"m*={s[int(x)]['best_m']}", (x, s[int(x)]["gain"]), fontsize=6.5,
                        textcoords="offset points", xytext=(3, -9 if mode == "adaptive" else 4))
    if gr:
        dd = np.array(sorted({r["d"] for r in gr}), dtype=float)
        ax.loglog(dd, np.sqrt(dd) / 2, "k--", lw=1, label=r"$\sqrt{d}/2$ (cost model)")
    ax.set_xlabel("dimension d")
    ax.set_ylabel("gain cost(m = 1) / min_m cost")
    ax.set_title("gain of lazy updates (logistic_synthetic, n = 2d, lam = 0.1)", fontsize=9.5)
    ax.legend(fontsize=7.5)
    # ramp
    ax = axes[1, 3]
    rr = sorted((r for r in records if r["kind"] == "ramp"), key=lambda r: r["eps"])
    if rr:
        e = np.array([r["eps"] for r in rr])
        nit = np.array([r["nit"] for r in rr], dtype=float)
        from optlab.rates import scaling_exponent

        fit = scaling_exponent(1 / e, nit)
        ax.loglog(1 / e, nit, "o-", color="tab:blue", label=f"lazy cubic Newton (m = 4): slope {fit.value:.3f}")
        ax.loglog(1 / e, nit[0] * (e[0] / e) ** 1.5, "k--", lw=1, label=r"$\propto \varepsilon^{-3/2}$")
    ax.set_xlabel(r"$1/\varepsilon$")
    ax.set_ylabel(r"iterations to $\|\nabla f\| \leq \varepsilon$")
    ax.set_title("non-convex: ramp family (fixed L, f(x0) - f*)", fontsize=9.5)
    ax.legend(fontsize=7.5)
    fig.suptitle("Second-order optimization with lazy Hessians (Doikov, Chayti & Jaggi 2023): "
                 "convergence, arithmetic cost and the sqrt(d) gain", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=CLAIMS)


if __name__ == "__main__":
    main()
