"""MAID: method of adaptive inexact descent for bilevel learning.

Salehi, Mukherjee, Roberts & Ehrhardt, "An adaptively inexact first-order
method for bilevel optimization with application to hyperparameter learning",
SIAM J. Math. Data Sci. (arXiv 2308.10098).
"""

from __future__ import annotations

from typing import Any

from optlab._backend import cg, get_namespace, norm
from optlab._validate import check_callable, check_int, check_positive
from optlab.bilevel.base import _measures, _start_points, counted
from optlab.result import Monitor, Result, Status

__all__ = ["maid"]


def maid(
    problem: Any,
    x0: Any = None,
    y0: Any = None,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    eps0: float = 0.1,
    delta0: float = 0.1,
    step0: float = 0.1,
    eta: float = 1e-4,
    rho: float = 0.9,
    tau: float = 0.5,
    nu: float = 1.05,
    max_bt_rounds: int = 3,
    adaptive: bool = True,
    warm_trials: bool = True,
    eps_schedule: Any = None,
    eps_min: float = 1e-14,
    lower_budget: int = 1_000_000,
    inner_step: float | None = None,
    max_inner: int = 2000,
    max_cg: int = 2000,
    error_constants: tuple[float, float] | None = None,
    callback: Any = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    """MAID (Salehi et al., Algorithm 1 with the inexact backtracking of Alg. 2).

    Problem: ``min_x F(x) = f(x, y*(x))`` with ``g(x, .)`` ``mu_g``-strongly
    convex and ``L_g``-smooth. Each outer iteration:

    1. solve the lower level to accuracy ``eps`` (``||y - y*|| <= eps``,
       certified by ``||grad_y g|| <= mu_g eps``), warm started, by gradient
       descent with step ``1/L_g`` (the paper uses FISTA; what matters for the
       comparison is the certified accuracy);
    2. solve ``H q = grad_y f`` by CG to residual ``delta`` (warm started);
    3. ``p = grad_x f - J q``; a-posteriori bound
       ``||p - grad F|| <= omega = c_eps eps + c_delta delta``;
    4. while ``omega > (1 - eta) ||p||``: ``eps, delta <- tau eps, tau delta``
       and redo 1-3 (so that ``p`` is a descent direction);
    5. inexact backtracking on ``x+ = x - step rho^i p``, accepting when
       ``f~(x+) + ||grad_y f|| eps + L_f eps^2/2 - f~(x) + ||grad_y f|| eps
       <= -step rho^i eta^2 ||p||^2`` (``f~`` = ``f`` at the inexact ``y``;
       the ``eta^2`` form of both of the authors' codes);
    6. success: ``eps, delta <- nu eps, nu delta`` and ``step <- 10/9 step``;
       each failed round ``j`` (up to ``j + 10`` trials) of at most
       ``max_bt_rounds``: ``eps, delta <- tau eps, tau delta``. When all rounds
       fail the iterate stays and the next outer iteration starts with the
       tightened accuracies (as in the authors' code); the run stops
       (STAGNATION) only once ``eps <= eps_min``, or at once for the
       fixed-accuracy baseline, whose next attempt would repeat the same trials
       (with ``eps_schedule``: when the schedule does not tighten at ``k + 1``).

    The lower-level solves are warm started: at the current ``y`` for the
    re-solves at ``x``, and (``warm_trials=True``, default) each backtracking
    trial from the previous trial's solution, which is ``(1 - rho)/rho`` times
    nearer in ``x`` than the current point (the authors' code restarts every
    trial from the current ``y``; ``warm_trials=False`` does that). The CG
    solve is warm started at the previous ``q`` (the authors' code starts
    from 0). Neither changes the accepted iterates' guarantees, only the
    lower-level work.

    ``adaptive=False`` is the fixed-accuracy baseline: ``eps`` and ``delta``
    stay at ``eps0``, ``delta0`` (steps 4 and 6 do not change them); with
    ``eps_schedule`` (a callable ``k -> eps_k``, only with ``adaptive=False``)
    they follow an a-priori schedule ``eps = delta = eps_schedule(k)`` at outer
    iteration ``k``, as in HOAG (Pedregosa 2016: e.g. ``eps0 k^-2``, ``k^-3``,
    geometric), the baselines the paper compares with.
    Defaults are the official code's (``eps0 = delta0 = 0.1``, ``eta = 1e-4``,
    ``rho = 0.9``, ``tau = 0.5``, ``step0 = 0.1``, ``nu = 1.05``).

    Parameters
    ----------
    tol : float
        Stop when the *computable* ``||p|| + omega <= tol`` (an upper bound on
        ``||grad F||``); the exact norm is recorded when known.
    eps_min : float
        Accuracy floor below which a fully failed backtracking stops the run.
    lower_budget : int
        Stop (status MAX_ITER) after the outer iteration in which the total number
        of lower-level iterations exceeds it (the authors' ``ll_budget = 1e6``).
    error_constants : (c_eps, c_delta), optional
        Constants of the bound ``omega``. Default from ``problem.constants``
        (``mu_g``, ``L_f``, ``L_gxy``, ``L_gyy``, ``L_gxx``): ``c_delta =
        L_gxy/mu_g``, ``c_eps = L_f + L_gxx_y ||q|| + L_gxy (L_f +
        L_gyy ||q||)/mu_g`` (after Ehrhardt & Roberts 2021 and Salehi et al.; our simplification, equation
        numbers not checked).

    Returns
    -------
    Result
        history: ``hypergrad_norm`` (exact, when known), ``p_norm``,
        ``omega``, ``eps``, ``delta``, ``step``, ``n_inner`` (lower-level
        gradient steps so far), ``n_cg``, ``n_trials`` (backtracking trials
        so far, one lower-level solve each), ``n_failed_rounds`` (backtracking
        rounds that ended without acceptance); the same names as fields.

    Notes
    -----
    Salehi et al. (main convergence theorem; number not checked): with the accuracies chosen by the method,
    ``liminf ||grad F(x_k)|| = 0`` (convergence to a stationary point); the
    accuracies are set dynamically, not fixed in advance.
    """
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    tol = check_positive(tol, "tol")
    for nm, v in (("eps0", eps0), ("delta0", delta0), ("step0", step0), ("eta", eta), ("rho", rho),
                  ("tau", tau), ("nu", nu)):
        check_positive(v, nm)
    if not (rho < 1 and tau < 1 and eta < 1):
        raise ValueError("rho, tau and eta must be < 1")
    max_bt_rounds = check_int(max_bt_rounds, "max_bt_rounds")
    check_callable(eps_schedule, "eps_schedule", optional=True)
    eps_min = check_positive(eps_min, "eps_min")
    lower_budget = check_int(lower_budget, "lower_budget")
    if eps_schedule is not None and adaptive:
        raise ValueError("eps_schedule is an a-priori schedule: use it with adaptive=False")
    check_callable(callback, "callback", optional=True)
    const = dict(getattr(problem, "constants", {}) or {})
    mu = const.get("mu_g")
    Lg = const.get("L_g")
    if mu is None or Lg is None:
        raise ValueError("maid needs problem.constants['mu_g'] and ['L_g']")
    h = 1.0 / Lg if inner_step is None else check_positive(inner_step, "inner_step")
    Lf = const.get("L_f", 1.0)
    Lgxy = const.get("L_gxy", 1.0)
    Lgyy = const.get("L_gyy", 0.0)
    x, y = _start_points(problem, x0, y0)
    xp = get_namespace(x, y)
    c = counted(problem)
    mon = Monitor("maid", record=record, callback=callback, verbose=verbose)
    n_inner = 0
    n_cg = 0
    n_trials = 0
    n_failed_rounds = 0
    eps, delta, step = float(eps0), float(delta0), float(step0)
    if eps_schedule is not None:
        eps = delta = float(eps_schedule(0))

    def solve_lower(xv, yv, acc):
        nonlocal n_inner
        for _ in range(max_inner):
            gr = c.grad_g_y(xv, yv)
            if float(norm(xp, gr)) <= mu * acc:
                return yv, True
            yv = yv - h * gr
            n_inner += 1
        gr = c.grad_g_y(xv, yv)
        return yv, float(norm(xp, gr)) <= mu * acc

    q = None

    def hypergrad(xv, yv, dl):
        nonlocal n_cg, q
        b = c.grad_f_y(xv, yv)
        qn, info, nmv = cg(xp, lambda u: c.hvp_g_yy(xv, yv, u), b, x0=q, tol=0.0, atol=dl,
                           max_iter=max_cg)
        n_cg += nmv
        q = qn
        p = c.grad_f_x(xv, yv) - c.jvp_g_xy(xv, yv, qn)
        return p, info == 0, b

    def omega(e, d):
        if error_constants is not None:
            return error_constants[0] * e + error_constants[1] * d
        qn = float(norm(xp, q)) if q is not None else 0.0
        c_eps = Lf + Lgyy * qn + Lgxy * (Lf + Lgyy * qn) / mu
        return c_eps * e + (Lgxy / mu) * d

    def rec(k, **extra):
        vals = _measures(problem, x, y)
        mon.record(k, eps=eps, delta=delta, step=step, n_inner=n_inner, n_cg=n_cg, n_trials=n_trials,
                   n_failed_rounds=n_failed_rounds,
                   n_oracle=c.counts()["n_oracle"], **vals, **extra)
        return vals

    y, _ = solve_lower(x, y, eps)
    p, _, gfy = hypergrad(x, y, delta)
    om = omega(eps, delta)
    rec(0, p_norm=float(norm(xp, p)), omega=om)
    status, message, k = Status.MAX_ITER, None, 0
    while k < max_iter:
        if eps_schedule is not None:
            e_k = float(eps_schedule(k))
            if e_k != eps or e_k != delta:
                eps = delta = e_k
                y, _ = solve_lower(x, y, eps)
                p, _, gfy = hypergrad(x, y, delta)
                om = omega(eps, delta)
        # 4. accuracy until p is certified a descent direction
        pn = float(norm(xp, p))
        guard = 0
        while adaptive and om > (1 - eta) * pn and guard < 60:
            eps, delta = tau * eps, tau * delta
            y, _ = solve_lower(x, y, eps)
            p, _, gfy = hypergrad(x, y, delta)
            om = omega(eps, delta)
            pn = float(norm(xp, p))
            guard += 1
        if pn + om <= tol:
            status = Status.CONVERGED
            break
        # 5. inexact backtracking
        f_old = float(c.f(x, y))
        g_old = float(norm(xp, gfy))
        accepted = False
        for rnd in range(max_bt_rounds):
            yw = y  # warm start of the trial solves: the previous (nearer) trial's solution
            for i in range(rnd + 10):
                a = step * rho**i
                xn = x - a * p
                yn, _ = solve_lower(xn, yw if warm_trials else y, eps)
                yw = yn
                n_trials += 1
                f_new = float(c.f(xn, yn))
                g_new = float(norm(xp, c.grad_f_y(xn, yn)))
                lhs = f_new + g_new * eps + 0.5 * Lf * eps**2 - f_old + g_old * eps
                if lhs <= -a * eta**2 * pn**2:
                    accepted = True
                    break
            if accepted:
                break
            n_failed_rounds += 1
            if adaptive:
                eps, delta = tau * eps, tau * delta
                y, _ = solve_lower(x, y, eps)
                p, _, gfy = hypergrad(x, y, delta)
                om = omega(eps, delta)
                pn = float(norm(xp, p))
                f_old = float(c.f(x, y))
                g_old = float(norm(xp, gfy))
        k += 1
        if n_inner > lower_budget:
            status = Status.MAX_ITER
            message = f"maid: lower-level budget of {lower_budget} iterations exhausted at iteration {k}"
            if accepted:
                x, y = xn, yn
            rec(k, p_norm=pn, omega=om)
            break
        if not accepted:
            if adaptive and eps > eps_min:
                # as in the authors' code: the iterate stays, the next iteration starts from the
                # accuracies already tightened by the failed rounds
                rec(k, p_norm=pn, omega=om)
                continue
            if eps_schedule is not None and eps_min < float(eps_schedule(k)) < eps:
                rec(k, p_norm=pn, omega=om)  # the schedule tightens the accuracy at the next iteration
                continue
            status = Status.STAGNATION
            message = (f"maid: backtracking failed in {max_bt_rounds} rounds at iteration {k}"
                       + (f" (eps = {eps:.3g} <= eps_min)" if adaptive else " (fixed accuracy)"))
            rec(k, p_norm=pn, omega=om)
            break
        x, y = xn, yn
        step = a * 10.0 / 9.0
        if adaptive:
            eps, delta = nu * eps, nu * delta
            y, _ = solve_lower(x, y, eps)
        p, _, gfy = hypergrad(x, y, delta)
        om = omega(eps, delta)
        bad = mon.nonfinite(k, x=x, y=y)
        if bad is not None:
            status, message = Status.NUMERICAL_ERROR, bad
            break
        vals = rec(k, p_norm=float(norm(xp, p)), omega=om)
        if mon.stop_requested(x, vals.get("F"), k):
            status = Status.CALLBACK
            break
    fin = _measures(problem, x, y)
    cnt = c.counts()
    return mon.finish(
        x=x, fun=fin.get("F", fin.get("f")), nit=k, status=status, message=message, y=y,
        n_inner=n_inner, n_cg=n_cg, n_trials=n_trials, n_failed_rounds=n_failed_rounds, eps=eps, delta=delta, n_grad=cnt["n_grad"],
        n_hvp=cnt["n_hvp"], n_jvp=cnt["n_jvp"], njev=cnt["njev"], nhev=cnt["nhev"],
        nfev=cnt["nfev"], n_oracle=cnt["n_oracle"],
    )
