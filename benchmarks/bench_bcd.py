"""Block coordinate descent vs peers: A+L1 vs scikit-learn Lasso, label propagation vs CG,
greedy vs random per-iteration cost.

1. A+L1 (data set A recipe, 1000 x 10000 sparse, --quick 200 x 2000; x >= 0, lam = 5e4,
   --quick 2e4): ``optlab.bcd.lasso(positive=True)`` (greedy gsq-nn, variable blocks of 50,
   two-metric projection or proximal Newton) vs scikit-learn ``Lasso(positive=True,
   fit_intercept=False)`` on the same matrix (sparse CSC and dense), both stopping on the
   duality gap ``<= tol ||y||^2 / n`` with ``tol = 1e-8`` (scikit-learn's own test). The
   achieved gap (public units, recomputed) and ``F - F*`` are in each row. Target (issue):
   optlab within 3x of scikit-learn (ratio >= 1/3).
2. Label propagation D (50 x 50 lattice) and E (two moons, 5-NN): time to ``f - f* <= 1e-8
   max(1, |f*|)`` of tree-block BCD with exact message-passing updates (fixed two-forest
   partition, cyclic or GS over its blocks; greedy GS trees regrown every iteration; red-black)
   vs scipy ``cg`` with a Jacobi preconditioner (the loosest ``rtol`` in 10^-k that meets the
   target, found beforehand; only that run timed). The graph, the fixed partitions and their
   block factors are kept on the objective after the first run: ``t_optlab`` is the warm time
   (best of 3), ``t_optlab_cold`` the first run with that set-up included.
3. Per-iteration cost of greedy selection (GS, incremental gradient) vs random selection, tau
   = 5, 1/L_b steps, 2000 iterations, on the sparse problems A (least squares) and D (lattice
   quadratic): ``factor = t_GS / t_random`` per iteration (and counted operations).

ratio = t_peer / t_optlab (> 1: optlab faster). Wall-clock, best of 3 (1 for slow runs).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optlab.bcd import bcd, lasso, lasso_gap  # noqa: E402
from optlab.bench import best_time, save_rows  # noqa: E402

TOL = 1e-8


def bench_al1(quick: bool) -> list[dict]:
    from sklearn.linear_model import Lasso

    from problems.bcd import dataset_a_l1

    p = dataset_a_l1(m=200, n=2000, lam=2e4) if quick else dataset_a_l1()
    A, y = p.data["A"].tocsc(), p.data["b"]
    m = A.shape[0]
    lam = p.params["l1"]
    alpha = lam / m
    Ad = A.toarray()
    rows = []

    def acc(w, X):
        gap = lasso_gap(X, y, w, alpha, positive=True)
        r = X @ w - y
        F = 0.5 * float(r @ r) + lam * float(w.sum())
        return gap, F - p.f_star

    thr = TOL * float(y @ y) / m
    peers = {}
    for name, X in (("sklearn Lasso(positive) sparse", A), ("sklearn Lasso(positive) dense", Ad)):
        def run(X=X):
            return Lasso(alpha=alpha, positive=True, fit_intercept=False, tol=TOL, max_iter=100000).fit(X, y)

        run()
        t, est = best_time(run, repeat=3)
        peers[name] = (t, est, acc(est.coef_, X))
    for cfg in (("tmp", 50), ("pn", 50)):
        upd, tau = cfg

        def go(upd=upd, tau=tau):
            return lasso(A, y, alpha, positive=True, tol=TOL, block_size=tau, update=upd, record=False)

        go()
        t, res = best_time(go, repeat=3)
        gap, df = acc(res.x, A)
        for name, (tp, est, (pgap, pdf)) in peers.items():
            rows.append({
                "benchmark": "A+L1 nonneg lasso to gap <= 1e-8 ||y||^2/n", "instance": p.name,
                "optlab": f"bcd.lasso gsq-nn tau={tau} {upd} (sparse X)", "peer": name,
                "t_optlab": t, "t_peer": tp, "nit_optlab": int(res.nit), "n_iter_peer": int(est.n_iter_),
                "gap_threshold": thr, "gap_optlab": gap, "gap_peer": pgap, "F_minus_Fstar_optlab": df,
                "F_minus_Fstar_peer": pdf, "target_ratio": 1 / 3, "target_met": tp / t >= 1 / 3,
                "accuracy": f"gap {gap:.1e} vs {pgap:.1e} (thr {thr:.1e})"})
    return rows


def _cg_time(A, c, target, f_of):
    from scipy.sparse.linalg import LinearOperator, cg

    d = A.diagonal()
    M = LinearOperator(A.shape, matvec=lambda v: v / d, dtype=float)
    for k in range(3, 16):
        rtol = 10.0 ** -k
        x, info = cg(A, c, rtol=rtol, atol=0.0, M=M, maxiter=100000)
        if f_of(x) <= target:
            break

    def run():
        return cg(A, c, rtol=rtol, atol=0.0, M=M, maxiter=100000)

    t, (x, _) = best_time(run, repeat=3)
    return t, x, rtol


def bench_lp(quick: bool) -> list[dict]:
    from problems.bcd import dataset_d, dataset_e

    rows = []
    for p in (dataset_d(), dataset_e()):
        obj = p.data["objective"]
        A, c = obj.A, obj.c
        target = 1e-8 * max(1.0, abs(p.f_star))

        def f_of(x, A=A, c=c, obj=obj, p=p):
            return 0.5 * float(x @ (A @ x)) - float(c @ x) + obj.const - p.f_star

        tcg, xcg, rtol = _cg_time(A, c, target, f_of)
        best = None
        for part, rule in (("forest", "cyclic"), ("forest", "gs"), ("tree", "gs"), ("redblack", "cyclic")):
            max_iter = 200000 if part == "redblack" else 20000

            def go(part=part, rule=rule, max_iter=max_iter, obj=obj, p=p, target=target):
                return bcd(obj, partition=part, rule=rule, update="exact", f_star=p.f_star, tol=target,
                           max_iter=max_iter, seed=0, record=False)

            obj.__dict__.pop("_forest_cache", None)  # cold: graph, partition and block factors built
            t0 = time.perf_counter()
            res = go()
            t1 = time.perf_counter() - t0  # then kept on the objective: the timed runs reuse them
            t, res = best_time(go, repeat=1 if t1 > 5 else 3)
            row = {"benchmark": "label propagation to f - f* <= 1e-8 max(1,|f*|)", "instance": p.name,
                   "optlab": f"bcd {part}/{rule} exact (message passing)",
                   "peer": f"scipy cg + Jacobi (rtol {rtol:g})", "t_optlab": t, "t_peer": tcg,
                   "t_optlab_cold": t1, "ratio_cold": tcg / t1, "t_per_iter_optlab": t / max(res.nit, 1),
                   "nit_optlab": int(res.nit), "success": bool(res.success),
                   "gap_optlab": float(res.fun - p.f_star), "gap_peer": f_of(xcg),
                   "accuracy": f"f-f* {res.fun - p.f_star:.1e} vs {f_of(xcg):.1e} (target {target:.1e})",
                   "target_ratio": 1.0}
            row["target_met"] = bool(res.success and tcg / t >= 1.0)
            rows.append(row)
            if res.success and (best is None or t < best):
                best = t
        print(f"{p.name}: best BCD {best}, CG {tcg}")
    return rows


def bench_greedy_cost(quick: bool) -> list[dict]:
    from problems.bcd import dataset_a, dataset_d

    rows = []
    its = 500 if quick else 2000
    for p in (dataset_a(m=200, n=2000) if quick else dataset_a(), dataset_d()):
        obj = p.data["objective"]
        res = {}
        for rule in ("random", "gs", "gsd"):
            def go(rule=rule, obj=obj):
                return bcd(obj, rule=rule, update="lb", block_size=5, max_iter=its, tol=1e-300,
                           f_star=-np.inf, seed=0, record=False)

            t, r = best_time(go, repeat=3)
            res[rule] = (t / r.nit, r.n_ops / r.nit)
        for rule in ("gs", "gsd"):
            rows.append({"benchmark": "per-iteration cost, greedy vs random (tau=5, Lb)", "instance": p.name,
                         "optlab": f"{rule} (incremental gradient)", "peer": "random selection",
                         "t_optlab": res[rule][0], "t_peer": res["random"][0],
                         "ops_factor": res[rule][1] / res["random"][1],
                         "time_factor": res[rule][0] / res["random"][0],
                         "accuracy": f"{its} iterations", "target_ratio": None, "target_met": None})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/out")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rows = bench_al1(args.quick) + bench_lp(args.quick) + bench_greedy_cost(args.quick)
    path = save_rows(args.out, "bcd", rows)
    print()
    for r in rows:
        extra = f" time factor {r['time_factor']:.2f} ops factor {r['ops_factor']:.2f}" if "time_factor" in r else ""
        if "t_optlab_cold" in r:
            extra = f" cold {r['t_optlab_cold']:.4g} s (ratio {r['ratio_cold']:.3f}), nit {r['nit_optlab']}"
        print(f"{r['instance'][:34]:34s} {r['optlab'][:44]:44s} vs {r['peer'][:34]:34s} "
              f"t={r['t_optlab']:.4g}/{r['t_peer']:.4g} ratio={r['ratio']:.2f} {r['accuracy']}{extra}")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
