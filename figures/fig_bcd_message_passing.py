"""Message passing: huge forest-structured blocks solved exactly in O(|b|) on label propagation.

Nutini, Laradji & Schmidt (JMLR 2022), Fig. 6 [mem]: data sets D (50 x 50 lattice, weights 1e5)
and E (two moons, 5-NN); blocks: greedy trees grown in GS order (GS-tree), random trees,
red-black (independent sets, A_bb diagonal), the fixed two-forest partition (cyclic), and the
"general" baseline of small blocks (GS, 5 coordinates, exact 5 x 5 solve). x0 = 0, 500
iterations (quick: 80). Left axis: f(x_k) - f* vs iteration; the legend gives mean |b| and
wall-clock. Claims shown: bcd.mp.exact, bcd.mp.linear_cost (theory_checks/test_bcd_message_passing.py).
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

CONFIGS = [("tree", "gs", "GS-tree"), ("tree", "random", "random tree"), ("redblack", "cyclic", "red-black"),
           ("forest", "cyclic", "two forests (cyclic)"), ("variable", "gs", "general: GS, |b| = 5")]


def run_one(data: str, config: int, quick: bool) -> dict:
    from theory_checks import _bcd as B

    part, rule, _ = CONFIGS[config]
    return B.curve(data, quick, rule=rule, update="exact", partition=part, block_size=5,
                   max_iter=80 if quick else 500)


def _fig_opts(args):
    from theory_checks import _bcd as B

    return B.fig_sweep_options(args, sweep_options)


def compute(args):
    from optlab.sweep import sweep

    grid = {"data": ["D", "E"], "config": list(range(len(CONFIGS))), "quick": [bool(args.quick)]}
    return sweep(run_one, grid, seeds=None, desc="bcd mp", **_fig_opts(args)), {"quick": bool(args.quick)}


def plot(paths) -> None:
    recs, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    for ax, data in zip(axes, ["D", "E"], strict=True):
        for r in recs:
            if r["data"] != data:
                continue
            g = np.maximum(np.asarray(r["gap"]), 1e-16)
            ax.semilogy(r["k"], g, label=f"{CONFIGS[r['config']][2]} ({r['wall']:.2f} s)")
            inst = r["instance"]
        ax.set_title(f"{data}: {inst}, exact block updates", fontsize=10)
        ax.set_xlabel("iteration k")
        ax.set_ylabel("f(x_k) - f*")
        ax.legend(fontsize=8)
    fig.suptitle("Nutini et al. (2022) Fig. 6: forest blocks by message passing", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["bcd.mp.exact", "bcd.mp.linear_cost"])


if __name__ == "__main__":
    main()
