"""Hypergradient error of ITD vs the number of unrolled steps T and of AID-Neumann vs the number of terms K.

Claims shown (checked in theory_checks/test_bilevel_hypergrad.py): bilevel.hypergrad.itd_rate
(Grazzi et al. 2020, Theorem 2: ITD error linear in T at rate q = 1 - alpha mu_g) and
bilevel.hypergrad.neumann_bound / neumann_rate (Lorraine, Vicol & Duvenaud 2020, eq. (9):
||v_K - v*|| <= q^(K+1) ||v*||). Instances: quadratic bilevel (5 x 20, kappa = 10) and ridge with
per-feature weights on scikit-learn diabetes; step alpha = 1/L_g. The AID-CG error at the same
number of Hessian-vector products is drawn for comparison (CG contracts like
((sqrt(kappa)-1)/(sqrt(kappa)+1))^k).
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


def run_one(instance: str, quick: bool) -> dict:
    from optlab.bilevel.hypergrad import aid_cg, exact_hypergrad
    from problems.bilevel import quadratic_bilevel, ridge_bilevel
    from theory_checks import _bilevel as B

    if instance == "quadratic":
        p, x = quadratic_bilevel(5, 20, mu_g=0.1, L_g=1.0, seed=0), np.linspace(-1, 1, 5)
    else:
        p, x = ridge_bilevel("diabetes", per_feature=True), np.full(10, -1.0)
    q0 = B.itd_error_curve(p, x, [0])["q"]
    Tmax = int(np.log(1e-13) / np.log(q0)) + 1
    Ts = np.unique(np.linspace(0, Tmax, 20 if quick else 40).astype(int))
    itd_c = B.itd_error_curve(p, x, Ts)
    neu = B.neumann_error_curve(p, x, Ts)
    ys = p.y_star(x)
    ref = np.asarray(exact_hypergrad(p, x))
    ks = np.unique(np.linspace(1, min(p.dim_y, 40), 15).astype(int))
    cg_err = [float(np.linalg.norm(aid_cg(p, x, ys, tol=0.0, max_iter=int(k)).grad - ref)) for k in ks]
    return {"T": Ts.tolist(), "itd_error": itd_c["error"].tolist(), "q": itd_c["q"],
            "itd_fitted": B.fitted_rate(Ts, itd_c["error"]), "v_error": neu["v_error"].tolist(),
            "bound": neu["bound"].tolist(), "neu_grad_error": neu["grad_error"].tolist(),
            "neu_fitted": B.fitted_rate(Ts, neu["v_error"]), "cg_k": ks.tolist(), "cg_error": cg_err,
            "name": p.name}


def compute(args):
    from optlab.sweep import sweep

    recs = sweep(run_one, {"instance": ["quadratic", "ridge"], "quick": [bool(args.quick)]}, seeds=None,
                 desc="hypergrad", **sweep_options(args))
    return recs, {"quick": bool(args.quick)}


def plot(paths) -> None:
    records, _ = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 2 * len(records), figsize=(6.2 * len(records) * 1.0 + 6, 4.6),
                             constrained_layout=True)
    for j, r in enumerate(records):
        T = np.asarray(r["T"])
        ax = axes[2 * j]
        e = np.asarray(r["itd_error"])
        ax.semilogy(T, e, "o-", ms=3, label=f"ITD, fitted rate {r['itd_fitted']:.4f}")
        ax.semilogy(T, e[0] * r["q"] ** T, "k--", lw=1, label=f"q^T, q = 1 - mu/L = {r['q']:.4f}")
        ax.semilogy(r["cg_k"], r["cg_error"], "s-", ms=3, color="tab:green", label="AID-CG (k HVPs)")
        ax.set_xlabel("T (unrolled steps) / k (CG iterations)")
        ax.set_ylabel(r"$\|\hat\nabla F - \nabla F\|$")
        ax.set_title(f"ITD: {r['name']}", fontsize=9)
        ax.legend(fontsize=8)
        ax = axes[2 * j + 1]
        ax.semilogy(T, r["v_error"], "o-", ms=3, label=f"Neumann ||v_K - v*||/||v*|| (rate {r['neu_fitted']:.4f})")
        ax.semilogy(T, r["bound"], "k--", lw=1, label="bound (1 - alpha mu)^(K+1)")
        ax.semilogy(T, r["neu_grad_error"], "^-", ms=3, label="hypergradient error")
        ax.set_xlabel("K (Neumann terms)")
        ax.set_title(f"AID-Neumann: {r['name']}", fontsize=9)
        ax.legend(fontsize=8)
    fig.suptitle("Hypergradient error vs T (ITD) and vs Neumann terms (Lorraine et al. 2020; Grazzi et al. 2020)",
                 fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=[
                   "bilevel.hypergrad.itd_rate",
                   "bilevel.hypergrad.neumann_bound",
                   "bilevel.hypergrad.neumann_rate",
               ])


if __name__ == "__main__":
    main()
