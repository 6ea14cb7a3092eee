"""Measuring code shared by the matrix-sensing claims and figures (theory_checks/test_lowrank_sensing.py,
figures/fig_lowrank_sensing_*.py).

Each function runs the solvers of :mod:`optlab.lowrank.sensing` on instances of
:mod:`problems.lowrank_sensing` and returns plain dicts (JSON-friendly) with the raw
histories' summaries and the fitted figures.
"""

from __future__ import annotations

import math

import numpy as np

from optlab.lowrank.sensing import gd_asymmetric, gd_symmetric, scaled_gd, subgradient_l1
from optlab.rates import linear_rate, scaling_exponent, sublinear_order
from problems.lowrank_sensing import sensing_problem


def first_below(e, level: float) -> int | None:
    """First index where the history ``e`` is ``<= level`` (None when never)."""
    e = np.asarray(e)
    hit = np.nonzero(e <= level)[0]
    return int(hit[0]) if hit.size else None


# ----------------------------------------------------------------------------- ScaledGD vs GD


def kappa_run(kappa: float, method: str, *, n: int = 20, r: int = 3, c: float = 10.0, k: int | None = None,
              alpha: float = 1e-3, lam_factor: float = 0.5, target: float = 1e-8, max_iter: int = 100_000,
              seed: int = 0, keep_history: bool = False) -> dict:
    """Iterations of ScaledGD(lambda) (``method="scaledgd"``) or GD (``"gd"``) to relative error ``target``."""
    P = sensing_problem(n, r, kappa, c=c, seed=seed)
    k = r if k is None else k
    common = dict(rank=k, alpha=alpha, M_star=P.M_star, criterion="error", tol=target, max_iter=max_iter)
    if method == "scaledgd":
        res = scaled_gd(P.op, P.y, lam=lam_factor * P.sigma_min, **common)
    else:
        res = gd_symmetric(P.op, P.y, **common)
    out = {"kappa": float(kappa), "method": method, "nit": int(res.nit), "success": bool(res.success),
           "final_error": float(res.history["error"][-1]), "step": float(res.step), "k": k, "n": n, "r": r,
           "m": P.op.m}
    if keep_history:
        e = np.asarray(res.history["error"])
        idx = np.unique(np.r_[0, np.geomspace(1, max(e.size - 1, 1), 300).astype(int),
                              np.linspace(0, e.size - 1, min(e.size, 100)).astype(int)])
        out["iters"] = idx.tolist()
        out["error"] = e[idx].tolist()
    return out


def kappa_sweep(kappas, **kw) -> dict:
    """ScaledGD(lambda) and GD iteration counts over ``kappas`` and their fitted exponents."""
    rows = {m: [kappa_run(kp, m, **kw) for kp in kappas] for m in ("scaledgd", "gd")}
    out = {"kappas": [float(x) for x in kappas]}
    for m, rr in rows.items():
        its = np.array([x["nit"] for x in rr], dtype=float)
        out[m] = {"nit": its.tolist(), "success": [x["success"] for x in rr],
                  "exponent": float(scaling_exponent(kappas, its).value)}
        # a + b log(kappa) fit (ScaledGD's claimed shape)
        A = np.c_[np.ones(len(kappas)), np.log(kappas)]
        coef, *_ = np.linalg.lstsq(A, its, rcond=None)
        pred = A @ coef
        ss = float(np.sum((its - its.mean()) ** 2))
        out[m]["log_fit"] = {"a": float(coef[0]), "b": float(coef[1]),
                             "r2": 1 - float(np.sum((its - pred) ** 2)) / ss if ss > 0 else float("nan")}
    out["ratio_at_max_kappa"] = out["gd"]["nit"][-1] / out["scaledgd"]["nit"][-1]
    return out


# ----------------------------------------------------------------------------- curse of symmetry


def symmetric_run(k: int, *, n: int = 20, r: int = 2, c: float = 8.0, alpha: float = 0.1, step: float = 0.2,
                  T: int = 3000, seed: int = 0) -> dict:
    """Symmetric GD for ``T`` iterations; the error history (thinned) and its fits."""
    P = sensing_problem(n, r, 2.0, c=c, seed=seed)
    res = gd_symmetric(P.op, P.y, rank=k, alpha=alpha, step=step, M_star=P.M_star, criterion="error",
                       tol=1e-13, max_iter=T)
    e = np.asarray(res.history["error"])
    it = np.arange(e.size)
    out = {"k": k, "r": r, "n": n, "nit": int(res.nit), "final_error": float(e[-1])}
    start = max(T // 10, 10)
    if k > r:
        sel = it >= start
        fit = sublinear_order(e[sel], it[sel], skip=0)
        out["order"] = float(fit.value)
        out["order_r2"] = float(fit.r2)
        lin = linear_rate(e[sel], it[sel], skip=0)
        out["linear_r2"] = float(lin.r2)
    else:
        lin = linear_rate(e, floor=1e-12)
        out["rate"] = float(lin.value)
        out["linear_r2"] = float(lin.r2)
    keep = np.unique(np.r_[0, np.geomspace(1, e.size - 1, 300).astype(int)])
    out["iters"], out["error"] = keep.tolist(), e[keep].tolist()
    return out


def asymmetric_run(alpha: float, *, k: int = 4, modification: str | None = None, n: int = 16, r: int = 2,
                   c: float = 5.0, step: float = 0.2, max_iter: int = 40_000, target: float = 1e-10,
                   seed: int = 0) -> dict:
    """Asymmetric GD (optionally with the one-step modification) to ``target``; its linear rate."""
    P = sensing_problem(n, r, 2.0, c=c, seed=seed, symmetric=False)
    res = gd_asymmetric(P.op, P.y, rank=k, alpha=alpha, step=step, M_star=P.M_star, criterion="error",
                        tol=target, max_iter=max_iter, modification=modification)
    e = np.asarray(res.history["error"])
    start = 0 if res.modified_at is None else res.modified_at + 1
    fit = linear_rate(e[start:], floor=target)
    keep = np.unique(np.r_[0, np.geomspace(1, e.size - 1, 300).astype(int)])
    return {"alpha": alpha, "k": k, "modification": modification, "nit": int(res.nit), "success": bool(res.success),
            "modified_at": res.modified_at, "rate": float(fit.value), "neg_log_rate": -math.log(fit.value),
            "r2": float(fit.r2), "iters": keep.tolist(), "error": e[keep].tolist(), "n": n, "m": P.op.m}


def alpha_sweep(alphas, *, modification=None, **kw) -> dict:
    rows = [asymmetric_run(a, modification=modification, **kw) for a in alphas]
    rates = np.array([x["neg_log_rate"] for x in rows])
    fit = scaling_exponent(alphas, rates)
    return {"alphas": [float(a) for a in alphas], "neg_log_rate": rates.tolist(), "exponent": float(fit.value),
            "exponent_r2": float(fit.r2), "nit": [x["nit"] for x in rows],
            "success": [x["success"] for x in rows], "rate_over_alpha2": (rates / np.asarray(alphas) ** 2).tolist(),
            "spread": float(rates.max() / rates.min())}


# ----------------------------------------------------------------------------- sub-gradient method


def subgradient_run(rank: int, outlier_fraction: float, *, d: int = 20, r: int = 2, c: float = 10.0,
                    alpha: float = 1e-8, step: float = 1.0, decay: float = 0.97, max_iter: int = 1000,
                    level: float = 1e-4, seed: int = 0) -> dict:
    """SubGM on an outlier-corrupted instance; iterations to ``level`` and the final error."""
    P = sensing_problem(d, r, 2.0, c=c, outlier_fraction=outlier_fraction, seed=seed)
    res = subgradient_l1(P.op, P.y, rank=rank, alpha=alpha, step=step, decay=decay, M_star=P.M_star,
                         tol=0.0, max_iter=max_iter)
    e = np.asarray(res.history["error"])
    keep = np.unique(np.r_[0, np.linspace(0, e.size - 1, 300).astype(int)])
    return {"rank": rank, "outlier_fraction": outlier_fraction, "d": d, "r": r, "m": P.op.m,
            "iters_to_level": first_below(e, level), "level": level, "final_error": float(e[-1]),
            "min_error": float(e.min()), "iters": keep.tolist(), "error": e[keep].tolist()}


def l2_baseline_run(outlier_fraction: float, *, d: int = 20, r: int = 2, c: float = 10.0, alpha: float = 1e-3,
                    max_iter: int = 1000, seed: int = 0) -> dict:
    """Plain GD on the l2 loss (exact width) on the same corrupted instance as :func:`subgradient_run`."""
    P = sensing_problem(d, r, 2.0, c=c, outlier_fraction=outlier_fraction, seed=seed)
    res = gd_symmetric(P.op, P.y, rank=r, alpha=alpha, M_star=P.M_star, tol=0.0, max_iter=max_iter)
    e = np.asarray(res.history["error"])
    keep = np.unique(np.r_[0, np.linspace(0, e.size - 1, 300).astype(int)])
    return {"rank": r, "outlier_fraction": outlier_fraction, "d": d, "r": r, "m": P.op.m,
            "final_error": float(e[-1]), "min_error": float(e.min()), "iters": keep.tolist(), "error": e[keep].tolist()}
