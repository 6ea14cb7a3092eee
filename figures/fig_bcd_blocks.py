"""Block size and fixed partitions: GS / GSL with gradient updates on data set A.

Nutini, Laradji & Schmidt (JMLR 2022), Fig. 8 and Fig. 10 [mem]. Left (Fig. 8): variable blocks of
tau in {5, 50, 100}, rules random, GS and GSL (= GSD for variable blocks), 1/L_b updates.
Right (Fig. 10): fixed blocks of 5 with the partitions Sort (by L_i), Order and Avg, rules GS and
GSL. x0 = 0, 500 iterations (quick: 120). Both modes use the 200 x 2000 instance of the A recipe
(at 1000 x 10000 the greedy runs with tau = 50, 100 compute up to 100 new Gram columns per
iteration and the figure takes minutes, over the area's budget). y-axis f(x_k) - f*.
Claims shown: bcd.rules.greedy_beats_random (theory_checks/test_bcd_progress.py).
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
LS = {5: ":", 50: "--", 100: "-", "sort": "-", "order": "--", "avg": ":"}


def run_one(panel: str, rule: str, setting, quick: bool) -> dict:
    from theory_checks import _bcd as B

    its = 120 if quick else 500
    if panel == "size":
        return B.curve("A", True, rule=rule, update="lb", block_size=int(setting), max_iter=its)
    return B.curve("A", True, rule=rule, update="lb", partition=str(setting), block_size=5, max_iter=its)


def _fig_opts(args):
    from theory_checks import _bcd as B

    return B.fig_sweep_options(args, sweep_options)


def compute(args):
    from optlab.sweep import sweep

    q = bool(args.quick)
    grid = ([{"panel": "size", "rule": r, "setting": t, "quick": q} for r in ("random", "gs", "gsl") for t in (5, 50, 100)]
            + [{"panel": "partition", "rule": r, "setting": s, "quick": q} for r in ("gs", "gsl")
               for s in ("sort", "order", "avg")])
    return sweep(run_one, grid, seeds=None, desc="bcd blocks", **_fig_opts(args)), {"quick": q}


def plot(paths) -> None:
    recs, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    for ax, panel in zip(axes, ["size", "partition"], strict=True):
        for r in recs:
            if r["panel"] != panel:
                continue
            g = np.maximum(np.asarray(r["gap"]), 1e-16)
            lab = f"{r['rule']}, tau={r['setting']}" if panel == "size" else f"{r['rule']}, {r['setting']}"
            ax.semilogy(r["k"], g, color=COL[r["rule"]], ls=LS[r["setting"]], label=lab)
            inst = r["instance"]
        ax.set_title(f"{inst}: " + ("variable blocks, block size" if panel == "size" else "fixed blocks of 5, partition"),
                     fontsize=10)
        ax.set_xlabel("iteration k")
        ax.set_ylabel("f(x_k) - f*")
        ax.legend(fontsize=8)
    fig.suptitle("Nutini et al. (2022) Fig. 8/10: block size and partition (A, Lb updates)", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["bcd.rules.greedy_beats_random"])


if __name__ == "__main__":
    main()
