"""Measuring code shared by the AltMin claims (theory_checks/test_lowrank_completion.py) and the
figure (figures/fig_lowrank_altmin.py).

Every function builds its instances with problems.lowrank_completion, runs
optlab.lowrank.altmin.altmin and returns plain dicts of host floats and lists (JSON-ready).
"""

from __future__ import annotations

import math
import time

import numpy as np

from optlab.lowrank.altmin import altmin
from optlab.rates import linear_rate, scaling_exponent
from problems.lowrank_completion import completion_instance

FLOOR = 1e-10  # the claim's target subspace distance / relative error

VARIANTS = {
    "exact": {"method": "exact"},
    "robust-sketch": {"method": "robust", "precond": "sketch", "solve_tol": 0.1},
    "robust-scalar": {"method": "robust", "precond": "scalar", "solve_tol": 0.01},
}


def run_history(P, variant: str | dict, *, max_iter: int = 200, tol: float = 1e-13, seed: int = 0,
                **extra) -> dict:  # fmt: skip
    """Run one AltMin variant on instance ``P`` with the truth attached; return the history."""
    kw = dict(VARIANTS[variant]) if isinstance(variant, str) else dict(variant)
    kw.update(extra)
    t0 = time.perf_counter()
    r = altmin(P.rows, P.cols, P.vals, P.shape, P.rank, tol=tol, max_iter=max_iter, rng=seed,
               ground_truth=P.ground_truth, **kw)  # fmt: skip
    wall = time.perf_counter() - t0
    h = r.history
    dist = np.maximum(h["dist_U"], h["dist_V"])
    return {
        "iter": h["iter"].tolist(),
        "dist": dist.tolist(),
        "rel_error": h["rel_error"].tolist(),
        "rel_residual": h["rel_residual"].tolist(),
        "n_ops": h["n_ops"].tolist(),
        "n_inner": h["n_inner"].tolist(),
        "time": h["time"].tolist(),
        "nit": int(r.nit),
        "success": bool(r.success),
        "message": r.message,
        "wall": wall,
        "n_ops_total": float(r.n_ops),
        "n_ops_precond": float(r.n_ops_precond),
    }


def contraction_fit(hist: dict, floor: float = FLOOR) -> dict:
    """Linear-rate fit of the subspace distance from iteration 1 down to ``floor``.

    Window: the entries from iteration 1 (after the first full step; the spectral start is
    excluded) up to the first one at or below ``floor`` (``optlab.rates.linear_rate``,
    ``skip=1``). Returns the contraction factor ``q``, ``r2``, the smallest distance
    reached and the iteration where ``floor`` was first met (``None`` if never).
    """
    d = np.asarray(hist["dist"], dtype=float)
    below = np.nonzero(d <= floor)[0]
    hit = int(below[0]) if below.size else None
    fit = linear_rate(d, skip=1, floor=floor)
    return {"q": float(fit.value), "r2": float(fit.r2), "window": list(fit.window),
            "min_dist": float(np.nanmin(d)), "iter_at_floor": hit,
            "final_rel_error": float(hist["rel_error"][-1])}  # fmt: skip


def contraction_experiment(n: int, k: int, kappa: float, c: float, *, seed: int = 0,
                           variants=("exact", "robust-sketch", "robust-scalar"),
                           max_iter: int = 200) -> dict:  # fmt: skip
    """AltMin variants on one incoherent instance with |Omega| = c (m + n) k log n."""
    P = completion_instance(n, n, k, kappa=kappa, c=c, seed=seed)
    out = {"n": n, "k": k, "kappa": kappa, "c": c, "nnz": P.nnz, "p": P.p, "mu": P.truth.mu,
           "seed": seed, "runs": {}}  # fmt: skip
    for v in variants:
        h = run_history(P, v, max_iter=max_iter, seed=seed)
        h["fit"] = contraction_fit(h)
        out["runs"][v] = h
    return out


def cost_per_iteration(P, variant: str, *, iters: int = 2, seed: int = 0) -> dict:
    """Operation counts and time per outer iteration (``iters`` iterations from the spectral
    start; the initialization is excluded)."""
    kw = dict(VARIANTS[variant])
    t0 = time.perf_counter()
    r = altmin(P.rows, P.cols, P.vals, P.shape, P.rank, tol=1e-300, max_iter=iters, rng=seed, **kw)
    wall = time.perf_counter() - t0
    t_iter = float(r.history["time"][-1] - r.history["time"][0]) / r.nit
    return {"variant": variant, "k": P.rank, "nnz": P.nnz, "n": P.shape[0],
            "ops": float(r.n_ops) / r.nit, "ops_precond": float(r.n_ops_precond) / r.nit,
            "ops_total": float(r.n_ops + r.n_ops_precond) / r.nit, "inner": r.n_inner / r.nit,
            "time": t_iter, "wall": wall}  # fmt: skip


def cost_vs_k(n: int, nnz: int, ks, variants=tuple(VARIANTS), *, iters: int = 2, seed: int = 0) -> list[dict]:
    """Cost per outer iteration at fixed |Omega| = ``nnz`` over the ranks ``ks``."""
    rows = []
    for k in ks:
        P = completion_instance(n, n, k, kappa=1.0, nnz=nnz, seed=seed)
        for v in variants:
            rows.append(cost_per_iteration(P, v, iters=iters, seed=seed))
    return rows


def cost_vs_omega(ns, per_col: int, k: int, variants=tuple(VARIANTS), *, iters: int = 2,
                  seed: int = 0) -> list[dict]:  # fmt: skip
    """Cost per outer iteration at fixed k over square sizes ``ns`` with |Omega| = per_col n."""
    rows = []
    for n in ns:
        P = completion_instance(n, n, k, kappa=1.0, nnz=per_col * n, seed=seed)
        for v in variants:
            rows.append(cost_per_iteration(P, v, iters=iters, seed=seed))
    return rows


def exponent(rows: list[dict], variant: str, x: str, y: str, *, last: int | None = None) -> dict:
    """Fitted exponent of ``y`` against ``x`` for one variant (``last``: the largest sizes only)."""
    sel = sorted((r for r in rows if r["variant"] == variant), key=lambda r: r[x])
    if last is not None:
        sel = sel[-last:]
    fit = scaling_exponent([r[x] for r in sel], [r[y] for r in sel])
    return {"value": float(fit.value), "r2": float(fit.r2), "sizes": [r[x] for r in sel],
            "costs": [r[y] for r in sel]}  # fmt: skip


def log_ratio(q_a: float, q_b: float) -> float:
    """``log q_a / log q_b``: how many of b's iterations one of a's is worth (1 = same rate)."""
    return math.log(q_a) / math.log(q_b)
