"""Sinkhorn vs Sinkhorn-Newton-Sparse: the paper's Figure 1, Table 1 and an eta sweep.

Tang et al. (ICLR 2024), arXiv:2401.12253: Figure 1 (optimality gap against iteration,
Sinkhorn vs SNS) and Table 1 (iterations and time to machine accuracy) on random assignment
(n = 500, C ~ U[0, 1]), MNIST with the L2 and the L1 ground cost, all at eta = 1200
(reg = 1/1200), plus the W1 / W2 distances between discretized 1-D densities (n = 1000) of
the abstract. SNS uses N1 = 20 warm-up iterations and the solver's default of 6n kept entries
(the setting that reproduces Table 1's 20 + 9 iterations; the literal reading of the paper's
target sparsity 2/n, 2n entries, needs 20 + 66, see theory_checks/test_ot_sns.py), and
N1 = 700, 15n entries for MNIST-L1 as in the paper; both methods run to a marginal
error of 1e-10. Top row: optimality gap D* - D(z_k) of the dual potential (D* the best value
reached by either method); bottom row: marginal error. The last panel sweeps
eta in {100, 400, 1200, 5000} on random assignment (iterations to 1e-9, Sinkhorn capped at
100,000 iterations: a capped count is a lower bound, drawn hollow). On the 1-D densities the
entropic plan is banded, not sparse (60-100 significant entries per row at n = 1000), and SNS
with O(n) kept entries is slower than Sinkhorn there (capped at 500 iterations): where SNS does
not help. Claims shown (checked in
theory_checks/test_ot_sns.py): ot.sns.iteration_ratio, ot.sns.mnist_l2_ratio,
ot.sns.superlinear, ot.sns.table1_iterations.
"""

from __future__ import annotations

import time

import numpy as np
from _common import (
    load_data,
    run_figure,
    savefig,
    setup_matplotlib,
    sweep_options,
)

TOL = 1e-10
CAP = 300_000
ETA_CAP = 100_000


def _problem(case: str, quick: bool):
    from problems.ot import density_1d, mnist_pair, random_assignment

    if case == "random":
        return random_assignment(200 if quick else 500, seed=0), (1 / 600 if quick else 1 / 1200)
    if case == "mnist-l2":
        return mnist_pair(0, 1, cost="l2"), 1 / 1200
    if case == "mnist-l1":
        return mnist_pair(0, 1, cost="l1"), 1 / 1200
    if case == "density-w2":
        return density_1d(300 if quick else 1000, p=2, seed=0), 1 / 1200
    if case == "density-w1":
        return density_1d(300 if quick else 1000, p=1, seed=0), 1 / 1200
    raise ValueError(case)


# MNIST-L1: the paper's N1 = 700 and 15 n kept entries. Densities: the entropic plan on a
# 1000-point grid at eta = 1200 is banded with 60-100 significant entries per row (W2: 2n
# entries leave 88% of the mass out), so SNS with 2n entries converges slowly: capped at 500.
SNS_OPTS = {"mnist-l1": {"n_warmup": 700, "keep": 15.0}, "density-w2": {"max_iter": 500},
            "density-w1": {"max_iter": 500}}


def _thin(k, *cols):
    keep = np.unique(np.r_[0, np.geomspace(1, max(k.size - 1, 1), 400).astype(int), k.size - 1])
    keep = keep[keep < k.size]
    return [np.asarray(c)[keep].tolist() for c in (k, *cols)]


def run_case(case: str, method: str, quick: bool) -> dict:
    from optlab.ot import sinkhorn, sinkhorn_newton_sparse

    try:
        p, reg = _problem(case, quick)
    except (FileNotFoundError, OSError) as exc:
        return {"skipped": str(exc)}
    t0 = time.perf_counter()
    if method == "sinkhorn":
        r = sinkhorn(p.a, p.b, p.M, reg, tol=TOL, max_iter=CAP)
    else:
        r = sinkhorn_newton_sparse(p.a, p.b, p.M, reg, tol=TOL, **SNS_OPTS.get(case, {}))
    t = time.perf_counter() - t0
    h = r.history
    k, e, d = _thin(np.asarray(h["iter"]), h["marginal_error"], h["potential"])
    out = {"instance": p.name, "reg": reg, "nit": int(r.nit), "time": t, "success": bool(r.success),
           "k": k, "err": e, "pot": d, "final_potential": float(np.max(h["potential"]))}
    if method == "sns":
        out.update(n_newton=int(r.n_newton), n_sinkhorn=int(r.n_sinkhorn), n_fallback=int(r.n_fallback))
    return out


def run_eta(eta: float, method: str, quick: bool) -> dict:
    from optlab.ot import sinkhorn, sinkhorn_newton_sparse
    from problems.ot import random_assignment

    p = random_assignment(200 if quick else 500, seed=0)
    t0 = time.perf_counter()
    if method == "sinkhorn":
        r = sinkhorn(p.a, p.b, p.M, 1 / eta, tol=1e-9, max_iter=20_000 if quick else ETA_CAP, record=False)
    else:
        r = sinkhorn_newton_sparse(p.a, p.b, p.M, 1 / eta, tol=1e-9, record=False)
    return {"nit": int(r.nit), "time": time.perf_counter() - t0, "success": bool(r.success)}


def compute(args):
    from optlab.sweep import sweep

    quick = bool(args.quick)
    cases = ["random", "mnist-l2"] if quick else ["random", "mnist-l2", "mnist-l1", "density-w2",
                                                   "density-w1"]
    recs = sweep(run_case, {"case": cases, "method": ["sinkhorn", "sns"], "quick": [quick]},
                 seeds=None, desc="ot cases", **sweep_options(args))
    etas = [100.0, 400.0] if quick else [100.0, 400.0, 1200.0, 5000.0]
    recs_eta = sweep(run_eta, {"eta": etas, "method": ["sinkhorn", "sns"], "quick": [quick]},
                     seeds=None, desc="ot eta", **sweep_options(args))
    for r in recs_eta:
        r["kind"] = "eta"
    for r in recs:
        r["kind"] = "case"
    table = {}
    for case in cases:
        row = {r["method"]: r for r in recs if r["case"] == case and "skipped" not in r}
        if len(row) == 2:
            s, n = row["sinkhorn"], row["sns"]
            table[case] = {"instance": s["instance"], "sinkhorn_iters": s["nit"], "sinkhorn_time": s["time"],
                           "sinkhorn_converged": s["success"], "sns_iters": n["nit"],
                           "sns_split": f"{n['n_sinkhorn']} + {n['n_newton']}", "sns_time": n["time"],
                           "sns_converged": n["success"],
                           # a ratio only where both reached the tolerance
                           "iteration_ratio": s["nit"] / n["nit"] if s["success"] and n["success"] else None,
                           "time_ratio": s["time"] / n["time"] if s["success"] and n["success"] else None}
    paper = {"random": [29, 56199, 0.34, 233.36], "mnist-l2": [53, 2041, 2.33, 18.84],
             "mnist-l1": [777, 5748, 12.22, 45.75]}
    rows = [[case, t["instance"], f"{t['sns_iters']} ({t['sns_split']})", t["sns_time"],
             t["sinkhorn_iters"] if t["sinkhorn_converged"] else f">= {t['sinkhorn_iters']} (cap)",
             t["sinkhorn_time"], t["iteration_ratio"], t["time_ratio"],
             " / ".join(str(v) for v in paper[case]) if case in paper else "-"]
            for case, t in table.items()]
    report_table = {
        "title": "Tang et al. (2024) Table 1 regenerated: SNS vs Sinkhorn to marginal error "
                 f"{TOL:g}" + (" (--quick instances)" if quick else ""),
        "columns": ["case", "instance", "SNS iterations (warm-up + Newton)", "SNS time (s)",
                    "Sinkhorn iterations", "Sinkhorn time (s)", "iteration ratio", "time ratio",
                    "paper: SNS it / Sinkhorn it / SNS s / Sinkhorn s"],
        "rows": rows,
        "note": "Ratios only where both methods reached the tolerance. Times are this machine's; the paper's "
                "times are from its own hardware.",
    }
    meta = {"quick": quick, "tol": TOL, "table1": table, "paper_table1": paper,
            "report_tables": [report_table]}
    return recs + recs_eta, meta


COLORS = {"sinkhorn": "tab:blue", "sns": "tab:red"}


def plot(paths) -> None:
    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    cases = [r["case"] for r in records if r.get("kind") == "case" and r["method"] == "sns"]
    ncol = len(cases) + 1
    fig, axes = plt.subplots(2, ncol, figsize=(3.6 * ncol, 6.6), constrained_layout=True, squeeze=False)
    for j, case in enumerate(cases):
        rows = {r["method"]: r for r in records if r.get("kind") == "case" and r["case"] == case}
        if any("skipped" in r for r in rows.values()):
            axes[0, j].set_title(f"{case}: skipped (data missing)", fontsize=9)
            continue
        best = max(r["final_potential"] for r in rows.values())
        for m, r in rows.items():
            k = np.asarray(r["k"])
            gap = best - np.asarray(r["pot"])
            pos = gap > 0
            lab = f"{'Sinkhorn' if m == 'sinkhorn' else 'SNS'}: {r['nit']} it, {r['time']:.2f} s"
            axes[0, j].semilogy(k[pos], gap[pos], color=COLORS[m], label=lab)
            axes[1, j].semilogy(k, np.maximum(r["err"], 1e-17), color=COLORS[m], label=lab)
            axes[0, j].set_xscale("symlog", linthresh=100)
            axes[1, j].set_xscale("symlog", linthresh=100)
        axes[0, j].set_title(f"{case} (reg = 1/{1 / rows['sns']['reg']:.0f})", fontsize=10)
        axes[0, j].legend(fontsize=7.5)
        axes[1, j].set_xlabel("iteration (symlog)")
    axes[0, 0].set_ylabel("optimality gap D* - D(z_k)")
    axes[1, 0].set_ylabel(r"marginal error $\|P1-a\|_1+\|P^T1-b\|_1$")
    ax = axes[0, -1]
    er = [r for r in records if r.get("kind") == "eta"]
    for m in ("sinkhorn", "sns"):
        pts = sorted((r["eta"], r["nit"], r["success"]) for r in er if r["method"] == m)
        x = [p[0] for p in pts]
        y = [p[1] for p in pts]
        ax.loglog(x, y, "-", color=COLORS[m], label="Sinkhorn" if m == "sinkhorn" else "SNS")
        for xi, yi, ok in pts:
            ax.plot(xi, yi, "o", color=COLORS[m], mfc=COLORS[m] if ok else "white")
    ax.set_xlabel("eta = 1/reg")
    ax.set_ylabel("iterations to marginal error 1e-9")
    ax.set_title("eta sweep, random assignment\n(hollow: capped, lower bound)", fontsize=9)
    ax.legend(fontsize=8)
    ax2 = axes[1, -1]
    ax2.axis("off")
    lines = ["Table 1 (this run / paper)", ""]
    paper = meta.get("paper_table1", {})
    for case, t in meta.get("table1", {}).items():
        lines.append(f"{case}: SNS {t['sns_iters']} ({t['sns_split']}) it, {t['sns_time']:.2f} s")
        ratio = "SNS capped" if t["iteration_ratio"] is None else f"ratio {t['iteration_ratio']:.0f}x"
        lines.append(f"   Sinkhorn {t['sinkhorn_iters']} it, {t['sinkhorn_time']:.2f} s; {ratio}")
        if case in paper:
            pp = paper[case]
            lines.append(f"   paper: SNS {pp[0]} it {pp[2]} s, Sinkhorn {pp[1]} it {pp[3]} s")
    ax2.text(0.0, 1.0, "\n".join(lines), va="top", family="monospace", fontsize=6.8, transform=ax2.transAxes)
    fig.suptitle("Sinkhorn vs Sinkhorn-Newton-Sparse (Tang et al. 2024, Figure 1 / Table 1)", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["ot.sns.iteration_ratio", "ot.sns.mnist_l2_ratio", "ot.sns.superlinear"])

if __name__ == "__main__":
    main()
