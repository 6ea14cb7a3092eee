"""Lipschitz line search (LA) vs fixed 1/L_b steps (Lb), fixed blocks in natural order.

Nutini, Laradji & Schmidt (JMLR 2022), Fig. 9 [mem]: the ``LA`` update starts each block from a
stored constant (initially ``max_i L_i``, a lower bound on ``L_b``), doubles it until the descent
bound ``f(x+) <= f(x) - ||g_b||^2 / (2 L_b)`` holds and keeps it for the next visit; ``Lb`` uses
``L_b = lambda_max`` of the block Hessian. Fixed blocks of consecutive coordinates ("Order"),
tau in {5, 20, 50}, rules random, GS and GSL, x0 = 0, 500 iterations (quick: 120); data set A on
the 200 x 2000 instance (as in fig_bcd_blocks.py: the area's time budget) and the label
propagation lattice D. y-axis f(x_k) - f*. The paper's finding: LA is at least as fast as Lb,
often faster, because the line-searched constants are smaller than L_b. Measured here: LA ahead
or level in 5 of the 6 panels; on A with tau = 5 GSL + LA ends slightly behind GSL + Lb.
Claims shown: bcd.progress.descent_bound (the ``la`` update is one of the checked updates,
theory_checks/test_bcd_progress.py).
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

COL = {"random": "tab:gray", "gs": "tab:blue", "gsl": "tab:red"}
LS = {"lb": "--", "la": "-"}
SIZES = (5, 20, 50)


def run_one(data: str, rule: str, update: str, tau: int, quick: bool) -> dict:
    from theory_checks import _bcd as B

    its = 120 if quick else 500
    return B.curve(data, True, rule=rule, update=update, partition="order", block_size=int(tau), max_iter=its)


def _fig_opts(args):
    from theory_checks import _bcd as B

    return B.fig_sweep_options(args, sweep_options)


def compute(args):
    from optlab.sweep import sweep

    q = bool(args.quick)
    grid = [{"data": d, "rule": r, "update": u, "tau": t, "quick": q}
            for d in ("A", "D") for t in SIZES for r in ("random", "gs", "gsl") for u in ("lb", "la")]
    return sweep(run_one, grid, seeds=None, desc="bcd line search", **_fig_opts(args)), {"quick": q}


def plot(paths) -> None:
    recs, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(2, len(SIZES), figsize=(14, 8), constrained_layout=True)
    for i, data in enumerate(("A", "D")):
        for j, tau in enumerate(SIZES):
            ax = axes[i, j]
            for r in recs:
                if r["data"] != data or int(r["tau"]) != tau:
                    continue
                g = np.maximum(np.asarray(r["gap"]), 1e-16)
                ax.semilogy(r["k"], g, color=COL[r["rule"]], ls=LS[r["update"]], label=f"{r['rule']}, {r['update']}")
                inst = r["instance"]
            ax.set_title(f"{inst}: Order blocks, tau={tau}", fontsize=9)
            ax.set_xlabel("iteration k")
            ax.set_ylabel("f(x_k) - f*")
            ax.legend(fontsize=7)
    fig.suptitle("Nutini et al. (2022) Fig. 9: Lipschitz line search (LA, solid) vs 1/L_b (Lb, dashed)", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["bcd.progress.descent_bound"])


if __name__ == "__main__":
    main()
