"""GD, AGD and ISTA/FISTA on real problems against their theoretical bounds (log-log).

Claims shown (checked in theory_checks/test_convex_gd.py, test_convex_agd.py,
test_convex_fista.py):

- gradient descent, step 1/L: f(x_k) - f* <= L ||x0 - x*||^2 / (2k)
  (Garrigos & Gower 2023, arXiv:2301.11235, Section 3; theorem number unverified);
- accelerated gradient (FISTA momentum): f(x_k) - f* <= 2 L ||x0 - x*||^2 / (k+1)^2
  (Beck & Teboulle 2009, Theorem 4.4; Bubeck 2015, Theorem 3.19);
- ISTA / FISTA on the lasso: L ||x0 - x*||^2 / (2k) (Beck & Teboulle 2009, Theorem 3.1) and
  2 L ||x0 - x*||^2 / (k+1)^2 (Theorem 4.4).

Panels: L2-regularized logistic regression on LIBSVM mushrooms (8124 x 112) and on the
breast cancer data (569 x 30), lambda = 1e-3; lasso on the diabetes data (442 x 10,
lambda = 0.05 lambda_max). Solid: measured gap; dashed: the theorem's bound, same colour.
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

PANELS = {
    "mushrooms": "Logistic regression, mushrooms (n=8124, d=112)",
    "breast_cancer": "Logistic regression, breast cancer (n=569, d=30)",
    "diabetes_lasso": "Lasso, diabetes (n=442, d=10)",
}
METHODS = {
    "mushrooms": ("gd", "agd"),
    "breast_cancer": ("gd", "agd"),
    "diabetes_lasso": ("ista", "fista"),
}
LABELS = {"gd": "GD (step 1/L)", "agd": "AGD (Nesterov / FISTA momentum)", "ista": "ISTA", "fista": "FISTA"}
BOUND_LABELS = {
    "gd": r"$L\|x_0-x^*\|^2/(2k)$",
    "agd": r"$2L\|x_0-x^*\|^2/(k+1)^2$",
    "ista": r"$L\|x_0-x^*\|^2/(2k)$",
    "fista": r"$2L\|x_0-x^*\|^2/(k+1)^2$",
}
COLORS = {"gd": "tab:blue", "agd": "tab:red", "ista": "tab:blue", "fista": "tab:red"}


def _problem(name: str):
    if name == "mushrooms":
        from problems import logistic_mushrooms

        return logistic_mushrooms(lam=1e-3)
    if name == "breast_cancer":
        from problems import logistic_breast_cancer

        return logistic_breast_cancer(lam=1e-3)
    from theory_checks._convex import lasso_diabetes

    return lasso_diabetes(0.05)


def run_one(problem: str, method: str, n_iter: int) -> dict:
    """One solver on one problem: gaps and the theorem's bound at log-spaced k."""
    from optlab.convex import accelerated_gradient, gradient_descent, proximal_gradient
    from theory_checks._convex import NO_STOP, gaps

    p = _problem(problem)
    if method == "gd":
        res = gradient_descent(p.value, p.grad, p.x0, L=p.L, tol=NO_STOP, max_iter=n_iter)
    elif method == "agd":
        res = accelerated_gradient(p.value, p.grad, p.x0, L=p.L, tol=NO_STOP, max_iter=n_iter)
    else:
        res = proximal_gradient(p.value, p.grad, p.prox, p.x0, L=p.L, g=p.g,
                                accelerated=method == "fista", tol=NO_STOP, max_iter=n_iter)
    gap = gaps(res, p.f_star, n_iter)
    R2 = float(np.sum((p.x0 - p.x_star) ** 2))
    k = np.unique(np.geomspace(1, n_iter, 300).astype(int))
    bound = p.L * R2 / (2 * k) if method in ("gd", "ista") else 2 * p.L * R2 / (k + 1.0) ** 2
    return {
        "problem_name": p.name,
        "L": p.L,
        "R2": R2,
        "f_star": p.f_star,
        "k": k.tolist(),
        "gap": gap[k].tolist(),
        "bound": bound.tolist(),
        "max_ratio": float(np.max(gap[1:] / (bound_all(method, p.L, R2, n_iter)))),
    }


def bound_all(method: str, L: float, R2: float, n_iter: int) -> np.ndarray:
    k = np.arange(1, n_iter + 1)
    return L * R2 / (2 * k) if method in ("gd", "ista") else 2 * L * R2 / (k + 1.0) ** 2


def compute(args) -> tuple[list[dict], dict]:
    from optlab.sweep import sweep

    n_iter = 500 if args.quick else 5000
    grid = [{"problem": pr, "method": m, "n_iter": n_iter} for pr, ms in METHODS.items() for m in ms]
    records = sweep(run_one, grid, seeds=None, desc="convex_rates", **sweep_options(args))
    return records, {"n_iter": n_iter, "quick": bool(args.quick)}


def plot(paths) -> None:
    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 3, figsize=(14.5, 5.4), constrained_layout=True)
    for ax, (panel, title) in zip(axes, PANELS.items(), strict=True):
        for r in (r for r in records if r["problem"] == panel):
            m = r["method"]
            k, gap, bound = np.asarray(r["k"]), np.asarray(r["gap"]), np.asarray(r["bound"])
            pos = gap > 0
            ax.loglog(k[pos], gap[pos], color=COLORS[m], label=f"{LABELS[m]} (max gap/bound {r['max_ratio']:.2f})")
            ax.loglog(k, bound, "--", color=COLORS[m], alpha=0.8, label=f"bound {BOUND_LABELS[m]}")
        ax.set_title(title)
        ax.set_xlabel("iteration $k$")
        ax.set_ylabel(r"$F(x_k) - F^*$" if panel == "diabetes_lasso" else r"$f(x_k) - f^*$")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, frameon=False)
        lo = min(min(g for g in r["gap"] if g > 0) for r in records if r["problem"] == panel)
        ax.set_ylim(bottom=max(lo / 3, 1e-14))
    fig.suptitle(
        f"Measured optimality gap vs. theoretical bound ({meta.get('n_iter')} iterations; "
        "dashed = bound of the same colour)",
        fontsize=11,
    )
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=[
                   "convex.gd.smooth_convex_bound",
                   "convex.agd.smooth_convex_bound",
                   "convex.fista.lasso_bound",
                   "convex.ista.lasso_bound",
               ])


if __name__ == "__main__":
    main()
