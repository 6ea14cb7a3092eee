"""Matrix (block Hessian) updates vs gradient (1/L_b) updates for GS, GSD and GS-q.

Nutini, Laradji & Schmidt (JMLR 2022), Fig. 5 / Fig. 11 [mem]: data sets A and E, variable
blocks, tau = 5, x0 = 0, 500 iterations; each greedy rule with the 1/L_b update (dashed) and
the matrix update (solid: exact block minimization on these quadratics). GS-q for variable
blocks is the IHT approximation (see optlab.bcd.rules); it is run on E only in the full figure
(on A it costs 10 Hessian-vector products per iteration, and on the small A instance its
blocks coincided with GSD's at every iteration). y-axis f(x_k) - f* (log). Claim shown:
bcd.progress.descent_bound (theory_checks/test_bcd_progress.py).
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

RULES = ["gs", "gsd", "gsq"]
COLORS = {"gs": "tab:blue", "gsd": "tab:green", "gsq": "tab:purple"}


def run_one(data: str, rule: str, update: str, quick: bool) -> dict:
    from theory_checks import _bcd as B

    return B.curve(data, quick, rule=rule, update=update, block_size=5, max_iter=120 if quick else 500)


def _fig_opts(args):
    from theory_checks import _bcd as B

    return B.fig_sweep_options(args, sweep_options)


def compute(args):
    from optlab.sweep import sweep

    grid = [{"data": d, "rule": r, "update": u, "quick": bool(args.quick)}
            for d in ("A", "E") for r in RULES for u in ("lb", "hb")
            if not (d == "A" and r == "gsq" and not args.quick)]
    return sweep(run_one, grid, seeds=None, desc="bcd updates", **_fig_opts(args)), {"quick": bool(args.quick)}


def plot(paths) -> None:
    recs, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    for ax, data in zip(axes, ["A", "E"], strict=True):
        for r in recs:
            if r["data"] != data:
                continue
            g = np.maximum(np.asarray(r["gap"]), 1e-16)
            ax.semilogy(r["k"], g, color=COLORS[r["rule"]], ls="-" if r["update"] == "hb" else "--",
                        label=f"{r['rule']} + {'matrix (Hb)' if r['update'] == 'hb' else 'Lb'}")
            inst = r["instance"]
        ax.set_title(f"{data}: {inst}, VB tau=5", fontsize=10)
        ax.set_xlabel("iteration k")
        ax.set_ylabel("f(x_k) - f*")
        ax.legend(fontsize=8)
    fig.suptitle("Nutini et al. (2022) Fig. 5/11: matrix updates vs gradient updates", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["bcd.progress.descent_bound"])


if __name__ == "__main__":
    main()
