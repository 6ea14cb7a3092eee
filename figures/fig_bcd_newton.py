"""Newton block updates with line search (LS) vs gradient updates on logistic regression.

Nutini, Laradji & Schmidt (JMLR 2022), Fig. 12 [mem]: data set B (logistic, 1000 x 10000; here
with lam2 = 1, see problems/bcd.py; quick: 200 x 1000) and, as a real-data case, LIBSVM
mushrooms (8124 x 112, l2 = 1e-3 n); variable blocks tau in {5, 50, 100}; GSD (= GSL for
variable blocks) and random selection; Newton direction on the block with Armijo backtracking
vs the 1/L_b gradient step (tau = 50 only). x0 = 0, 500 iterations (quick: B only, tau in {5, 50},
120 iterations). y-axis f(x_k) - f*.
Claim shown: bcd.active.newton_superlinear (theory_checks/test_bcd_active_set.py).
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

COL = {("gsd", "newton"): "tab:red", ("gsd", "lb"): "tab:orange", ("random", "newton"): "tab:blue",
       ("random", "lb"): "tab:gray"}
LS = {5: ":", 50: "--", 100: "-"}


def run_one(data: str, rule: str, update: str, tau: int, quick: bool) -> dict:
    from problems._paths import shared_data_dir
    from theory_checks import _bcd as B

    if data == "mushrooms" and shared_data_dir() is None:
        return {"k": [], "gap": [], "missing": True, "instance": "mushrooms (data missing)", "nit": 0}
    return B.curve(data, quick, rule=rule, update=update, block_size=tau, max_iter=120 if quick else 500)


def _fig_opts(args):
    from theory_checks import _bcd as B

    return B.fig_sweep_options(args, sweep_options)


def compute(args):
    from optlab.sweep import sweep

    q = bool(args.quick)
    datas = ["B"] if q else ["B", "mushrooms"]
    taus = [5, 50] if q else [5, 50, 100]
    grid = [{"data": d, "rule": r, "update": u, "tau": t, "quick": q} for d in datas for r in ("gsd", "random")
            for u in ("newton", "lb") for t in taus if u == "newton" or t == 50]
    return sweep(run_one, grid, seeds=None, desc="bcd newton", **_fig_opts(args)), {"quick": q}


def plot(paths) -> None:
    recs, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    for ax, data in zip(axes, ["B", "mushrooms"], strict=True):
        inst = data
        for r in recs:
            if r["data"] != data or not r["k"]:
                continue
            g = np.maximum(np.asarray(r["gap"]), 1e-16)
            ax.semilogy(r["k"], g, color=COL[(r["rule"], r["update"])], ls=LS[r["tau"]],
                        label=f"{r['rule']} + {'Newton-LS' if r['update'] == 'newton' else 'Lb'}, tau={r['tau']}")
            inst = r["instance"]
        ax.set_title(inst, fontsize=10)
        ax.set_xlabel("iteration k")
        ax.set_ylabel("f(x_k) - f*")
        ax.legend(fontsize=7, ncol=2)
    fig.suptitle("Nutini et al. (2022) Fig. 12: Newton block updates with line search (logistic regression)",
                 fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["bcd.active.newton_superlinear"])


if __name__ == "__main__":
    main()
