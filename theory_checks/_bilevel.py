"""Measuring code shared by the bilevel claims (theory_checks/test_bilevel_*.py) and figures."""

from __future__ import annotations

import math

import numpy as np

from optlab.bilevel.borep import bo_rep, borep_theory_params
from optlab.bilevel.f2sa import f2sa
from optlab.bilevel.hypergrad import aid_cg, aid_neumann, exact_hypergrad, itd
from optlab.bilevel.maid import maid
from optlab.bilevel.mbbo import mbbo
from optlab.rates import linear_rate, scaling_exponent
from problems.bilevel import (
    multiblock_bilevel,
    quadratic_bilevel,
    relaxed_smooth_bilevel,
    ridge_bilevel,
)

# --------------------------------------------------------------------------------------
# hypergradients
# --------------------------------------------------------------------------------------


def hypergrad_instances(full: bool = False):
    out = [("quadratic(5,20)", quadratic_bilevel(5, 20, mu_g=0.1, L_g=1.0, seed=0), np.linspace(-1, 1, 5)),
           ("ridge(diabetes, scalar)", ridge_bilevel("diabetes"), np.array([-2.0])),
           ("ridge(breast_cancer, per-feature)", ridge_bilevel("breast_cancer", per_feature=True),
            np.linspace(-2, 0, 30))]
    if full:
        out += [("quadratic(20,200)", quadratic_bilevel(20, 200, mu_g=0.05, L_g=2.0, seed=1), np.ones(20)),
                ("ridge(diabetes, per-feature)", ridge_bilevel("diabetes", per_feature=True), np.zeros(10))]
    return out


def _lower_spectrum(p, x, y):
    H = p.hess_g_yy(x, y)
    ev = np.linalg.eigvalsh(0.5 * (H + H.T))
    return float(ev[0]), float(ev[-1])


def hypergrad_exactness(full: bool = False) -> dict:
    """max relative error of AID-CG, AID-Neumann and ITD (from y*) vs the closed form."""
    rows = {}
    for name, p, x in hypergrad_instances(full):
        ys = p.y_star(x)
        ref = np.asarray(exact_hypergrad(p, x))
        mu, L = _lower_spectrum(p, x, ys)
        alpha = 1.0 / L
        n = int(math.ceil(math.log(1e-14) / math.log(1 - alpha * mu)))
        scale = max(np.linalg.norm(ref), 1e-300)
        r_cg = aid_cg(p, x, ys, tol=1e-14, max_iter=10 * p.dim_y)
        r_nm = aid_neumann(p, x, ys, n_terms=n, step=alpha)
        r_itd = itd(p, x, ys, n_steps=n, step=alpha)
        rows[name] = {
            "aid_cg": float(np.linalg.norm(r_cg.grad - ref) / scale),
            "aid_neumann": float(np.linalg.norm(r_nm.grad - ref) / scale),
            "itd": float(np.linalg.norm(r_itd.grad - ref) / scale),
            "cg_matvecs": r_cg.nit, "neumann_terms": n, "kappa": L / mu,
        }
    worst = max(max(v["aid_cg"], v["aid_neumann"], v["itd"]) for v in rows.values())
    return {"worst": worst, "rows": rows}


def itd_error_curve(p, x, Ts, *, alpha=None, y0=None):
    """||ITD_T(x) - grad F(x)|| for T in Ts (from y0, default problem.y0) and the rate q = 1 - alpha mu."""
    y0 = p.y0 if y0 is None else y0
    ys = p.y_star(x)
    mu, L = _lower_spectrum(p, x, ys)
    alpha = 1.0 / L if alpha is None else alpha
    ref = np.asarray(exact_hypergrad(p, x))
    errs = np.array([np.linalg.norm(itd(p, x, y0, n_steps=int(T), step=alpha).grad - ref) for T in Ts])
    return {"T": np.asarray(Ts), "error": errs, "q": 1 - alpha * mu, "alpha": alpha, "mu": mu, "L": L}


def neumann_error_curve(p, x, Ks, *, alpha=None):
    """||v_K - v*|| / ||v*|| and the hypergradient error for K in Ks (at y*), with the bound (1-alpha mu)^(K+1)."""
    ys = p.y_star(x)
    mu, L = _lower_spectrum(p, x, ys)
    alpha = 1.0 / L if alpha is None else alpha
    H = p.hess_g_yy(x, ys)
    vstar = np.linalg.solve(H, p.grad_f_y(x, ys))
    ref = np.asarray(exact_hypergrad(p, x))
    vs, gs = [], []
    for K in Ks:
        r = aid_neumann(p, x, ys, n_terms=int(K), step=alpha)
        vs.append(np.linalg.norm(r.v - vstar) / np.linalg.norm(vstar))
        gs.append(np.linalg.norm(r.grad - ref))
    Ks = np.asarray(Ks)
    return {"K": Ks, "v_error": np.array(vs), "grad_error": np.array(gs),
            "bound": (1 - alpha * mu) ** (Ks + 1.0), "q": 1 - alpha * mu}


def fitted_rate(T, err, floor=1e-13):
    m = err > floor
    return linear_rate(err[m], np.asarray(T)[m]).value


# --------------------------------------------------------------------------------------
# F2SA
# --------------------------------------------------------------------------------------

F2SA_INSTANCE = dict(dim_x=5, dim_y=10, mu_g=0.2, L_g=1.0, seed=0)


def f2sa_curve(setting: str, n_iter: int, seeds=(0,), *, noise_f=0.0, noise_g=0.0, lam0=30.0, xi=10.0,
               inner_steps=2, momentum=False, schedule="paper"):
    """Mean over seeds of ||grad F(x_k)||^2, k = 0..n_iter (exact hypergradient of the quadratic)."""
    p = quadratic_bilevel(F2SA_INSTANCE["dim_x"], F2SA_INSTANCE["dim_y"], mu_g=F2SA_INSTANCE["mu_g"],
                          L_g=F2SA_INSTANCE["L_g"], noise_f=noise_f, noise_g=noise_g, seed=F2SA_INSTANCE["seed"])
    batch = None if setting == "deterministic" else 1
    curves = []
    for s in seeds:
        r = f2sa(p, max_iter=n_iter, inner_steps=inner_steps, lam0=lam0, xi=xi, batch=batch, setting=setting,
                 seed=s, momentum=momentum, schedule=schedule)
        curves.append(r.history["hypergrad_norm"] ** 2)
    return np.mean(curves, axis=0)


def iterations_to_eps(g2, eps_grid):
    """First k with g2[k] <= eps (NaN when never)."""
    out = []
    for e in eps_grid:
        idx = np.nonzero(g2 <= e)[0]
        out.append(float(idx[0]) if len(idx) else math.nan)
    return np.array(out)


def complexity_exponent(g2, eps_grid):
    """Fitted p in K(eps) ~ eps^-p over eps_grid (iterations to E||grad F||^2 <= eps)."""
    K = iterations_to_eps(g2, eps_grid)
    if np.any(~np.isfinite(K)) or np.any(K <= 0):
        return math.nan, K
    return scaling_exponent(1.0 / np.asarray(eps_grid), K).value, K


def penalty_bias(lams, x=None):
    """||grad L*_lambda(x) - grad F(x)|| on the F2SA quadratic, closed form."""
    p = quadratic_bilevel(**{k: F2SA_INSTANCE[k] for k in ("dim_x", "dim_y", "mu_g", "L_g", "seed")})
    d = p.data
    x = np.linspace(-1, 1, p.dim_x) if x is None else x
    ys = p.y_star(x)
    out = []
    for lam in lams:
        # y_lam = argmin_y f + lam g
        yl = -np.linalg.solve(d["P"] + lam * d["A"], d["D"].T @ x + d["p"] + lam * (d["C"].T @ x + d["a"]))
        gl = p.grad_f_x(x, yl) + lam * (p.grad_g_x(x, yl) - p.grad_g_x(x, ys))
        out.append(np.linalg.norm(gl - p.hypergrad(x)))
    return np.array(out)


# --------------------------------------------------------------------------------------
# BO-REP
# --------------------------------------------------------------------------------------


def borep_avg_gradnorm(Ks, seeds=(0, 1, 2), *, noise=0.5, eta0=3.0, period=2, inner_steps=3):
    """Mean over seeds of (1/K) sum_k ||grad F(x_k)|| with the horizon-tuned parameters."""
    p = relaxed_smooth_bilevel(noise=noise)
    out = []
    for K in Ks:
        vals = []
        for s in seeds:
            pr = borep_theory_params(int(K), eta0=eta0)
            r = bo_rep(p, max_iter=int(K), batch=1, seed=s, period=period, inner_steps=inner_steps, **pr)
            vals.append(float(np.mean(r.history["hypergrad_norm"])))
        out.append(float(np.mean(vals)))
    return np.array(out)


def borep_periodic_vs_every(tol=0.3, step=0.005, max_iter=6000, period=3, inner_steps=3):
    """Oracle calls to reach ||grad F|| <= tol, every-step lower updates vs periodic, deterministic."""
    p = relaxed_smooth_bilevel()
    rows = {}
    for name, per in (("every_step", 1), ("periodic", period)):
        r = bo_rep(p, max_iter=max_iter, step=step, period=per, inner_steps=inner_steps, tol=tol)
        rows[name] = {"converged": bool(r.success), "nit": r.nit, "n_oracle": int(r.n_oracle),
                      "n_lower": int(r.history["n_lower"][-1]), "x": r.x.tolist(),
                      "dist_to_x_star": float(np.linalg.norm(r.x - p.x_star))}
    return rows


# --------------------------------------------------------------------------------------
# MAID
# --------------------------------------------------------------------------------------


def _hoag_schedules():
    """A-priori decreasing accuracies eps_k (HOAG-style, Pedregosa 2016): polynomial and geometric."""
    out = {}
    for e0 in (1e-1, 1e-3, 1e-5):
        for q in (2, 3, 4):
            out[f"poly_{e0:g}*(k+1)^-{q}"] = (lambda k, e0=e0, q=q: e0 / (k + 1) ** q)
        for r in (0.7, 0.9):
            out[f"geom_{e0:g}*{r:g}^k"] = (lambda k, e0=e0, r=r: e0 * r**k)
    return out


def maid_vs_fixed(p, target, *, fixed_eps=(1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10), max_iter=300,
                  schedules=True, **kw):
    """Lower-level iterations to reach the exact ||grad F|| <= target: MAID vs fixed accuracies.

    Baselines run the same code (same lower solver, warm starts, line search, stopping rule)
    with ``adaptive=False``: constant ``eps = delta`` from ``fixed_eps`` and, with
    ``schedules``, the HOAG-style a-priori decreasing schedules of :func:`_hoag_schedules`;
    each is stopped once it has spent MAID's lower-level cost (it cannot be cheaper then).
    """

    def cost(r):
        h = r.history
        idx = np.nonzero(h["hypergrad_norm"] <= target)[0]
        if not len(idx):
            return {"n_inner": math.nan, "iters": -1, "n_trials": int(r.n_trials),
                    "n_failed_rounds": int(r.n_failed_rounds), "status": r.message}
        i = idx[0]
        return {"n_inner": float(h["n_inner"][i]), "iters": int(h["iter"][i]), "n_trials": int(h["n_trials"][i]),
                "n_failed_rounds": int(h["n_failed_rounds"][i]), "status": r.message}

    r = maid(p, max_iter=max_iter, tol=target * 0.5, **kw)
    out = {"maid": {**cost(r), "final_eps": float(r.eps)}}
    # a baseline that has spent MAID's whole cost without reaching the target cannot be cheaper
    budget = int(out["maid"]["n_inner"]) if math.isfinite(out["maid"]["n_inner"]) else 1_000_000
    for e in fixed_eps:
        rf = maid(p, max_iter=max_iter, tol=target * 0.5, adaptive=False, eps0=e, delta0=e,
                  lower_budget=budget, **kw)
        out[f"fixed_{e:g}"] = cost(rf)
    if schedules:
        for name, sch in _hoag_schedules().items():
            rf = maid(p, max_iter=max_iter, tol=target * 0.5, adaptive=False, eps_schedule=sch,
                      lower_budget=budget, **kw)
            out[f"schedule_{name}"] = cost(rf)
    return out


# --------------------------------------------------------------------------------------
# MBBO
# --------------------------------------------------------------------------------------

MBBO_KW = dict(step=0.05, beta=0.5, beta_x=0.5, inner_step=0.2)


def mbbo_iterations(Is, Bs, seeds=(0, 1, 2), *, m=16, noise=0.3, tol=0.04, max_iter=4000):
    """Median over seeds of iterations to ||grad F|| <= tol, for each (I, B)."""
    p = multiblock_bilevel(m=m, noise=noise)
    out = []
    for I, B in zip(Is, Bs, strict=True):
        ks = [mbbo(p, max_iter=max_iter, n_blocks=int(I), batch=int(B), seed=s, tol=tol, eval_every=5,
                   **MBBO_KW).nit for s in seeds]
        out.append(float(np.median(ks)))
    return np.array(out)


# --------------------------------------------------------------------------------------
# MNIST hyper-cleaning (figure and benchmark)
# --------------------------------------------------------------------------------------

CLEANING_METHODS = ("f2sa", "f2sa_momentum", "bo_rep", "aid_cg", "itd")


def cleaning_problem(quick: bool = False, corruption: float = 0.3, seed: int = 0):
    from problems.bilevel import hyper_cleaning

    n = (1000, 500, 1000) if quick else (4000, 1000, 5000)
    p = hyper_cleaning(n_train=n[0], n_val=n[1], n_test=n[2], corruption=corruption, seed=seed)
    p.F = None  # the exact F needs an inner solve: record f(x, y), test accuracy (metrics) instead
    p.y_star = None
    return p


def run_cleaning(method: str, n_iter: int, *, quick: bool = False, seed: int = 0, eval_every: int = 25,
                 batch=(256, 256)):
    """One method on hyper-cleaning; history rows (time, oracle calls, test accuracy, val loss)."""
    from optlab.bilevel.hypergrad import hypergradient_descent

    p = cleaning_problem(quick, seed=seed)
    if method.startswith("f2sa"):
        r = f2sa(p, max_iter=n_iter, inner_steps=3, lam0=3.0, xi=3000.0, batch=batch, setting="stochastic",
                 momentum=method.endswith("momentum"), eval_every=eval_every, seed=seed)
        calls = r.history["n_grad"]
    elif method == "bo_rep":
        r = bo_rep(p, max_iter=n_iter, step=0.5, batch=batch, eval_every=eval_every, seed=seed)
        calls = r.history["n_oracle"]
    else:
        r = hypergradient_descent(p, method="cg" if method == "aid_cg" else "itd", step=100.0,
                                  max_iter=n_iter, inner_steps=3, cg_max_iter=10, batch=batch,
                                  eval_every=eval_every, seed=seed)
        calls = r.history["n_oracle"]
    h = r.history
    m = ~np.isnan(h["test_accuracy"])
    return {"method": method, "time": h["time"][m].tolist(), "oracle_calls": np.asarray(calls)[m].tolist(),
            "test_accuracy": h["test_accuracy"][m].tolist(), "val_loss": h["val_loss"][m].tolist(),
            "iter": h["iter"][m].tolist(), "message": r.message}
