"""A + L1 (x >= 0): projected Newton, two-metric projection and projected gradient with greedy
and random blocks; active-set identification and finite termination.

Nutini, Laradji & Schmidt (JMLR 2022), Fig. 7 (greedy: gsq-nn) and Fig. 13 (random) [mem]:
data set A + lam sum x, x >= 0, lam = 5e4 (quick: 200 x 2000, lam = 2e4), variable blocks
tau in {5, 50, 100}, updates PN (exact block QP), TMP (two-metric projection), PG (projected
gradient), x0 = 0, 500 iterations (quick 100). Markers: the iteration after which
supp(x_k) = supp(x*) for good. Claims shown: bcd.active.identification,
bcd.active.finite_termination (theory_checks/test_bcd_active_set.py).
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

UPDATES = {"pn": ("PN", "tab:red"), "tmp": ("TMP", "tab:green"), "pg": ("PG", "tab:blue")}
STYLE = {5: ":", 50: "--", 100: "-"}


def run_one(rule: str, update: str, tau: int, quick: bool) -> dict:
    from theory_checks import _bcd as B

    return B.curve("A+L1", quick, rule=rule, update=update, block_size=tau, max_iter=100 if quick else 500)


def _fig_opts(args):
    from theory_checks import _bcd as B

    return B.fig_sweep_options(args, sweep_options)


def compute(args):
    from optlab.sweep import sweep

    grid = {"rule": ["gsq-nn", "random"], "update": list(UPDATES), "tau": [5, 50, 100], "quick": [bool(args.quick)]}
    return sweep(run_one, grid, seeds=None, desc="bcd A+L1", **_fig_opts(args)), {"quick": bool(args.quick)}


def plot(paths) -> None:
    recs, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    for ax, rule in zip(axes, ["gsq-nn", "random"], strict=True):
        for r in recs:
            if r["rule"] != rule:
                continue
            name, col = UPDATES[r["update"]]
            k = np.asarray(r["k"])
            g = np.maximum(np.asarray(r["gap"]), 1e-16)
            ax.semilogy(k, g, color=col, ls=STYLE[r["tau"]], label=f"{name}, tau={r['tau']} ({r['nit']} it)")
            if r["k_identified"] is not None:
                ki = r["k_identified"]
                ax.semilogy([ki], [float(np.interp(ki, k, g))], "o", color=col, ms=5)
            inst = r["instance"]
        ax.set_title(f"{'greedy (gsq-nn)' if rule != 'random' else 'random'} blocks: {inst}", fontsize=10)
        ax.set_xlabel("iteration k (o: support identified)")
        ax.set_ylabel("F(x_k) - F*")
        ax.legend(fontsize=7, ncol=2)
    fig.suptitle("Nutini et al. (2022) Fig. 7/13: A + L1, identification then finite/superlinear convergence",
                 fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["bcd.active.identification", "bcd.active.finite_termination"])


if __name__ == "__main__":
    main()
