"""Sub-gradient method on the l1 loss under outliers: exact recovery, agnostic to over-parameterization.

Ma & Fattahi (JMLR 2023), abstract: with small initialization the sub-gradient method on
f(U) = (1/m) ||y - A(U U^T)||_1 converges to the ground truth under gross outliers and is agnostic
to over-parameterization (r' >= r). Claims shown (theory_checks/test_lowrank_sensing.py):
lowrank.sensing.subgradient_outliers, lowrank.sensing.subgradient_overparam_agnostic.

Instance: symmetric Gaussian sensing, d = 20 (--quick) or 30, r = 2, kappa = 2, m = 10 d r; outliers
10 ||y||_inf U(-1, 1) on a fraction p of the measurements; alpha = 1e-8, eta_t = 0.97^t.
Left: relative error vs iteration at p = 0.2 for r' in {r, 5r, d}, and l2-loss GD (r' = r) on the
same data (thrown off by the outliers). Right: r' = r at outlier fractions 0 to 0.4.
"""

from __future__ import annotations

import numpy as np
from _common import (
    load_data,
    run_figure,
    savefig,
    setup_matplotlib,
    sweep_options,
)


def run_one(method: str, rank: int, p: float, d: int) -> dict:
    from theory_checks import _lowrank_sensing as S

    if method == "l2":
        return S.l2_baseline_run(p, d=d)
    return S.subgradient_run(rank, p, d=d, level=1e-3)


def compute(args):
    from optlab.sweep import sweep

    d = 20 if args.quick else 30
    grid = ([{"method": "subgm", "rank": rk, "p": 0.2, "d": d} for rk in (2, 10, d)]
            + [{"method": "l2", "rank": 2, "p": 0.2, "d": d}]
            + [{"method": "subgm", "rank": 2, "p": p, "d": d} for p in (0.0, 0.1, 0.3, 0.4)])
    recs = sweep(run_one, grid, seeds=None, desc="subgm", **sweep_options(args))
    return recs, {"d": d, "quick": bool(args.quick)}


def plot(paths) -> None:
    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 5), constrained_layout=True)
    d = meta["d"]
    cols = {2: "tab:blue", 10: "tab:orange", d: "tab:green"}
    for r in records:
        t, e = np.asarray(r["iters"]), np.asarray(r["error"])
        if r["method"] == "l2":
            ax.semilogy(t, e, "k--", label=f"l2-loss GD, r' = r: final {r['final_error']:.1e}")
        elif r["p"] == 0.2:
            its = r["iters_to_level"]
            ax.semilogy(t, e, color=cols.get(r["rank"], "tab:purple"),
                        label=f"SubGM r' = {r['rank']}: {its} it. to 1e-3, final {r['final_error']:.1e}")
    for p in sorted({r["p"] for r in records if r["method"] == "subgm" and r["rank"] == 2}):
        r = next(r for r in records if r["method"] == "subgm" and r["rank"] == 2 and r["p"] == p)
        ax2.semilogy(r["iters"], r["error"], label=f"p = {p:g}: final {r['final_error']:.1e}")
    ax.axhline(1e-3, color="0.5", lw=0.8, ls=":")
    ax.set_title(f"outlier fraction 0.2, d = {d}, r = 2: over-parameterization", fontsize=10)
    ax2.set_title("r' = r: outlier fractions", fontsize=10)
    for a in (ax, ax2):
        a.set_xlabel("iteration t")
        a.set_ylabel("$\\|U_tU_t^T - M^*\\|_F/\\|M^*\\|_F$")
        a.set_ylim(1e-16, 1e1)
        a.legend(fontsize=7.5)
    fig.suptitle("Ma & Fattahi (2023): sub-gradient method, l1 loss, small init ($\\alpha=10^{-8}$), "
                 "$\\eta_t = 0.97^t$, Gaussian sensing m = 10dr", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=[
                   "lowrank.sensing.subgradient_outliers",
                   "lowrank.sensing.subgradient_overparam_agnostic",
               ])


if __name__ == "__main__":
    main()
