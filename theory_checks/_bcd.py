"""Measuring code shared by the BCD claims (theory_checks/test_bcd_*.py) and figures/fig_bcd_*.py.

Nutini, Laradji & Schmidt, "Let's Make Block Coordinate Descent Converge Faster: Faster Greedy
Rules, Message-Passing, Active-Set Complexity, and Superlinear Convergence", JMLR 23(131), 2022
(arXiv:1712.08859). Section numbers in the claims are unverified (the paper body was not
retrievable through the search tool, only its abstract; issue 4); the claims say so in ``place``.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from optlab.bcd import ForestSolver, Quadratic, bcd, fixed_blocks, forest_partition
from optlab.bcd.partitions import adjacency
from optlab.rates import convergence_order, linear_rate, scaling_exponent

PAPER = ("Nutini, Laradji & Schmidt (2022), Let's Make Block Coordinate Descent Converge Faster, "
         "JMLR 23(131), arXiv:1712.08859")  # fmt: skip


# -- instances ----------------------------------------------------------------------------------


def spd_quadratic(n=60, seed=0, cond=50.0):
    """Dense SPD quadratic ``x^T A x / 2 - c^T x`` with scaled columns (varied L_i)."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((2 * n, n)) * np.geomspace(1, np.sqrt(cond), n)[rng.permutation(n)]
    A = M.T @ M / (2 * n) + 0.05 * np.eye(n)
    c = rng.standard_normal(n)
    xs = np.linalg.solve(A, c)
    ev = np.linalg.eigvalsh(A)
    return A, c, xs, float(-0.5 * c @ xs), float(ev[0]), float(ev[-1])


def ls_instance(fast: bool):
    from problems.bcd import dataset_a

    return dataset_a(m=200, n=2000) if fast else dataset_a()


def al1_instance(fast: bool):
    from problems.bcd import dataset_a_l1

    return dataset_a_l1(m=200, n=2000, lam=20000.0) if fast else dataset_a_l1()


# -- per-step progress --------------------------------------------------------------------------


def descent_ratios(res, f_scale):
    """decrease_bound_k / (F_{k-1} - F_k) over the steps whose decrease is above rounding."""
    h = res.history
    dec = -np.diff(h["fun"])
    bnd = h["decrease_bound"][1:]
    keep = dec > 1e-11 * max(abs(f_scale), 1.0)
    return bnd[keep] / dec[keep]


def rule_progress_along(obj, blocks, n_iter=100, seed=0):
    """Guaranteed progress of GS, GSL, GSD and GS-q (each with its own update) on the same iterate.

    Along a GS-q + matrix-update run with fixed ``blocks``: at each iterate ``x_k``,
    GS: ``max_b ||g_b||^2 / (2 L)`` (``L = max_b L_b``), GSL: ``max_b ||g_b||^2 / (2 L_b)``,
    GSD: ``max_b ||g_b||^2_{D_b^-1} / 2`` with ``D_b = |b| diag(L_i)`` (valid: ``H_bb <= |b|
    diag(H_bb)``), GS-q: ``max_b g_b^T H_bb^-1 g_b / 2``.
    """
    st = obj.init_state(np.zeros(obj.n))
    Hs = [obj.hess_block(st, b) for b in blocks]
    Hinv = [np.linalg.inv(H) for H in Hs]
    Lb = np.array([np.linalg.eigvalsh(H)[-1] for H in Hs])
    Lmax = Lb.max()
    L = obj.L_coord
    out = {"gs": [], "gsl": [], "gsd": [], "gsq": []}
    x = np.zeros(obj.n)  # the GS-q + matrix-update iterates, step by step
    for _ in range(n_iter):
        st = obj.init_state(x)
        g = obj.grad(st)
        nb = [float(g[b] @ g[b]) for b in blocks]
        out["gs"].append(max(nb) / (2 * Lmax))
        out["gsl"].append(max(v / (2 * lb) for v, lb in zip(nb, Lb, strict=True)))
        out["gsd"].append(max(float((g[b] ** 2 / (b.size * L[b])).sum()) / 2 for b in blocks))
        q = [float(g[b] @ Hi @ g[b]) / 2 for b, Hi in zip(blocks, Hinv, strict=True)]
        j = int(np.argmax(q))
        out["gsq"].append(q[j])
        x = x.copy()
        x[blocks[j]] -= Hinv[j] @ g[blocks[j]]
    return {k: np.asarray(v) for k, v in out.items()}


def rule_gaps(p, rules, *, update="lb", partition="variable", block_size=5, max_iter=500, seed=0):
    obj = p.data["objective"]
    out = {}
    for rule in rules:
        r = bcd(obj, rule=rule, update=update, partition=partition, block_size=block_size,
                l1=p.params["l1"], lower=p.params["lower"], f_star=p.f_star, tol=1e-300,
                max_iter=max_iter, seed=seed)
        out[rule] = r.history
    return out


# -- linear rate --------------------------------------------------------------------------------


def gs_rate_check(n=60, block_size=5, seed=0, n_iter=400):
    """Per-step contraction of GS / GSL with 1/L_b steps on fixed blocks vs the bounds
    ``1 - mu/(n_b L)`` (GS) and ``1 - mu/sum_b L_b`` (GSL)."""
    A, c, xs, fs, mu, _ = spd_quadratic(n, seed)
    obj = Quadratic(A, c)
    blocks = fixed_blocks(n, block_size, L=obj.L_coord, kind="sort")
    Lb = np.array([np.linalg.eigvalsh(A[np.ix_(b, b)])[-1] for b in blocks])
    out = {}
    for rule, bound in (("gs", 1 - mu / (len(blocks) * Lb.max())), ("gsl", 1 - mu / Lb.sum())):
        r = bcd(obj, partition="sort", block_size=block_size, rule=rule, update="lb", f_star=fs,
                tol=1e-300, max_iter=n_iter)
        gap = r.history["gap"]
        ok = gap[:-1] > 1e-9 * abs(fs)
        ratios = gap[1:][ok] / gap[:-1][ok]
        fit = linear_rate(gap[gap > 1e-9 * abs(fs)])
        out[rule] = {"max_ratio": float(ratios.max()), "bound": float(bound),
                     "fitted_rate": float(fit.value), "n_steps": int(ok.sum())}
    return out


# -- message passing ----------------------------------------------------------------------------


def lattice_quadratic(s, seed=0, w=1.0):
    from problems.bcd import lattice_graph

    W = lattice_graph(s, s, w)
    rng = np.random.default_rng(seed)
    A = (sp.diags(np.asarray(W.sum(axis=1)).ravel() + rng.uniform(0.01, 0.1, s * s)) - W).tocsc()
    return A


def mp_accuracy(sizes=(20, 40), seed=0):
    """Max relative difference between the forest solve and a dense solve of A_bb x = r."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    rows = []
    for s in sizes:
        A = lattice_quadratic(s, seed)
        for b in forest_partition(adjacency(A)):
            S = A[b][:, b]
            rhs = rng.standard_normal(b.size)
            x = ForestSolver(S).solve(rhs)
            ref = sla.solve(S.toarray(), rhs, assume_a="pos")
            err = float(np.max(np.abs(x - ref)) / np.max(np.abs(ref)))
            worst = max(worst, err)
            rows.append({"s": s, "block": int(b.size), "err": err})
    return worst, rows


def mp_scaling(sides):
    """Operation count (elimination + substitution) and wall time of forest solves vs |b|."""
    sizes, ops, times = [], [], []
    for s in sides:
        A = lattice_quadratic(s)
        b = forest_partition(adjacency(A))[0]
        S = A[b][:, b]
        fs = ForestSolver(S)
        rhs = np.ones(b.size)
        t = min(_timed(lambda fs=fs, rhs=rhs: fs.solve(rhs)) for _ in range(3))
        sizes.append(b.size)
        ops.append(fs.ops)
        times.append(t)
    fit = scaling_exponent(sizes, ops)
    tfit = scaling_exponent(sizes, times)
    return fit, tfit, {"sizes": sizes, "ops": ops, "times": times}


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# -- active set / superlinear -------------------------------------------------------------------


def identification(p, *, rule="gsq-nn", update="pg", block_size=50, max_iter=3000):
    obj = p.data["objective"]
    r = bcd(obj, rule=rule, update=update, block_size=block_size, l1=p.params["l1"],
            lower=p.params["lower"], f_star=p.f_star, x_star=p.x_star, tol=1e-300, max_iter=max_iter)
    ok = r.history["support_ok"]
    gap = r.history["gap"]
    bad = np.flatnonzero(ok < 1)
    k_id = int(bad[-1] + 1) if bad.size else 0  # first iterate from which the support stays right
    return {"k_identified": k_id, "nit": int(r.nit), "held_after": float(ok[k_id:].mean()) if k_id <= r.nit else 0.0,
            "gap": gap, "support_ok": ok}


def finite_termination(p, *, update="pn", block_size=50, max_iter=200):
    """Proximal Newton (exact block QP) with greedy blocks of tau >= nnz(x*) on a quadratic:
    iterations from identification to f - f* <= 1e-13 |f*| (relative rounding floor)."""
    obj = p.data["objective"]
    r = bcd(obj, rule="gsq-nn", update=update, block_size=block_size, l1=p.params["l1"],
            lower=p.params["lower"], f_star=p.f_star, x_star=p.x_star, tol=1e-13 * abs(p.f_star),
            max_iter=max_iter)
    ok = r.history["support_ok"]
    first = np.flatnonzero(ok == 1)
    k_id = int(first[0]) if first.size else -1
    return {"k_identified": k_id, "nit": int(r.nit), "success": bool(r.success),
            "after": int(r.nit - k_id) if k_id >= 0 else -1, "gap": r.history["gap"]}


def logistic_l1_instance(m=300, n=600, scale=10.0, lam=2.0, seed=3):
    """L1 (x >= 0) logistic regression ``sum log(1 + exp(-y_i a_i^T x)) + 1e-3/2 ||x||^2 + lam sum x``
    on Gaussian data (15 planted features); F* from scipy L-BFGS-B with bounds (independent)."""
    from scipy.optimize import minimize

    from optlab.bcd import Logistic

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n)) / np.sqrt(m) * scale
    w = np.zeros(n)
    w[rng.choice(n, 15, replace=False)] = rng.uniform(1, 3, 15)
    y = np.where(X @ w + 0.3 * rng.standard_normal(m) > 0, 1.0, -1.0)
    obj = Logistic(X, y, lam=1e-3)

    def fg(x):
        z = y * (X @ x)
        return (float(np.logaddexp(0, -z).sum() + 0.5e-3 * x @ x + lam * x.sum()),
                X.T @ (-y / (1 + np.exp(z))) + 1e-3 * x + lam)

    ref = minimize(fg, np.zeros(n), jac=True, method="L-BFGS-B", bounds=[(0, None)] * n,
                   options={"ftol": 0, "gtol": 1e-13, "maxiter": 100000, "maxcor": 30})
    return obj, lam, float(ref.fun)


def newton_superlinear(block_size=100, **kw):
    """Greedy proximal Newton (gsq-nn, tau >= nnz(x*)) on L1-nonneg logistic regression.

    Window: from two iterations before the support of ``x_k`` equals that of ``x*`` (the
    block then already holds the support) to the rounding floor ``1e-13 |F*|``; returns the
    Q-order fitted on ``F(x_k) - F*`` over it.
    """
    obj, lam, fstar = logistic_l1_instance(**kw)
    r0 = bcd(obj, rule="gsq-nn", update="pn", block_size=block_size, l1=lam, lower=0.0, tol=1e-300,
             f_star=fstar, max_iter=40)
    fstar = min(fstar, r0.fun)
    xs = r0.x
    r = bcd(obj, rule="gsq-nn", update="pn", block_size=block_size, l1=lam, lower=0.0, f_star=fstar,
            x_star=xs, tol=1e-300, max_iter=40)
    gap = r.history["gap"]
    ok = r.history["support_ok"]
    bad = np.flatnonzero(ok < 1)
    k_id = int(bad[-1] + 1) if bad.size else 0
    floor = 1e-13 * abs(fstar)
    tail = gap[max(k_id - 2, 0):]
    tail = tail[tail > floor]
    fit = convergence_order(tail, skip=0, floor=floor) if tail.size >= 3 else None
    return {"k_identified": k_id, "nnz": int(np.count_nonzero(xs)), "block_size": block_size,
            "tail": tail.tolist(), "order": float(fit.value) if fit else float("nan"),
            "superlinear": bool(fit.extra.get("superlinear")) if fit else False,
            "gap": gap.tolist()}


# -- figures -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def instance(name: str, quick: bool):
    """The figure instances by the paper's letter (quick: smaller A / A+L1); memoized per process."""
    from problems import bcd as P

    if name == "A":
        return P.dataset_a(m=200, n=2000) if quick else P.dataset_a()
    if name == "A+L1":
        return P.dataset_a_l1(m=200, n=2000, lam=2e4) if quick else P.dataset_a_l1()
    if name == "B":
        return P.dataset_b(m=200, n=1000) if quick else P.dataset_b()
    if name == "C":
        return P.dataset_c(m=200, d=200, n_classes=10) if quick else P.dataset_c()
    if name == "mushrooms":
        return P.logistic_mushrooms_bcd()
    if name == "D":
        return P.dataset_d()
    if name == "E":
        return P.dataset_e()
    raise ValueError(name)


def curve(data: str, quick: bool, *, rule: str, update: str, partition: str = "variable",
          block_size: int = 5, max_iter: int = 500, seed: int = 0, points: int = 300) -> dict:
    """One run from x0 = 0: ``f(x_k) - f*`` (relative to ``f(x_0) - f*``), downsampled."""
    p = instance(data, quick)
    obj = p.data["objective"]
    t0 = time.perf_counter()
    r = bcd(obj, rule=rule, update=update, partition=partition, block_size=block_size,
            l1=p.params["l1"], lower=p.params["lower"], f_star=p.f_star, x_star=p.x_star,
            tol=1e-12 * max(1.0, abs(p.f_star)), max_iter=max_iter, seed=seed)
    wall = time.perf_counter() - t0
    h = r.history
    k = np.asarray(h["iter"])
    keep = np.unique(np.r_[np.linspace(0, k.size - 1, points).astype(int), k.size - 1])
    ok = h.get("support_ok")
    kid = None
    if ok is not None and p.params["l1"]:
        bad = np.flatnonzero(ok < 1)
        kid = int(bad[-1] + 1) if bad.size and bad[-1] + 1 < ok.size else (0 if not bad.size else None)
    return {"k": k[keep].tolist(), "gap": np.maximum(h["gap"][keep], 0.0).tolist(),
            "gap0": float(h["gap"][0]), "nit": int(r.nit), "wall": wall, "ops": h["ops"][keep].tolist(),
            "k_identified": kid, "instance": p.name}


def fig_sweep_options(args, sweep_options) -> dict:
    """The figures' sweep options; ``--quick`` runs serially unless ``--jobs``/``--scheduler`` is given
    (the quick runs last well under a second each: starting worker processes, which each rebuild the
    instances, costs more than it saves on 2 cores)."""
    opts = dict(sweep_options(args))
    if getattr(args, "quick", False) and opts.get("n_jobs") is None and opts.get("scheduler") is None:
        opts["n_jobs"] = 1
    return opts
