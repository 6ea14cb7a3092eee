"""Convex reference solvers vs scikit-learn on the same instances, same run, matched accuracy.

- Lasso: optlab FISTA (``proximal_gradient(accelerated=True)``) vs ``sklearn.linear_model.Lasso``
  (coordinate descent). Both are stopped at the tolerance that brings the composite objective
  within ``1e-7`` (relative) of F* computed by cvxpy/Clarabel; the achieved gaps are reported.
- l2-regularized logistic regression on LIBSVM mushrooms and scikit-learn breast_cancer: optlab
  damped Newton vs ``sklearn.linear_model.LogisticRegression`` (lbfgs and newton-cg, no
  intercept, ``C = 1/(n lam)``), both to a gradient norm below ``1e-8``; achieved objective gaps
  are reported.

ratio = t_peer / t_optlab (> 1: optlab faster).
"""

from __future__ import annotations

import argparse
import warnings
from functools import partial

import numpy as np

import problems
from optlab.bench import best_time, save_rows
from optlab.convex import newton, prox_l1, proximal_gradient


def bench_lasso(n: int, d: int, lam: float, seed: int) -> dict:
    from sklearn.linear_model import Lasso

    p = problems.lasso(n, d, lam=lam, seed=seed)
    A, b = p.data["A"], p.data["b"]
    fstar = p.f_star

    def F(x):
        return float(p.value(x) + p.g(x))

    def run_ours():
        return proximal_gradient(
            p.value, p.grad, partial(prox_l1, lam=lam), np.zeros(d), L=p.L,
            accelerated=True, tol=1e-9, max_iter=100_000, record=False,
        )

    # sklearn Lasso minimises (1/(2n))||Ax-b||^2 + alpha ||x||_1: the same objective with alpha = lam
    def run_peer():
        m = Lasso(alpha=lam, fit_intercept=False, tol=1e-12, max_iter=100_000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(A, b)
        return m.coef_

    t_o, r = best_time(run_ours)
    t_p, coef = best_time(run_peer)
    gap_o = (F(r.x) - fstar) / abs(fstar)
    gap_p = (F(coef) - fstar) / abs(fstar)
    return {
        "benchmark": "lasso",
        "instance": f"synthetic n={n} d={d} lam={lam}",
        "optlab": "proximal_gradient(accelerated=True)",
        "peer": "sklearn Lasso (cd)",
        "t_optlab": t_o,
        "t_peer": t_p,
        "accuracy": f"rel gap optlab {gap_o:.1e}, peer {gap_p:.1e}",
    }


def bench_logistic(name: str, lam: float) -> list[dict]:
    from sklearn.linear_model import LogisticRegression

    p = problems.logistic_mushrooms(lam=lam) if name == "mushrooms" else problems.logistic_breast_cancer(lam=lam)
    A, y = p.data["A"], p.data["y"]
    n, d = A.shape
    fstar = p.f_star

    def run_ours():
        return newton(p.value, p.grad, p.hess, np.zeros(d), tol=1e-16, max_iter=100, record=False)

    t_o, r = best_time(run_ours)
    rows = []
    for solver in ("lbfgs", "newton-cg"):
        def run_peer(solver=solver):
            m = LogisticRegression(C=1.0 / (n * lam), fit_intercept=False, solver=solver, tol=1e-10, max_iter=10_000)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m.fit(A, y)
            return m.coef_.ravel()

        t_p, coef = best_time(run_peer)
        rows.append({
            "benchmark": "logistic-l2",
            "instance": f"{name} n={n} d={d} lam={lam:g}",
            "optlab": "newton (armijo)",
            "peer": f"sklearn LogisticRegression({solver})",
            "t_optlab": t_o,
            "t_peer": t_p,
            "accuracy": f"gap optlab {p.value(r.x) - fstar:.1e}, peer {p.value(coef) - fstar:.1e}",
        })
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/out")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rows = [bench_lasso(200, 100, 0.05, 0)]
    if not args.quick:
        rows.append(bench_lasso(1000, 500, 0.02, 1))
    rows += bench_logistic("breast_cancer", 1e-3)
    if not args.quick:
        rows += bench_logistic("mushrooms", 1e-4)
    path = save_rows(args.out, "convex", rows)
    for r in rows:
        print(f"{r['benchmark']:12s} {r['instance']:35s} {r['peer']:38s} ratio={r['ratio']:.3g}  {r['accuracy']}")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
