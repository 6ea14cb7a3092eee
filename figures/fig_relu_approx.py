"""Convex ReLU training: quality of the sampled-pattern program vs P, and the SCP scenario bound.

Pilanci & Ergen (2020) exact program over all activation patterns against the approximate
program on P sampled patterns (Bai, Gautam & Sojoudi 2023, Sec. 2): the sampled optimum is an
upper bound that decreases to the exact optimum as P grows. Claims shown (checked in
theory_checks/test_relu_claims.py): relu.approx.converges, relu.scp.scenario_bound.

Instance: synthetic teacher data, n = 14 points, d = 3 (2 features + bias), beta = 0.05, three
problem seeds; patterns enumerated exactly for the reference and sampled with nested Gaussian
draws (the first P draws), optima from CVXPY/Clarabel.
Left: relative excess (f_P - f_exact) / f_exact against the number of draws P (log-log; points
at 0 are drawn at the bottom edge). Right: sampled convex programs (random-feature lasso with N
directions): Monte Carlo probability that the sampled dual solution violates an unsampled
constraint, against the Calafiore-Campi bound at confidence 1 - 1e-3.
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

FLOOR = 1e-10


def run_one(seed: int, quick: bool) -> dict:
    from theory_checks import _relu as R

    Ps = (2, 4, 8, 16, 32, 64, 256) if quick else (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)
    scp_N = (50, 200) if quick else (50, 200, 800)
    r = R.approximation(seed=seed, Ps=Ps, scp_N=scp_N)
    return {"f_exact": r["f_exact"], "Ps": list(Ps), "P_distinct": r["P_distinct"], "values": r["values"],
            "n_exact": r["n_exact_patterns"], "scp": r["scp"], "xi": r["xi"]}


def compute(args) -> tuple[list[dict], dict]:
    from optlab.sweep import sweep

    recs = sweep(run_one, {"quick": [bool(args.quick)]}, seeds=(5, 6, 7), desc="relu_approx",
                 **sweep_options(args))
    return recs, {"quick": bool(args.quick)}


def plot(paths) -> None:
    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 5.2), constrained_layout=True)
    colors = ("tab:blue", "tab:orange", "tab:green")
    for r, c in zip(records, colors, strict=False):
        P = np.asarray(r["Ps"], dtype=float)
        ex = (np.asarray(r["values"]) - r["f_exact"]) / r["f_exact"]
        ax.loglog(P, np.maximum(ex, FLOOR), "o-", color=c,
                  label=f"seed {r['seed']}: {r['n_exact']} exact patterns")
        N = np.asarray([s["N"] for s in r["scp"]], dtype=float)
        ax2.loglog(N, [max(s["violation"], 1e-6) for s in r["scp"]], "o-", color=c, label=f"seed {r['seed']}: measured")
        ax2.loglog(N, [s["bound"] for s in r["scp"]], "--", color=c, lw=1, label=f"seed {r['seed']}: scenario bound")
    ax.axhline(1e-6, color="gray", lw=0.8, ls="-.")
    ax.set_xlabel("number of sampled directions P")
    ax.set_ylabel(r"$(f_P - f_{exact}) / f_{exact}$")
    ax.set_title("sampled vs exact convex program (n = 14, d = 3, beta = 0.05)", fontsize=10)
    ax.legend(fontsize=8)
    ax2.set_xlabel("number of sampled directions N (SCP)")
    ax2.set_ylabel("probability of violating an unsampled constraint")
    ax2.set_title(f"sampled convex programs vs Calafiore-Campi bound (confidence 1 - {records[0]['xi']:g})",
                  fontsize=10)
    ax2.legend(fontsize=7.5)
    fig.suptitle("Approximation quality of sampled activation patterns (Pilanci & Ergen 2020; Bai, Gautam & "
                 "Sojoudi 2023)", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["relu.approx.converges", "relu.scp.scenario_bound"])


if __name__ == "__main__":
    main()
