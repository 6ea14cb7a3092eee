"""Robust vs exact AltMin for matrix completion: cost per iteration against k and |Omega|, and
the subspace distance against the iteration.

Gu, Song, Yin & Zhang (ICLR 2024, arXiv:2302.11068): AltMin with approximate,
sketch-preconditioned regressions keeps the linear convergence of exact AltMin (Jain,
Netrapalli & Sanghavi 2013) in O~(|Omega| k) time instead of O~(|Omega| k^2). The paper has no
experiments (theory only); these panels are the lab's checks of its claims
(theory_checks/test_lowrank_completion.py): lowrank.altmin.cost_k_robust,
cost_k_robust_scalar, cost_k_exact, cost_omega_robust, robust_reaches_floor,
robust_linear_rate.

Instances: incoherent random rank-k matrices (problems.lowrank_completion), n x n, uniform
entries. (a) multiply-adds per outer iteration against k at fixed |Omega| (the robust count
split into its |Omega|-proportional part and the per-column preconditioner factorizations),
(b) wall-clock per iteration against k, (c) ops and time per iteration against |Omega| at
fixed k, (d) max(dist(U_t, U*), dist(V_t, V*)) against t for exact AltMin and robust AltMin
with regression accuracies solve_tol = 0.1 and 0.5.
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

FULL = {"n_k": 2000, "nnz_k": 1_200_000, "ks": [4, 8, 16, 32, 64],
        "ns": [1000, 2000, 4000, 8000], "per_col": 100, "k_omega": 16,
        "conv": (2000, 10, 10.0, 2.0)}  # fmt: skip
QUICK = {"n_k": 600, "nnz_k": 150_000, "ks": [4, 8, 16, 32],
         "ns": [500, 1000, 2000], "per_col": 100, "k_omega": 8,
         "conv": (600, 4, 5.0, 2.0)}  # fmt: skip


def run_cost_k(k: int, n: int, nnz: int) -> list[dict]:
    from theory_checks import _lowrank_completion as C

    return [dict(r, panel="k") for r in C.cost_vs_k(n, nnz, [k])]


def run_cost_omega(n: int, per_col: int, k: int) -> list[dict]:
    from theory_checks import _lowrank_completion as C

    return [dict(r, panel="omega") for r in C.cost_vs_omega([n], per_col, k)]


def run_conv(variant: str, solve_tol: float, conv: list) -> dict:
    from problems.lowrank_completion import completion_instance
    from theory_checks import _lowrank_completion as C

    n, k, kappa, c = conv
    P = completion_instance(n, n, k, kappa=kappa, c=c, seed=0)
    kw = {"method": "exact"} if variant == "exact" else {"method": "robust", "precond": variant,
                                                          "solve_tol": solve_tol}  # fmt: skip
    h = C.run_history(P, kw, max_iter=100)
    return {"panel": "conv", "label": variant if variant == "exact" else f"robust-{variant} solve_tol={solve_tol:g}",
            "iter": h["iter"], "dist": h["dist"], "rel_error": h["rel_error"], "nit": h["nit"],
            "nnz": P.nnz, "inner": int(h["n_inner"][-1])}  # fmt: skip


def compute(args) -> tuple[list[dict], dict]:
    from optlab.sweep import sweep

    cfg = QUICK if args.quick else FULL
    opts = sweep_options(args)
    recs = sweep(run_cost_k, {"k": cfg["ks"], "n": [cfg["n_k"]], "nnz": [cfg["nnz_k"]]}, seeds=None,
                 desc="altmin cost vs k", **opts)  # fmt: skip
    recs += sweep(run_cost_omega, {"n": cfg["ns"], "per_col": [cfg["per_col"]], "k": [cfg["k_omega"]]},
                  seeds=None, desc="altmin cost vs |Omega|", **opts)  # fmt: skip
    conv = [{"variant": "exact", "solve_tol": 0.0, "conv": list(cfg["conv"])}]
    conv += [{"variant": "sketch", "solve_tol": st, "conv": list(cfg["conv"])} for st in (0.1, 0.5)]
    conv += [{"variant": "scalar", "solve_tol": 0.01, "conv": list(cfg["conv"])}]
    recs += sweep(run_conv, conv, seeds=None, desc="altmin convergence", **opts)
    return recs, {"quick": bool(args.quick), "config": {k: list(v) if isinstance(v, tuple) else v
                                                         for k, v in cfg.items()}}  # fmt: skip


COLORS = {"exact": "tab:red", "robust-sketch": "tab:blue", "robust-scalar": "tab:green"}


def _ref(ax, x, y0, slope, label, style):
    x = np.asarray(x, dtype=float)
    ax.loglog(x, y0 * (x / x[0]) ** slope, style, color="gray", lw=1, label=label)


def plot(paths) -> None:
    from optlab.rates import scaling_exponent

    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(2, 2, figsize=(12.5, 9.5), constrained_layout=True)
    ax_ops, ax_t, ax_om, ax_cv = axes.ravel()
    ks_rows = [r for r in records if r.get("panel") == "k"]
    om_rows = [r for r in records if r.get("panel") == "omega"]
    for v, col in COLORS.items():
        rows = sorted((r for r in ks_rows if r["variant"] == v), key=lambda r: r["k"])
        if not rows:
            continue
        k = np.array([r["k"] for r in rows], dtype=float)
        ops = np.array([r["ops"] for r in rows])
        tot = np.array([r["ops_total"] for r in rows])
        tt = np.array([r["time"] for r in rows])
        s_ops = scaling_exponent(k, ops).value
        part = "total" if v == "exact" else "|Omega|-part"
        ax_ops.loglog(k, ops, "o-", color=col, label=f"{v}: {part}, slope {s_ops:.2f}")
        if v == "robust-sketch":
            s_tot = scaling_exponent(k, tot).value
            ax_ops.loglog(k, tot, "s--", color=col, alpha=0.7,
                          label=f"{v}: + per-column QR of sketches, slope {s_tot:.2f}")
        ax_t.loglog(k, tt, "o-", color=col, label=f"{v}: slope {scaling_exponent(k, tt).value:.2f}")
        if v == "exact":
            _ref(ax_ops, k, ops[0] * 0.5, 2.0, "slope 2", ":")
            _ref(ax_ops, k, ops[0] * 0.5, 1.0, "slope 1", "--")
            _ref(ax_t, k, tt[0] * 0.5, 2.0, "slope 2", ":")
            _ref(ax_t, k, tt[0] * 0.5, 1.0, "slope 1", "--")
    n_k = ks_rows[0]["nnz"] if ks_rows else 0
    ax_ops.set(xlabel="rank k", ylabel="multiply-adds per outer iteration",
               title=f"(a) operation count vs k, |Omega| = {n_k:,} fixed")  # fmt: skip
    ax_t.set(xlabel="rank k", ylabel="seconds per outer iteration",
             title="(b) wall-clock vs k (2 cores, shared)")  # fmt: skip
    for v, col in COLORS.items():
        rows = sorted((r for r in om_rows if r["variant"] == v), key=lambda r: r["nnz"])
        if not rows:
            continue
        N = np.array([r["nnz"] for r in rows], dtype=float)
        ops = np.array([r["ops_total"] for r in rows])
        tt = np.array([r["time"] for r in rows])
        ax_om.loglog(N, ops / ops[0], "o-", color=col,
                     label=f"{v}: ops, slope {scaling_exponent(N, ops).value:.2f}")
        ax_om.loglog(N, tt / tt[0], "x:", color=col,
                     label=f"{v}: time, slope {scaling_exponent(N, tt).value:.2f}")
        if v == "exact":
            _ref(ax_om, N, 1.0, 1.0, "slope 1", "--")
    kk = om_rows[0]["k"] if om_rows else 0
    ax_om.set(xlabel="|Omega|", ylabel="cost per iteration / cost at smallest |Omega|",
              title=f"(c) cost vs |Omega| at k = {kk} (|Omega| = 100 n)")  # fmt: skip
    styles = {"exact": ("tab:red", "-"), "sketch": ("tab:blue", "-"), "scalar": ("tab:green", "-.")}
    for r in (r for r in records if r.get("panel") == "conv"):
        key = "exact" if r["label"] == "exact" else r["label"].split()[0].split("-")[1]
        col, ls = styles[key]
        alpha = 0.6 if "0.5" in r["label"] else 1.0
        d = np.asarray(r["dist"], dtype=float)
        ax_cv.semilogy(r["iter"], np.maximum(d, 1e-17), ls, color=col, alpha=alpha, marker=".",
                       label=f"{r['label']}: {r['nit']} it, {r['inner']} CG steps")
    ax_cv.axhline(1e-10, color="gray", lw=1, ls="--")
    n, k, kappa, c = meta["config"]["conv"]
    ax_cv.set(xlabel="outer iteration t", ylabel="max(dist(U_t, U*), dist(V_t, V*))",
              title=f"(d) subspace distance, n = {n}, k = {k}, kappa = {kappa:g}, "
                    f"|Omega| = {c:g}(m+n)k log n")  # fmt: skip
    for ax in axes.ravel():
        ax.legend(fontsize=7.5)
    fig.suptitle("Robust vs exact AltMin for matrix completion (Gu, Song, Yin & Zhang 2024; JNS13)",
                 fontsize=12)  # fmt: skip
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=[
                   "lowrank.altmin.cost_k_robust",
                   "lowrank.altmin.cost_k_robust_scalar",
                   "lowrank.altmin.cost_k_exact",
                   "lowrank.altmin.cost_omega_robust",
                   "lowrank.altmin.robust_reaches_floor",
                   "lowrank.altmin.robust_linear_rate",
               ])


if __name__ == "__main__":
    main()
