"""Bilevel benchmarks: AID-CG hypergradient vs jaxopt implicit differentiation, and MNIST hyper-cleaning.

1. Hypergradient (implicit differentiation with CG) of a per-feature-regularized problem at
   the exact inner solution w*: ridge (least squares + sum_j e^{x_j} w_j^2 / 2) and logistic
   regression (same regularizer), synthetic Gaussian data with n = 2000 samples (validation
   2000) and d = 1000, 3000, 10000 features (--quick: 1000, 2000); d hyperparameters. optlab:
   ``optlab.bilevel.hypergrad.aid_cg`` (CG to relative residual 1e-10, float64, NumPy oracles
   of problems.bilevel). Peer: jaxopt 0.8.5 ``implicit_diff.custom_root`` with
   ``linear_solve.solve_cg`` (tol 1e-10) on the same data and the same w*, float64, jitted,
   compile time excluded (warm-up call), in a separate virtual environment
   ``.venv-bench-bilevel`` (``pip install jax jaxopt``) run as a subprocess; when it is absent
   the peer is reported as absent. Accuracy column: relative difference of the two
   hypergradients. Timing: interleaved rounds (one optlab call, then one jaxopt call in a
   persistent subprocess, 7 times) and the best of each, so that both see the same load on
   this shared machine; ``ratio`` = best jaxopt / best optlab, ``ratio_paired_median`` =
   median over rounds of t_jaxopt / t_optlab of the same round. Neither timing includes the lower-level
   solve (both start from the same w*): each does one upper gradient, the CG matvecs
   (matrix-free for both; optlab does not use the explicit Gram matrix the dense ridge
   problem could give) and one Jacobian product. optlab's HVP oracle
   (``problems.bilevel._gram_matvec``) makes one cache-blocked pass over X_train per
   product instead of two full passes (jaxopt/XLA: two gemv); this, not the CG loop, is
   where the difference at d >= 3000 comes from (before it: ratios 0.80 / 0.88 / 0.70 for
   ridge, 0.75 / 0.77 / 0.77 logistic, same interleaved protocol). Both single-threaded (OpenBLAS
   limited to one thread with threadpoolctl, XLA with ``--xla_cpu_multi_thread_eigen=false``):
   on this 2-core machine shared with other jobs, a 2-thread OpenBLAS gemv was measured 50x
   slower than 1 thread. Target (issue): ratio = t_jaxopt / t_optlab >= 1.
2. MNIST hyper-cleaning (``theory_checks._bilevel.run_cleaning``, the figure's set-up): time for
   each method to first reach the common accuracy level (the lowest of the methods' best clean
   test accuracies); ratio = t_method / t_F2SA (> 1: F2SA faster). F2SA uses gradients only.

ratio = t_peer / t_optlab (> 1: optlab faster).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optlab.bench import best_time, save_rows  # noqa: E402
from optlab.bilevel.hypergrad import aid_cg  # noqa: E402

JAX_PY = ROOT / ".venv-bench-bilevel" / "bin" / "python"

JAX_SCRIPT = r'''
import json, sys, time, functools
import numpy as np
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
from jaxopt import implicit_diff, linear_solve
d = np.load(sys.argv[1])
kind = str(d["kind"])
Xt, tt, Xv, tv, x0, w = (jnp.asarray(d[k]) for k in ("Xt", "tt", "Xv", "tv", "x", "w"))
nt, nv = Xt.shape[0], Xv.shape[0]
def inner(w_, x, Xt, tt):
    if kind == "ridge":
        loss = 0.5 * jnp.mean((Xt @ w_ - tt) ** 2)
    else:
        loss = jnp.mean(jnp.logaddexp(0.0, -tt * (Xt @ w_)))
    return loss + 0.5 * jnp.sum(jnp.exp(x) * w_ ** 2)
def outer_loss(w_, Xv, tv):
    if kind == "ridge":
        return 0.5 * jnp.mean((Xv @ w_ - tv) ** 2)
    return jnp.mean(jnp.logaddexp(0.0, -tv * (Xv @ w_)))
solve = functools.partial(linear_solve.solve_cg, tol=1e-10, maxiter=10 * w.shape[0])
@implicit_diff.custom_root(jax.grad(inner), solve=solve)
def solver(init, x, Xt, tt):
    return init  # the exact inner solution, passed in (same w* as optlab)
# data and w* are arguments, not closure constants: as constants XLA folds everything that does
# not depend on x (the upper gradient, the logistic curvature) at compile time
hg = jax.jit(jax.grad(lambda x, w_, Xt, tt, Xv, tv: outer_loss(solver(w_, x, Xt, tt), Xv, tv)))
args = (x0, w, Xt, tt, Xv, tv)
g = hg(*args).block_until_ready()  # compile (excluded)
np.save(sys.argv[2], np.asarray(g))
print(json.dumps({"ready": True, "jax": jax.__version__}), flush=True)
for line in sys.stdin:  # one timed call per request, so that the caller can interleave rounds
    if line.strip() != "run":
        break
    t0 = time.perf_counter(); g = hg(*args).block_until_ready(); t = time.perf_counter() - t0
    print(json.dumps({"t": t}), flush=True)
'''


def instance(kind: str, d: int, n: int = 2000, seed: int = 0):
    from problems.bilevel import logistic_bilevel, ridge_bilevel

    if kind == "ridge":
        p = ridge_bilevel("synthetic", per_feature=True, n=2 * n, d=d, seed=seed)
        x = np.full(d, np.log(0.1))
        w = p.y_star(x)
    else:
        p = logistic_bilevel("synthetic", n=2 * n, d=d, seed=seed, x_init=np.log(0.1))
        x = p.x0
        w = _logistic_solve(p, x)
    return p, x, w


def _logistic_solve(p, x):
    """Inner solution by Newton-CG with HVPs (gradient norm 1e-12)."""
    from optlab._backend import cg, get_namespace

    w = np.zeros(p.dim_y)
    xp = get_namespace(w)
    for _ in range(50):
        g = p.grad_g_y(x, w)
        if np.linalg.norm(g) <= 1e-12:
            break
        wk = w
        step, _, _ = cg(xp, lambda v, wk=wk: p.hvp_g_yy(x, wk, v), g, tol=1e-6)
        w = w - step
    return w


def _aid(p, x, w, d):
    # a fresh w each call: the logistic HVP caches its curvature per (x, w) object, which must
    # not carry over from one timed call to the next
    return aid_cg(p, x, w.copy(), tol=1e-10, max_iter=10 * d)


def bench_hypergrad(kind: str, d: int, rounds: int = 7) -> dict:
    """Interleaved rounds: one optlab call, then one jaxopt call (persistent subprocess), ``rounds``
    times; best of each. Both single-threaded; neither includes the lower-level solve (same w*)."""
    p, x, w = instance(kind, d)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        threadpool_limits = None
    limit = threadpool_limits(limits=1) if threadpool_limits is not None else None
    try:
        r = _aid(p, x, w, d)  # warm-up (also the reported hypergradient)
        row = {"benchmark": "bilevel hypergradient (AID-CG)",
               "instance": f"{kind} n=2000 d={d} (d hyperparameters)", "optlab": "aid_cg",
               "peer": "jaxopt custom_root + solve_cg", "cg_matvecs": int(r.nit), "target": ">= 1",
               "rounds": rounds}
        if not JAX_PY.exists():
            row.update(t_optlab=best_time(lambda: _aid(p, x, w, d), repeat=rounds)[0], t_peer=float("nan"),
                       peer="jaxopt (absent: .venv-bench-bilevel missing)")
            return row
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data.npz"
            out = Path(tmp) / "g.npy"
            script = Path(tmp) / "jx.py"
            script.write_text(JAX_SCRIPT)
            dd = p.data
            np.savez(data, kind=kind, Xt=dd["X_train"], tt=dd["t_train"], Xv=dd["X_val"], tv=dd["t_val"], x=x, w=w)
            env = {**os.environ, "JAX_PLATFORMS": "cpu", "OPENBLAS_NUM_THREADS": "1",
                   "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}
            proc = subprocess.Popen([str(JAX_PY), str(script), str(data), str(out)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            try:
                info = json.loads(proc.stdout.readline() or "{}")
                if not info.get("ready"):
                    err = proc.stderr.read().strip()[-200:]
                    row.update(t_optlab=best_time(lambda: _aid(p, x, w, d), repeat=rounds)[0],
                               t_peer=float("nan"), peer=f"jaxopt (failed: {err})")
                    return row
                t_opt, t_jax = [], []
                for _ in range(rounds):
                    t0 = time.perf_counter()
                    _aid(p, x, w, d)
                    t_opt.append(time.perf_counter() - t0)
                    proc.stdin.write("run\n")
                    proc.stdin.flush()
                    t_jax.append(json.loads(proc.stdout.readline())["t"])
                proc.stdin.write("stop\n")
                proc.stdin.flush()
                proc.wait(timeout=60)
            finally:
                if proc.poll() is None:
                    proc.kill()
            gj = np.load(out)
    finally:
        if limit is not None:
            limit.restore_original_limits()
    row.update(t_optlab=min(t_opt), t_peer=min(t_jax), t_optlab_median=float(np.median(t_opt)),
               t_peer_median=float(np.median(t_jax)),
               ratio_paired_median=float(np.median(np.asarray(t_jax) / np.asarray(t_opt))),
               accuracy=float(np.linalg.norm(gj - r.grad) / np.linalg.norm(r.grad)),
               peer=f"jaxopt 0.8.5 custom_root + solve_cg (jax {info['jax']})")
    return row


def bench_cleaning(quick: bool) -> list[dict]:
    from theory_checks import _bilevel as B

    n_iter = 200 if quick else 1500
    runs = {m: B.run_cleaning(m, n_iter, quick=quick, eval_every=10 if quick else 25) for m in B.CLEANING_METHODS}
    level = min(max(r["test_accuracy"]) for r in runs.values())

    def t_to(r):
        acc = np.asarray(r["test_accuracy"])
        i = int(np.nonzero(acc >= level)[0][0])
        return float(r["time"][i]), float(r["oracle_calls"][i]), float(acc.max())

    tf, cf, bf = t_to(runs["f2sa"])
    rows = []
    for m, r in runs.items():
        if m == "f2sa":
            continue
        t, c, b = t_to(r)
        rows.append({"benchmark": "MNIST hyper-cleaning: time to a common clean test accuracy",
                     "instance": f"p=0.3, level {level:.3f}{' (quick)' if quick else ''}", "optlab": "f2sa",
                     "peer": m, "t_optlab": tf, "t_peer": t, "oracle_calls_f2sa": cf, "oracle_calls_peer": c,
                     "best_acc_f2sa": bf, "best_acc_peer": b, "target": "report"})
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    ap.add_argument("--skip-cleaning", action="store_true", help="hypergradient rows only")
    args = ap.parse_args(argv)
    dims = [1000, 2000] if args.quick else [1000, 3000, 10000]
    rows = []
    for kind in ("ridge", "logistic"):
        for d in dims:
            t0 = time.perf_counter()
            row = bench_hypergrad(kind, d)
            rows.append(row)
            print(f"[{row['instance']}] optlab {row['t_optlab']:.4f}s, {row['peer']}: {row['t_peer']:.4f}s, "
                  f"ratio {row['t_peer'] / row['t_optlab']:.2f} (paired median "
                  f"{row.get('ratio_paired_median', float('nan')):.2f}), rel.diff {row.get('accuracy', float('nan')):.1e} "
                  f"({time.perf_counter() - t0:.0f}s)", flush=True)
    for row in ([] if args.skip_cleaning else bench_cleaning(args.quick)):
        rows.append(row)
        print(f"[cleaning] {row['peer']}: {row['t_peer']:.2f}s vs f2sa {row['t_optlab']:.2f}s "
              f"(ratio {row['t_peer'] / row['t_optlab']:.2f}; best acc {row['best_acc_peer']:.3f} vs "
              f"{row['best_acc_f2sa']:.3f})", flush=True)
    path = save_rows(args.out, "bilevel", rows)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
