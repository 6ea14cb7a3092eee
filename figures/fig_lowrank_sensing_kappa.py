"""ScaledGD(lambda) vs vanilla GD over the condition number kappa (symmetric matrix sensing).

Xu, Shen, Chi & Ma (ICML 2023), main theorem (abstract): ScaledGD(lambda) needs
O(log kappa log(kappa n) + log(1/eps)) iterations, vanilla GD poly(kappa). Claims shown (checked in
theory_checks/test_lowrank_sensing.py): lowrank.sensing.scaledgd_log_kappa,
lowrank.sensing.gd_poly_kappa.

Instance: symmetric Gaussian sensing, n = 20, rank r = 3 (sigma from 1 to 1/kappa, evenly spaced),
m = 10 n r, exact width k = r, alpha = 1e-3, lambda = 0.5 sigma_min, eta = 0.5 (ScaledGD) and
0.5/sigma_1 (GD). Left: iterations to relative error 1e-8 against kappa (log-log) with the fitted
slopes. Right: relative error against iteration for each kappa (ScaledGD solid, GD dashed).
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


def run_one(kappa: float, method: str) -> dict:
    from theory_checks import _lowrank_sensing as S

    return S.kappa_run(kappa, method, keep_history=True)


def compute(args):
    from optlab.sweep import sweep

    kappas = [1.0, 10.0, 100.0] if args.quick else [1.0, 10.0, 100.0, 1000.0]
    recs = sweep(run_one, {"kappa": kappas, "method": ["scaledgd", "gd"]}, seeds=None, desc="kappa",
                 **sweep_options(args))
    return recs, {"kappas": kappas, "quick": bool(args.quick)}


def plot(paths) -> None:
    from optlab.rates import scaling_exponent

    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12.5, 5), constrained_layout=True)
    styles = {"scaledgd": ("tab:blue", "-", "ScaledGD($\\lambda$)"), "gd": ("tab:red", "--", "GD")}
    for method, (col, ls, lab) in styles.items():
        rr = sorted([r for r in records if r["method"] == method], key=lambda r: r["kappa"])
        k = np.array([r["kappa"] for r in rr])
        its = np.array([r["nit"] for r in rr], dtype=float)
        slope = scaling_exponent(k, its).value
        ax.loglog(k, its, "o" + ls, color=col, label=f"{lab}: slope {slope:.2f}")
        cmap = plt.get_cmap("Blues" if method == "scaledgd" else "Reds")
        for i, r in enumerate(rr):
            shade = cmap(0.45 + 0.5 * i / max(len(rr) - 1, 1))
            ax2.semilogy(r["iters"], r["error"], ls, color=shade, label=f"{lab}, $\\kappa$={r['kappa']:g}")
    ax.set_xlabel("condition number $\\kappa$")
    ax.set_ylabel("iterations to relative error $10^{-8}$")
    ax.set_title("iterations vs $\\kappa$ (claims: ScaledGD slope 0 +- 0.15, GD 1 +- 0.25)", fontsize=10)
    ax.legend()
    ax2.set_xscale("log")
    ax2.set_xlabel("iteration t")
    ax2.set_ylabel("$\\|X_tX_t^T - M^*\\|_F / \\|M^*\\|_F$")
    ax2.set_ylim(1e-9, 1e2)
    ax2.set_title("error vs iteration", fontsize=10)
    ax2.legend(fontsize=7, ncol=2)
    fig.suptitle("Xu, Shen, Chi & Ma (2023): ScaledGD($\\lambda$) vs GD, symmetric Gaussian sensing "
                 "(n = 20, r = k = 3, m = 10nr)", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["lowrank.sensing.scaledgd_log_kappa", "lowrank.sensing.gd_poly_kappa"])


if __name__ == "__main__":
    main()
