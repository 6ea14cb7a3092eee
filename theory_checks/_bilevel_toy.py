"""Measuring code for the bilevel toy claims (LV-HBA, sl-BAMM, MEHA, BDA) and their figure.

Holds the settings each method runs with on each toy (``SETTINGS``, documented where they
differ from the solver defaults), a minimal AID baseline (lower-level gradient descent plus
an implicit-differentiation hypergradient with the *minimum-norm* solution of the singular
lower-level Hessian system, i.e. the most favourable AID), and ``run`` which returns plain
dicts (JSON-able) for the claims and the figure.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from problems.bilevel_toy import (
    lvhba_constrained_toy,
    nonsingleton_toy,
    sine_toy,
    strongly_convex_toy,
)

__all__ = ["SETTINGS", "aid_baseline", "make_problem", "run", "AID_LIMIT_X"]

# x where lower-level-only methods stop on nonsingleton_toy from y2_0 = 0.01: (1 + 0.01) / 2
AID_LIMIT_X = 0.505

# Per-(method, toy) options. "default" = the solver's documented defaults (the papers' or
# the official code's values); other entries are our tuning, stated in the claim modules.
SETTINGS: dict[tuple[str, str], dict[str, Any]] = {
    ("bda", "nonsingleton"): {"step": 0.5, "max_iter": 1000},
    ("slbamm", "nonsingleton"): {"mu_power": 0.5, "step": 0.1, "y_step": 0.5, "max_iter": 3000},
    ("slbamm_code", "nonsingleton"): {"max_iter": 10000},  # official-code schedule (defaults)
    ("meha", "nonsingleton"): {"step": 0.1, "theta_step": 0.2, "max_iter": 5000},
    ("lvhba", "nonsingleton"): {"step": 0.05, "theta_step": 0.1, "gamma1": 1.0, "c0": 0.2, "max_iter": 5000},
    ("aid", "nonsingleton"): {"step": 0.5, "max_iter": 300},
    ("lvhba", "constrained"): {"gamma1": 1.0, "gamma2": 1.0, "c0": 1.0, "p": 0.45, "max_iter": 10000},
    ("lvhba_code", "constrained"): {"max_iter": 1500},  # official toy defaults
    ("meha", "sine"): {"c0": 2.0, "p": 0.45, "step": 0.2, "theta_step": 0.2, "max_iter": 10000},
    ("aid", "strongly_convex"): {"step": 0.5, "max_iter": 300},
}


def make_problem(toy: str, n: int):
    if toy == "nonsingleton":
        return nonsingleton_toy(n)
    if toy == "constrained":
        return lvhba_constrained_toy(n)
    if toy == "sine":
        return sine_toy(n)
    if toy == "strongly_convex":
        return strongly_convex_toy(n)
    raise ValueError(f"unknown toy {toy!r}")


def aid_baseline(problem, x0=None, y0=None, *, step: float = 0.5, inner_steps: int = 10,
                 max_iter: int = 300) -> dict[str, Any]:  # fmt: skip
    """AID with warm-started lower-level gradient descent and a min-norm linear solve.

    Per iteration: ``inner_steps`` steps ``y <- y - grad_y g / L_g``; ``v = pinv(H) grad_y f``
    (``H = hess_g_yy``: minimum-norm least squares, exact when H is invertible);
    hypergradient ``grad_x f - J v`` (``J = jac_g_xy``); ``x <- x - step * hypergradient``.
    Returns the trajectory of x, y and the errors to the problem's known solution.
    """
    x = np.array(problem.x0 if x0 is None else x0, dtype=float)
    y = np.array(problem.y0 if y0 is None else y0, dtype=float)
    s = 1.0 / problem.constants.get("L_g", 1.0)
    xs, ys = np.asarray(problem.x_star, float), np.asarray(problem.y_opt, float)
    hist = {"x_error": [], "y_error": [], "error": [], "x_mean": [], "y2_mean": []}
    n_grad = n_hvp = 0

    def rec():
        ex, ey = float(np.linalg.norm(x - xs)), float(np.linalg.norm(y - ys))
        hist["x_error"].append(ex)
        hist["y_error"].append(ey)
        hist["error"].append(math.hypot(ex, ey))
        hist["x_mean"].append(float(np.mean(x)))
        hist["y2_mean"].append(float(np.mean(y[problem.dim_x:])) if problem.dim_y == 2 * problem.dim_x else math.nan)

    rec()
    for _ in range(max_iter):
        for _ in range(inner_steps):
            y = y - s * problem.grad_g_y(x, y)
            n_grad += 1
        H, J = problem.hess_g_yy(x, y), problem.jac_g_xy(x, y)
        n_hvp += problem.dim_y
        v = np.linalg.lstsq(H, problem.grad_f_y(x, y), rcond=None)[0]
        x = x - step * (problem.grad_f_x(x, y) - J @ v)
        n_grad += 2
        rec()
    return {"x": x, "y": y, "history": {k: np.asarray(v) for k, v in hist.items()},
            "n_grad": n_grad, "n_hvp": n_hvp}  # fmt: skip


def hypergrad_baseline(problem, kind: str = "aid_cg", *, step: float = 0.5, inner_steps: int = 10,
                       max_iter: int = 300) -> dict[str, Any]:  # fmt: skip
    """Gradient descent on x with the family's hypergradients (``optlab.bilevel.hypergrad``).

    ``kind="aid_cg"``: warm-started lower-level gradient descent, then ``aid_cg`` (CG on the
    singular ``H v = grad_y f``, which breaks down or stops at its iteration limit here: the
    estimate is used anyway); ``kind="itd"``: ``itd`` through ``inner_steps`` lower-level steps
    from the warm start. Returns the final errors (``None`` when the module is missing).
    """
    try:
        from optlab.bilevel import hypergrad as HG
    except ImportError:  # pragma: no cover - the other area's module
        return {"available": False}
    x = np.array(problem.x0, dtype=float)
    y = np.array(problem.y0, dtype=float)
    s = 1.0 / problem.constants.get("L_g", 1.0)
    diverged_at = None
    old = np.seterr(over="ignore", invalid="ignore")
    for k in range(max_iter):
        if kind == "itd":
            r = HG.itd(problem, x, y, n_steps=inner_steps, step=s)
            for _ in range(inner_steps):
                y = y - s * problem.grad_g_y(x, y)
        else:
            for _ in range(inner_steps):
                y = y - s * problem.grad_g_y(x, y)
            r = HG.aid_cg(problem, x, y, max_iter=2 * problem.dim_y)
        x = x - step * np.asarray(r.grad)
        if not np.all(np.isfinite(x)) or np.linalg.norm(x) > 1e8:
            diverged_at = k + 1
            break
    xs, ys = np.asarray(problem.x_star, float), np.asarray(problem.y_opt, float)
    ex, ey = float(np.linalg.norm(x - xs)), float(np.linalg.norm(y - ys))
    np.seterr(**old)
    return {"available": True, "kind": kind, "x_mean": float(np.mean(x)), "x_error": ex, "y_error": ey,
            "error": math.hypot(ex, ey), "diverged_at": diverged_at}  # fmt: skip


def _solver(method: str):
    from optlab.bilevel.bda import bda
    from optlab.bilevel.lvhba import lvhba
    from optlab.bilevel.meha import meha
    from optlab.bilevel.slbamm import slbamm

    return {"bda": bda, "slbamm": slbamm, "slbamm_code": slbamm, "meha": meha, "lvhba": lvhba,
            "lvhba_code": lvhba}[method]  # fmt: skip


def run(method: str, toy: str, n: int, *, keep: int = 400, **override: Any) -> dict[str, Any]:
    """Run ``method`` on ``toy`` of size ``n`` with ``SETTINGS`` (+ overrides).

    Returns final errors, counts, time, and a thinned history (at most ``keep`` rows on a
    geometric grid plus the first 50) of the error, x/y2 means (the trajectory in the
    (mean x, mean y2) plane for the figure), F and the lower-level gap.
    """
    p = make_problem(toy, n)
    opts = dict(SETTINGS.get((method, toy), {}))
    opts.update(override)
    t0 = time.perf_counter()
    if method == "aid":
        r = aid_baseline(p, **opts)
        wall = time.perf_counter() - t0
        h = r["history"]
        out = {"x_error": float(h["x_error"][-1]), "y_error": float(h["y_error"][-1]),
               "error": float(h["error"][-1]), "x_mean": float(np.mean(r["x"])), "nit": opts.get("max_iter"),
               "n_grad": r["n_grad"], "n_hvp": r["n_hvp"], "time": wall}  # fmt: skip
        hist = h
    else:
        extra = {}
        if toy == "constrained":
            extra = {"theta0": np.full(2 * n, 10.0), "lam0": 1.0, "z0": -1.0}
        res = _solver(method)(p, **extra, **opts)
        wall = time.perf_counter() - t0
        h = res.history
        ys = np.asarray(res.y)
        out = {"x_error": float(res.x_error), "y_error": float(res.y_error),
               "error": float(math.hypot(res.x_error, res.y_error)), "x_mean": float(np.mean(res.x)),
               "nit": int(res.nit), "status": int(res.status), "n_grad": int(res.n_grad),
               "n_hvp": int(res.n_hvp), "n_jvp": int(res.n_jvp), "time": wall,
               "y2_mean": float(np.mean(ys[n:])) if p.dim_y == 2 * n else math.nan}  # fmt: skip
        hist = {k: np.asarray(v) for k, v in h.items()}
        if p.dim_y == 2 * n:
            hist["x_mean"] = np.full(len(h["iter"]), np.nan)
    out["x_star_norm"] = float(np.linalg.norm(p.x_star))
    out["rel_x_error"] = out["x_error"] / out["x_star_norm"]
    m = len(hist["error"])
    idx = np.unique(np.r_[np.arange(min(50, m)), np.geomspace(1, max(m - 1, 1), keep).astype(int), m - 1])
    idx = idx[idx < m]
    out["hist"] = {k: np.asarray(v, float)[idx].tolist() for k, v in hist.items()
                   if k in ("iter", "error", "x_error", "y_error", "F", "lower_gap", "c", "x_mean", "y2_mean",
                            "constraint_violation")}  # fmt: skip
    if "iter" not in out["hist"]:
        out["hist"]["iter"] = idx.astype(float).tolist()
    out.update({"method": method, "toy": toy, "n": n, "options": {k: v for k, v in opts.items()}})
    return out


def trajectory(method: str, **override: Any) -> dict[str, list[float]]:
    """(x, y1, y2) trajectory on the 1-D non-singleton toy (n = 1), for the figure."""
    p = make_problem("nonsingleton", 1)
    opts = dict(SETTINGS.get((method, "nonsingleton"), {}))
    opts.update(override)
    if method == "aid":
        r = aid_baseline(p, **opts)
        return {"x": r["history"]["x_mean"].tolist(), "y2": r["history"]["y2_mean"].tolist()}
    res = _solver(method)(p, **opts)
    h = res.history
    return {"x": h["x_0"].tolist(), "y1": h["y_0"].tolist(), "y2": h["y_1"].tolist()}
