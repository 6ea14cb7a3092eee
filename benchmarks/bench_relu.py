"""Convex two-layer ReLU training: ADMM (Woodbury) vs CVXPY/Clarabel, pyscnn, and SGD on MNIST.

1. Same sampled-pattern convex program (squared loss, beta = 0.1, synthetic teacher data), ADMM
   (``optlab.relu.relu_admm``, rho = 1, eigh factor; once with the defaults, once with
   over-relaxation 1.9, Boyd et al. 2011 Sec. 3.4.3) against CVXPY with Clarabel (default
   tolerances), n from 500 to 2000, d from 20 to 100, P from 50 to 200. CVXPY runs in a
   subprocess with a time limit (``--cvxpy-limit``, default 600 s, 60 s with --quick) so the
   table shows where it stops being able to run. ADMM time = set-up + time to the first
   iteration after which the relative objective gap to CVXPY's optimum stays <= 1e-4
   (history times, which include the recording of the objective), ADMM capped at
   ``--admm-limit`` seconds (default 300) or 10,000 iterations. Target: ratio >= 10. CVXPY
   results are cached in ``<out>/relu_cvxpy_cache.json`` (time, optimum, peak memory of
   the child) and reused unless ``--no-cache``; where CVXPY did not finish, ADMM's objective
   and residuals after its cap are reported instead.
2. pyscnn (augmented Lagrangian, same patterns) when ``.venv-bench-relu`` exists with it
   installed; otherwise the row says it is absent.
3. MNIST odd vs even (test split, ``problems.relu.relu_mnist``), d = 785 with bias, P = 100
   sampled patterns, n = 10,000 (all images; --quick: 2,000) with the Cholesky factor, a
   fixed number of ADMM iterations: time, peak memory (subprocess ru_maxrss), training
   accuracy and accuracy on the remaining images of the split (none when n = 10,000); beside
   Adam on the non-convex network of the same width (2P), mini-batch 256, 20x as many steps.

ratio = t_peer / t_optlab (> 1: optlab faster).

Usage: python benchmarks/bench_relu.py [--quick] [--out benchmarks/out]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optlab.bench import save_rows  # noqa: E402

INSTANCES = [(500, 20, 50), (1000, 50, 100), (2000, 100, 200)]
QUICK = [(500, 20, 50)]
BETA = 0.1
GAP = 1e-4


def make_instance(n, d, P, seed=0):
    from optlab.relu import sample_patterns

    rng = np.random.default_rng(seed)
    X = np.c_[rng.standard_normal((n, d - 1)) / np.sqrt(d), np.ones(n)]
    w = rng.standard_normal((3, d))
    y = np.maximum(X @ w.T, 0) @ np.array([1.0, -1.0, 0.5]) + 0.1 * rng.standard_normal(n)
    D = sample_patterns(X, P, seed=1)
    return X, y, D


def _child(args):
    """Subprocess entry: ``cvxpy n d P`` or ``mnist n P iters``; prints one JSON line."""
    import resource

    kind = args[0]
    if kind == "cvxpy":
        from optlab.relu import solve_cvxpy

        n, d, P = map(int, args[1:4])
        X, y, D = make_instance(n, d, P)
        t0 = time.perf_counter()
        r = solve_cvxpy(X, y, D, BETA)
        out = {"t": time.perf_counter() - t0, "fun": r.fun, "status": r.message, "P_s": int(D.shape[1])}
    else:
        from optlab.relu import (
            network_forward,
            recover_network,
            relu_admm,
            sample_patterns,
            train_network,
        )
        from problems.relu import relu_mnist

        n, P, iters = map(int, args[1:4])
        data = relu_mnist("odd_even", n_train=n, seed=0)
        D = sample_patterns(data.X, P, seed=0)
        t0 = time.perf_counter()
        r = relu_admm(data.X, data.y, D, 1e-3, rho=1.0, max_iter=iters, method="cholesky", record=False, tol=1e-12)
        t_admm = time.perf_counter() - t0
        U, a = recover_network(r.V, r.W)
        acc_tr = float(np.mean(np.sign(network_forward(data.X, U, a)) == data.y))
        acc_te = None
        if data.X_test is not None:
            acc_te = float(np.mean(np.sign(network_forward(data.X_test, U, a)) == data.y_test))
        t0 = time.perf_counter()
        s = train_network(data.X, data.y, 2 * int(D.shape[1]), 1e-3, max_iter=iters * 20, batch_size=256,
                          step=1e-3, record_every=iters * 20, X_test=data.X_test, y_test=data.y_test)
        t_sgd = time.perf_counter() - t0
        Us, as_ = s.U, s.alpha
        sgd_tr = float(np.mean(np.sign(network_forward(data.X, Us, as_)) == data.y))
        sgd_te = None
        if data.X_test is not None:
            sgd_te = float(np.mean(np.sign(network_forward(data.X_test, Us, as_)) == data.y_test))
        out = {"t_admm": t_admm, "setup": r.setup_time, "nit": r.nit, "fun": r.fun, "acc_train": acc_tr,
               "acc_test": acc_te, "t_sgd": t_sgd, "sgd_train": sgd_tr, "sgd_test": sgd_te,
               "n_neurons": int(U.shape[0]), "P_s": int(D.shape[1])}
    out["maxrss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print("RESULT " + json.dumps(out), flush=True)


def run_child(args, limit):
    cmd = [sys.executable, __file__, "--child", *map(str, args)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {limit:.0f} s"}
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (p.stderr or "").strip().splitlines()[-1:] or ["no output"]
    return {"error": f"exit {p.returncode}: {tail[0][:200]}"}


def admm_time_to_gap(X, y, D, f_star, max_iter, relax=1.0, limit=300.0):
    from optlab.relu import relu_admm

    t0 = time.perf_counter()

    def stop(_r):
        return time.perf_counter() - t0 > limit

    r = relu_admm(X, y, D, BETA, rho=1.0, relax=relax, max_iter=max_iter, tol=1e-10, f_star=f_star,
                  callback=stop)
    wall = time.perf_counter() - t0
    if f_star is None:
        return {"t": wall, "reached": False, "nit": int(r.nit), "gap": float("nan"), "setup": r.setup_time,
                "fun": float(r.fun), "primal_res": float(r.primal_res), "dual_res": float(r.dual_res)}
    g = np.abs(np.asarray(r.history["gap"]))
    bad = np.nonzero(g > GAP)[0]
    k = 0 if bad.size == 0 else int(bad[-1]) + 1
    if k >= g.size:
        return {"t": wall, "reached": False, "nit": int(r.nit), "gap": float(g[-1]), "setup": r.setup_time}
    return {"t": r.setup_time + float(r.history["time"][k]), "reached": True, "nit": k, "gap": float(g[k]),
            "setup": r.setup_time, "wall": wall}


def pyscnn_row(n, d, P):
    py = ROOT / ".venv-bench-relu" / "bin" / "python"
    if not py.exists():
        return {"error": "pyscnn absent (.venv-bench-relu not found)"}
    return {"error": "pyscnn present but the side-by-side run is not implemented yet"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    ap.add_argument("--cvxpy-limit", type=float, default=None)
    ap.add_argument("--admm-limit", type=float, default=300.0)
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--skip-mnist", action="store_true")
    ap.add_argument("--mnist-n", type=int, default=None)
    ap.add_argument("--mnist-iters", type=int, default=None)
    ap.add_argument("--skip-grid", action="store_true")
    ap.add_argument("--child", nargs="+")
    a = ap.parse_args(argv)
    if a.child:
        _child(a.child)
        return
    limit = a.cvxpy_limit or (60.0 if a.quick else 600.0)
    cache_path = Path(a.out) / "relu_cvxpy_cache.json"
    rows = []
    for n, d, P in ([] if a.skip_grid else (QUICK if a.quick else INSTANCES)):
        inst = f"n={n} d={d} P={P}"
        cache = json.loads(cache_path.read_text()) if (cache_path.exists() and not a.no_cache) else {}
        X, y, D = make_instance(n, d, P)
        if inst in cache:
            c = cache[inst]
            print(f"[{inst}] CVXPY/Clarabel from cache: {c}", flush=True)
        else:
            c = run_child(["cvxpy", n, d, P], limit)
            if "error" in c and "did not finish" in c["error"]:
                c["error"] = f"did not finish in {limit:.0f} s (time is a lower bound)"
            cache[inst] = c
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            cache_path.write_text(json.dumps(cache, indent=1))
        for label, relax in (("relu_admm (rho=1)", 1.0), ("relu_admm (rho=1, relax=1.9)", 1.9)):
            if "error" in c:
                print(f"[{inst}] CVXPY/Clarabel: {c['error']}", flush=True)
                r = admm_time_to_gap(X, y, D, None, 10_000, relax=relax, limit=a.admm_limit)
                rows.append({"benchmark": "relu convex program", "instance": inst, "optlab": label,
                             "peer": "cvxpy+Clarabel", "t_optlab": r["t"], "t_peer": float("nan"), "target": 10.0,
                             "accuracy": f"CVXPY: {c['error']}; ADMM {r['nit']} its in {r['t']:.1f} s: "
                                         f"f={r['fun']:.6g}, primal res {r['primal_res']:.1e}, "
                                         f"dual res {r['dual_res']:.1e}"})
                print(f"[{inst}] {label}: {rows[-1]['accuracy']}", flush=True)
                continue
            r = admm_time_to_gap(X, y, D, c["fun"], 10_000, relax=relax, limit=a.admm_limit)
            t_opt = r["t"] if r["reached"] else float("nan")
            print(f"[{inst}] CVXPY {c['t']:.2f} s ({c['status']}, {c['maxrss_gb']:.2f} GB), {label} to gap {GAP:g}: "
                  f"{r['t']:.2f} s ({r['nit']} its, reached={r['reached']}, gap {r['gap']:.1e}, "
                  f"setup {r['setup']:.2f} s)", flush=True)
            rows.append({"benchmark": "relu convex program", "instance": inst, "optlab": label,
                         "peer": "cvxpy+Clarabel", "t_optlab": t_opt, "t_peer": c["t"], "target": 10.0,
                         "accuracy": f"ADMM rel gap {r['gap']:.1e} (sustained, reached={r['reached']}, {r['nit']} "
                                     f"its, {r['t']:.1f} s); CVXPY {c['status']}, {c['maxrss_gb']:.2f} GB"})
        ps = pyscnn_row(n, d, P)
        print(f"[{inst}] pyscnn: {ps.get('error', ps)}", flush=True)
    n_m, iters = (2000, 20) if a.quick else (10000, 60)
    n_m = a.mnist_n or n_m
    iters = a.mnist_iters or iters
    m = {"error": "skipped (--skip-mnist)"} if a.skip_mnist else run_child(["mnist", n_m, 100, iters], 3000)
    print(f"[MNIST odd/even n={n_m} P=100] {m}", flush=True)
    if "error" not in m:
        rows.append({"benchmark": "relu MNIST odd/even", "instance": f"n={n_m} d=785 P=100 ({m['P_s']} distinct)",
                     "optlab": f"relu_admm {iters} its (cholesky)", "peer": "Adam same width (2P), batch 256",
                     "t_optlab": m["t_admm"], "t_peer": m["t_sgd"],
                     "accuracy": f"peak RSS {m['maxrss_gb']:.2f} GB; ADMM train {m['acc_train']:.3f} test "
                                 f"{m['acc_test']}; Adam train {m['sgd_train']:.3f} test {m['sgd_test']}"})
    path = save_rows(a.out, "relu", rows)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
