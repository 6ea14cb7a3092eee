"""Gradient-regularized Newton with approximate Hessians on softmax and logistic regression.

Semenov, Jaggi & Doikov (2025), "Gradient-Normalized Smoothness for Optimization with
Approximate Hessians", arXiv:2506.13710: global linear rate with Gauss-Newton / Fisher
approximations (theorem number unverified). Claim shown (checked in
theory_checks/test_newton_approx.py): newton.approx.global_linear_rate.

Method: optlab.newton.lazy_regularized_newton with m = 1 and hess = the exact Hessian or an
approximation from problems (weighted Gauss-Newton, empirical Fisher, Bohning's fixed bound),
adaptive M, to ||grad|| <= 1e-10. Panels: softmax regression on MNIST test images (n = 2000,
4x4 pooling, d = 490, lam = 1e-3; quick: n = 500), synthetic softmax regression (n = 2000,
p = 20, K = 5, lam = 1e-3) and l2-logistic regression on LIBSVM mushrooms (lam = 1e-3). The
legend gives the linear rate q fitted over the whole run (the claim's figure).
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

APPROX = ("exact", "gauss_newton", "fisher", "bohning")
COLORS = {"exact": "black", "gauss_newton": "tab:blue", "fisher": "tab:red", "bohning": "tab:green"}


def _problem(name: str, quick: bool):
    from problems import logistic_mushrooms, softmax_mnist, softmax_regression

    if name == "mnist":
        return softmax_mnist(n=500 if quick else 2000, pooling=4, lam=1e-3)
    if name == "softmax_synthetic":
        return softmax_regression(2000, 20, 5, lam=1e-3, seed=0)
    return logistic_mushrooms(lam=1e-3)


def run_one(problem: str, approx: str, quick: bool) -> dict:
    from theory_checks import _newton as N

    p = _problem(problem, quick)
    # Gauss-Newton on MNIST softmax needs thousands of iterations (class-sum directions): capped
    cap = 300 if quick else (1500 if (problem == "mnist" and approx == "gauss_newton") else 20_000)
    try:
        r = N.approx_rate(p, approx, max_iter=cap)
    except ValueError:  # no fit possible (e.g. too few points)
        return {"problem_name": p.name, "nit": -1, "grad_norm": [], "q": float("nan"), "r2": float("nan"),
                "success": False}
    g = np.asarray(r["grad_norm"])
    idx = np.unique(np.r_[np.linspace(0, g.size - 1, min(g.size, 500)).astype(int)])
    return {"problem_name": p.name, "nit": r["nit"], "success": r["success"], "q": r["q"], "r2": r["r2"],
            "iter": idx.tolist(), "grad_norm": g[idx].tolist()}


def compute(args) -> tuple[list[dict], dict]:
    from optlab.sweep import sweep

    grid = {"problem": ["mnist", "softmax_synthetic", "mushrooms"], "approx": list(APPROX),
            "quick": [bool(args.quick)]}
    recs = sweep(run_one, grid, seeds=None, desc="approx Hessians", **sweep_options(args))
    return recs, {"quick": bool(args.quick)}


def plot(paths) -> None:
    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.2), constrained_layout=True)
    for ax, prob in zip(axes, ("mnist", "softmax_synthetic", "mushrooms"), strict=True):
        rs = [r for r in records if r["problem"] == prob]
        for r in sorted(rs, key=lambda r: APPROX.index(r["approx"])):
            if not r["grad_norm"]:
                continue
            tag = "" if r["success"] else " (not converged, capped)"
            rate = "superlinear" if r["approx"] == "exact" else f"q = {r['q']:.3f}"
            ax.semilogy(r["iter"], r["grad_norm"], color=COLORS[r["approx"]],
                        label=f"{r['approx']}: {rate}, {r['nit']} it{tag}")
        ax.set_xlabel("iteration k")
        ax.set_ylabel(r"$\|\nabla f(x_k)\|$")
        ax.set_title(rs[0]["problem_name"] if rs else prob, fontsize=10)
        ax.set_xscale("symlog", linthresh=50)
        ax.legend(fontsize=8)
    fig.suptitle("Gradient-regularized Newton (m = 1, adaptive M) with approximate Hessians: "
                 "global linear rates (Semenov, Jaggi & Doikov 2025)", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["newton.approx.global_linear_rate"])


if __name__ == "__main__":
    main()
