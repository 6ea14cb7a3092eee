"""Greedy block selection rules vs random/cyclic/Lipschitz, gradient (1/L_b) updates.

Nutini, Laradji & Schmidt (JMLR 2022), Fig. 4 [mem]: data sets A (sparse least squares), C
(50-class softmax, 1000 x 1000, with lam2 = 1; quick: 200 x 200, 10 classes) and E (label
propagation on two moons), variable blocks (VB) and fixed blocks sorted by L_i (Sort), tau = 5,
x0 = 0, 500 iterations; rules Random, Cyclic, Lipschitz, GS, GSDHb, GSL. y-axis: f(x_k) - f* (log). Claims shown: bcd.rules.greedy_beats_random,
bcd.rules.progress_ordering (theory_checks/test_bcd_progress.py).
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

RULES = ["random", "cyclic", "lipschitz", "gs", "gsdhb", "gsl"]
COLORS = dict(zip(RULES, ["tab:gray", "tab:brown", "tab:olive", "tab:blue", "tab:green", "tab:red"], strict=True))


def run_one(data: str, partition: str, rule: str, quick: bool) -> dict:
    from theory_checks import _bcd as B

    return B.curve(data, quick, rule=rule, update="lb", partition=partition, block_size=5,
                   max_iter=120 if quick else 500)


def _fig_opts(args):
    from theory_checks import _bcd as B

    return B.fig_sweep_options(args, sweep_options)


def compute(args):
    from optlab.sweep import sweep

    grid = {"data": ["A", "C", "E"], "partition": ["variable", "sort"], "rule": RULES, "quick": [bool(args.quick)]}
    return sweep(run_one, grid, seeds=None, desc="bcd rules", **_fig_opts(args)), {"quick": bool(args.quick)}


def plot(paths) -> None:
    recs, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(3, 2, figsize=(12, 13), constrained_layout=True)
    for i, data in enumerate(["A", "C", "E"]):
        for j, part in enumerate(["variable", "sort"]):
            ax = axes[i, j]
            for r in recs:
                if r["data"] == data and r["partition"] == part:
                    g = np.asarray(r["gap"])
                    ax.semilogy(r["k"], np.maximum(g, 1e-16), color=COLORS[r["rule"]], label=r["rule"])
                    inst = r["instance"]
            ax.set_title(f"{data}: {inst}, {'VB' if part == 'variable' else 'Sort'} tau=5, Lb", fontsize=10)
            ax.set_xlabel("iteration k")
            ax.set_ylabel("f(x_k) - f*")
            ax.legend(fontsize=8)
    fig.suptitle("Nutini et al. (2022) Fig. 4: greedy rules vs random selection (gradient updates)", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["bcd.rules.greedy_beats_random", "bcd.rules.progress_ordering"])


if __name__ == "__main__":
    main()
