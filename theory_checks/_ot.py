r"""Shared measurements of the OT claim checks (``test_ot_*.py``) and their figures.

- :func:`sinkhorn_rate`: fitted linear rate of Sinkhorn's marginal error;
- :func:`iterations_to`: iterations each method needs to reach a marginal error;
- :func:`newton_order`: Q-order of the SNS Newton stage;
- :func:`per_iteration_cost`: operation counts and time per Newton iteration against n;
- :func:`second_best_gap`: the vertex optimality gap Delta of an assignment LP (Theorem 1);
- :func:`sparsity_after`: mass of P outside its n largest entries after t Sinkhorn steps.

Nothing here asserts; the ``test_ot_*`` modules turn these numbers into verdicts.
"""

from __future__ import annotations

import math
import time

import numpy as np

from optlab.ot import sinkhorn, sinkhorn_newton_sparse
from optlab.rates import convergence_order, linear_rate, scaling_exponent
from problems.ot import OTProblem, random_assignment

TANG = ("Tang, Shavlovsky, Rahmanian, Tardini, Thekumparampil, Xiao & Ying (2024), Accelerating "
        "Sinkhorn Algorithm with Sparse Newton Iterations, ICLR 2024, arXiv:2401.12253")


def sinkhorn_rate(p: OTProblem, reg: float, *, hi: float = 1e-2, lo: float = 1e-11,
                  max_iter: int = 200_000) -> dict:
    """Linear rate of the marginal error over the window ``lo < e_k <= hi`` (fixed by level)."""
    res = sinkhorn(p.a, p.b, p.M, reg, tol=lo, max_iter=max_iter)
    e = res.history["marginal_error"]
    k0 = int(np.argmax(e <= hi))
    fit = linear_rate(e[k0:], skip=0, floor=lo)
    return {"q": fit.value, "r2": fit.r2, "window": [k0, k0 + fit.window[1]], "nit": int(res.nit),
            "success": bool(res.success)}


def iterations_to(e: np.ndarray, tol: float) -> int | None:
    """First iteration whose marginal error is ``<= tol`` (None if never)."""
    hit = np.flatnonzero(np.asarray(e) <= tol)
    return int(hit[0]) if hit.size else None


def iteration_ratio(p: OTProblem, reg: float, *, tol: float = 1e-9, keep: float = 2.0,
                    n_warmup: int = 20, sinkhorn_max_iter: int = 500_000) -> dict:
    """Sinkhorn iterations / SNS iterations (warm-up included) to marginal error ``tol``."""
    t0 = time.perf_counter()
    s = sinkhorn(p.a, p.b, p.M, reg, tol=tol, max_iter=sinkhorn_max_iter, record=True)
    ts = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = sinkhorn_newton_sparse(p.a, p.b, p.M, reg, tol=tol, keep=keep, n_warmup=n_warmup)
    tn = time.perf_counter() - t0
    it_s = int(s.nit) if s.success else None
    it_n = int(r.nit) if r.success else None
    ratio = (it_s / it_n) if (it_s and it_n) else float("nan")
    if not s.success and it_n:  # Sinkhorn capped: the ratio is a lower bound
        ratio = s.nit / it_n
    return {"instance": p.name, "reg": reg, "sinkhorn_iters": int(s.nit), "sinkhorn_converged": bool(s.success),
            "sns_iters": int(r.nit), "sns_newton": int(r.n_newton), "sns_sinkhorn": int(r.n_sinkhorn),
            "sns_fallback": int(r.n_fallback), "ratio": ratio, "t_sinkhorn": ts, "t_sns": tn,
            "keep": keep, "n_warmup": n_warmup}  # fmt: skip


def table1_counts(seeds, reg: float = 1 / 1200, n: int = 500, tol: float = 1e-13) -> dict:
    """SNS iterations (warm-up + Newton) to machine accuracy (marginal error ``<= tol``) on
    random assignment, for the solver default (keep = 6), the two literal readings of the
    paper's target sparsity 2/n (keep = 2: 2n entries of P; keep = 3: 8n entries of the
    2n x 2n Hessian), keep = 15 and the threshold rule rho = 1e-4."""
    variants = {"default": {}, "keep=2": {"keep": 2.0}, "keep=3": {"keep": 3.0}, "keep=15": {"keep": 15.0},
                "rho=1e-4": {"rho": 1e-4}}
    out: dict = {}
    for s in seeds:
        p = random_assignment(n, seed=s)
        row = {}
        for name, kw in variants.items():
            r = sinkhorn_newton_sparse(p.a, p.b, p.M, reg, tol=tol, max_iter=500, record=False, **kw)
            row[name] = {"nit": int(r.nit), "newton": int(r.n_newton), "warmup": int(r.n_sinkhorn),
                         "success": bool(r.success)}
        out[f"seed={s}"] = row
    return out


def newton_order(p: OTProblem, reg: float, *, keep: float, n_warmup: int = 20, tol: float = 1e-12) -> dict:
    """Q-order of the marginal errors from the last warm-up iterate through the Newton stage."""
    r = sinkhorn_newton_sparse(p.a, p.b, p.M, reg, tol=tol, keep=keep, n_warmup=n_warmup)
    h = r.history
    st = h["stage"] == 1
    first = int(np.flatnonzero(st)[0])
    e = h["marginal_error"][first - 1:]
    e = e[e > 1e-14]  # the rounding level of the marginal sums (n <= 1000)
    fit = convergence_order(e, skip=0, floor=1e-14)
    return {"instance": p.name, "reg": reg, "keep": keep, "order": fit.value,
            "superlinear": bool(fit.extra["superlinear"]), "errors": e.tolist(),
            "ratios": [float(x) for x in fit.extra["ratios"]], "n_newton": int(r.n_newton),
            "nit": int(r.nit), "success": bool(r.success)}


def per_iteration_cost(ns, reg: float, *, keep: float = 2.0, n_newton: int = 3, seed: int = 0) -> dict:
    """Per-Newton-iteration entry operations (``dense_ops``), kept entries and time against n."""
    ops, kept, tper, tsink = [], [], [], []
    for n in ns:
        p = random_assignment(n, seed=seed)
        r = sinkhorn_newton_sparse(p.a, p.b, p.M, reg, tol=0.0, keep=keep, max_iter=20 + n_newton)
        h = r.history
        st = np.flatnonzero(h["stage"] == 1)
        ops.append(float(np.mean(h["dense_ops"][st])))
        kept.append(float(np.mean(h["kept"][st])))
        tt = h["time"]
        tper.append(float(np.median(tt[st] - tt[st - 1])))
        sk = np.arange(2, 21)
        tsink.append(float(np.median(tt[sk] - tt[sk - 1])))
    return {"n": list(ns), "ops_per_newton": ops, "kept": kept, "t_newton": tper, "t_sinkhorn": tsink,
            "ops_exponent": scaling_exponent(ns, ops).value,
            "kept_exponent": scaling_exponent(ns, kept).value,
            "time_exponent": scaling_exponent(ns, tper).value,
            "newton_over_sinkhorn_time": [a / b for a, b in zip(tper, tsink, strict=True)]}


def second_best_gap(M: np.ndarray) -> tuple[float, np.ndarray]:
    """Vertex optimality gap of the assignment LP with uniform marginals 1/n.

    The vertices are permutation matrices / n; the second-best vertex differs from the
    optimal permutation, so it is the best assignment that avoids at least one optimal edge
    (one solve per edge, ``scipy.optimize.linear_sum_assignment``). Returns ``(Delta, perm)``
    with Delta in the units of ``<P, M>``.
    """
    from scipy.optimize import linear_sum_assignment

    n = M.shape[0]
    rows, cols = linear_sum_assignment(M)
    best = M[rows, cols].sum()
    second = math.inf
    big = M.max() * n + 1.0
    for i, j in zip(rows, cols, strict=True):
        Mi = M.copy()
        Mi[i, j] = big
        r2, c2 = linear_sum_assignment(Mi)
        second = min(second, Mi[r2, c2].sum())
    return float((second - best) / n), cols


def sparsity_after(p: OTProblem, reg: float, ts) -> list[float]:
    """l1 distance of the Sinkhorn plan after t iterations to the n-sparse matrices
    (mass outside its n largest entries), for each t in ``ts``."""
    n = p.M.shape[0]
    out = []
    for t in ts:
        P = sinkhorn(p.a, p.b, p.M, reg, tol=0.0, max_iter=int(t), record=False).plan
        flat = np.sort(P.ravel())
        out.append(float(flat[:-n].sum()))
    return out
