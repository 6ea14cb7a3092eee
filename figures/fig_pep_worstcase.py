"""Worst case of optlab's GD and AGD vs PEPit's exact worst case tau(N), N = 1..20.

Claims shown (checked in theory_checks/test_convex_pepit.py):

- GD, step 1/L, over convex L-smooth f with ||x0 - x*|| <= R: the worst f(x_N) - f* is
  L R^2 / (4N + 2) (Drori & Teboulle 2014, Theorem 3.1, tight), attained by optlab's
  gradient_descent on the Huber function of problems.huber_worst_case(N);
- AGD (FISTA momentum, optlab's accelerated_gradient): PEPit's tau(N) is attained by a 1-D
  Huber function with numerically optimized threshold, and stays below Beck & Teboulle's
  2 L R^2 / (N+1)^2 (Theorem 4.4);
- random convex L-smooth functions stay below tau(N) R^2.

tau(N) is read from theory_checks/pep_cache.json (PEPit 0.5.1, cvxpy + CLARABEL); a full run
computes missing points with PEPit (in memory), --quick requires them in the cache.
Top: values for L = R = 1 (log-log). Bottom: measured / tau, the worst-case instance on
1 +- 1e-3 and the random instances below 1.
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

NS = list(range(1, 21))
TITLES = {"gd": "Gradient descent (step 1/L)", "agd": "Accelerated gradient (FISTA momentum)"}


def run_job(kind: str, method: str, N: int, seeds: list[int]) -> dict:
    """``kind="worst"``: optlab on the worst-case instance for horizon N.
    ``kind="random"``: per-N maximum of (f(x_N) - f*)/||x0 - x*||^2 over random instances."""
    from theory_checks import _convex as C

    if kind == "worst":
        if method == "gd":
            return {"value": C.gd_worst_case(N), "threshold": 1.0 / (2 * N + 1)}
        gap, delta = C.agd_worst_case(N)
        return {"value": gap, "threshold": delta}
    run = C.run_gd if method == "gd" else C.run_agd
    n_max = max(NS)
    best = np.zeros(n_max + 1)
    for s in seeds:
        p = C.random_smooth_convex(s)
        g = C.gaps(run(p, n_max), p.f_star, n_max) / float(np.sum((p.x0 - p.x_star) ** 2))
        best = np.maximum(best, g)
    return {"per_N": best[1:].tolist()}


def _taus(quick: bool) -> tuple[dict, list[str]]:
    from theory_checks import pep

    cache = pep.load_cache()
    taus, computed = {}, []
    for m in ("gd", "agd"):
        for N in NS:
            try:
                taus[f"{m}|{N}"] = pep.cached_tau(m, N, cache=cache)
            except KeyError:
                if quick:
                    raise
                taus[f"{m}|{N}"] = pep.compute_tau(m, N)
                computed.append(f"{m}|{N}")
    return taus, computed


def compute(args) -> tuple[list[dict], dict]:
    from optlab.sweep import sweep

    n_random = 40 if args.quick else 400
    chunks = [list(range(i, min(i + 20, n_random))) for i in range(0, n_random, 20)]
    grid = [{"kind": "worst", "method": m, "N": N, "seeds": []} for m in ("gd", "agd") for N in NS]
    grid += [{"kind": "random", "method": m, "N": 0, "seeds": c} for m in ("gd", "agd") for c in chunks]
    rows = sweep(run_job, grid, seeds=None, desc="pep_worstcase", **sweep_options(args))
    taus, computed = _taus(args.quick)
    records = []
    for m in ("gd", "agd"):
        rand = np.max([r["per_N"] for r in rows if r["kind"] == "random" and r["method"] == m], axis=0)
        for N in NS:
            w = next(r for r in rows if r["kind"] == "worst" and r["method"] == m and r["N"] == N)
            records.append({"method": m, "N": N, "tau": taus[f"{m}|{N}"], "worst_case": w["value"],
                            "threshold": w["threshold"], "random_max": float(rand[N - 1])})
    meta = {"L": 1.0, "R": 1.0, "n_random": n_random, "tau_source": "theory_checks/pep_cache.json",
            "tau_computed_now": computed, "quick": bool(args.quick)}
    return records, meta


def _agd_t(N: int) -> float:
    t = 1.0
    for _ in range(N - 1):
        t = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
    return t


def plot(paths) -> None:
    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.2), sharex=True, constrained_layout=True,
                             gridspec_kw={"height_ratios": [3, 1.3]})
    Nf = np.linspace(1, 20, 200)
    for j, m in enumerate(("gd", "agd")):
        rs = sorted((r for r in records if r["method"] == m), key=lambda r: r["N"])
        N = np.array([r["N"] for r in rs])
        tau = np.array([r["tau"] for r in rs])
        worst = np.array([r["worst_case"] for r in rs])
        rand = np.array([r["random_max"] for r in rs])
        ax = axes[0, j]
        if m == "gd":
            ax.loglog(Nf, 1 / (2 * Nf), "--", color="0.4", label=r"$LR^2/(2N)$ (Garrigos & Gower, Sec. 3)")
            ax.loglog(Nf, 1 / (4 * Nf + 2), "-", color="tab:green", lw=1.2,
                      label=r"$LR^2/(4N+2)$ (Drori & Teboulle, Thm 3.1, tight)")
        else:
            ax.loglog(Nf, 2 / (Nf + 1) ** 2, "--", color="0.4", label=r"$2LR^2/(N+1)^2$ (Beck & Teboulle, Thm 4.4)")
            ax.loglog(N, [1 / (2 * _agd_t(n) ** 2) for n in N], ":", color="tab:green",
                      label=r"$LR^2/(2t_N^2)$ (sharper form of Thm 4.4)")
        ax.loglog(N, tau, "o", mfc="none", mec="k", ms=9, mew=1.3, label=r"PEPit $\tau(N)$ (CLARABEL)")
        ax.loglog(N, worst, "x", color="tab:red", ms=7, mew=1.6,
                  label="optlab on worst-case instance" + (" (Huber)" if m == "gd" else " (1-D Huber, optimized threshold)"))
        ax.loglog(N, rand, "v", color="tab:blue", ms=5, alpha=0.8,
                  label=f"optlab, max over {meta.get('n_random')} random $f\\in\\mathcal{{F}}_{{0,L}}$")
        ax.set_title(TITLES[m])
        ax.set_ylabel(r"$(f(x_N) - f^*)\,/\,(L R^2)$")
        ax.legend(loc="lower left", fontsize=8)
        bx = axes[1, j]
        bx.axhspan(1 - 1e-3, 1 + 1e-3, color="tab:red", alpha=0.15, label=r"tight band $1\pm10^{-3}$")
        bx.plot(N, worst / tau, "x-", color="tab:red", ms=6, label="worst-case instance / tau")
        bx.plot(N, rand / tau, "v-", color="tab:blue", ms=4, alpha=0.8, label="random max / tau")
        bx.axhline(1.0, color="k", lw=0.8)
        bx.set_ylim(0, 1.15)
        bx.set_xlabel("number of steps $N$")
        bx.set_ylabel(r"measured / $\tau$")
        bx.legend(loc="lower center", ncol=3, fontsize=7.5)
        dev = np.max(np.abs(worst / tau - 1))
        bx.set_title(f"max |worst-case/tau - 1| = {dev:.1e}", fontsize=9)
    axes[1, 0].set_xticks([1, 2, 5, 10, 20])
    axes[1, 0].set_xticklabels(["1", "2", "5", "10", "20"])
    fig.suptitle("Measured worst case vs PEPit's exact worst case (L = R = 1)", fontsize=12)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=[
                   "convex.pep.gd_worst_case_attained",
                   "convex.pep.agd_worst_case_attained",
                   "convex.pep.gd_random_below",
                   "convex.pep.agd_random_below",
               ])


if __name__ == "__main__":
    main()
