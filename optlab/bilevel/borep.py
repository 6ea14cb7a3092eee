"""BO-REP: bilevel optimization with unbounded smoothness.

Hao, Gong & Liu, "Bilevel Optimization under Unbounded Smoothness: A New
Algorithm and Convergence Analysis", ICLR 2024 (OpenReview LqRGsGWOTX).
"""

from __future__ import annotations

import math
from typing import Any

from optlab._backend import get_namespace, norm
from optlab._validate import check_callable, check_int, check_nonnegative, check_positive
from optlab.bilevel.base import _measures, _rng_from, _start_points, counted
from optlab.result import Monitor, Result, Status

__all__ = ["bo_rep", "borep_theory_params"]


def borep_theory_params(n_iter: int, *, eta0: float = 0.1, one_minus_beta0: float = 1.0) -> dict[str, float]:
    """Horizon-dependent parameters of the normalized-momentum analysis.

    ``eta = eta0 K^(-3/4)`` and ``1 - beta = one_minus_beta0 K^(-1/2)``: with
    these, BO-REP's main theorem (Hao et al. 2024, number and constants not checked; the same choice as for
    single-level normalized momentum under relaxed smoothness, Jin et al. 2021)
    gives ``(1/K) sum_k ||grad F(x_k)|| = O~(K^(-1/4))``, i.e. ``O~(eps^-4)``
    iterations for an eps-stationary point.
    """
    K = check_int(n_iter, "n_iter")
    return {"step": eta0 * K ** (-0.75), "beta": max(0.0, 1.0 - min(1.0, one_minus_beta0 * K ** (-0.5)))}


def bo_rep(
    problem: Any,
    x0: Any = None,
    y0: Any = None,
    *,
    max_iter: int = 1000,
    step: float = 0.01,
    beta: float = 0.9,
    inner_step: float | None = None,
    linear_step: float | None = None,
    period: int = 2,
    inner_steps: int = 3,
    refine_steps: int = 100,
    z_radius: float | None = None,
    batch: int | tuple[int, int] | None = None,
    tol: float = 0.0,
    eval_every: int = 1,
    rng: Any = None,
    seed: Any = None,
    callback: Any = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    """BO-REP (Hao, Gong & Liu 2024; the update formulas follow the authors' code).

    Problem: ``min_x F(x) = f(x, y*(x))`` with an upper level ``f`` whose
    smoothness is unbounded (``||grad^2 f|| <= L0 + L1 ||grad f||``) and a strongly convex lower level ``g``.

    Algorithm::

        y_0 <- refine(x_0): refine_steps (stochastic) gradient steps on g(x_0, .)
        for k = 0, 1, ...:
            if k > 0 and k % period == 0:                     (periodic updates)
                inner_steps (stochastic) gradient steps on g(x_k, .), step inner_step
            z <- Proj_{||z|| <= z_radius}(z - nu (grad^2_yy g(x_k, y) z - grad_y f(x_k, y)))
            m <- beta m + (1 - beta)(grad_x f(x_k, y) - grad^2_xy g(x_k, y) z)
            x <- x - step m / ||m||                           (normalized momentum)

    Defaults: ``beta = 0.9`` and ``period = 2``, ``inner_steps = 3`` (the
    authors' code, ``hyper-representation``: interval 2, y_warm_start 3),
    ``inner_step = linear_step = 1/L_g`` (``nu``; the code uses 1e-2 for its
    networks). The paper projects ``z`` onto a ball of radius ``M_f/mu_g``
    (``z_radius``; the code does not project: ``None``).

    Parameters
    ----------
    step : float
        ``eta`` (normalized step length). See :func:`borep_theory_params`.
    period, inner_steps : int
        ``I`` and ``N``: the lower level is updated every ``I`` iterations by
        ``N`` steps (``period=1`` updates it at every iteration).
    refine_steps : int
        Initialization refinement (steps on ``g(x_0, .)`` before the loop).
    batch : int or (int, int), optional
        Stochastic oracles (``problem.sample``); ``None`` = exact.
    tol : float
        Stop when the exact ``||grad F(x_k)|| <= tol``.

    Returns
    -------
    Result
        ``x``, ``y``, ``z``, history ``hypergrad_norm``, ``F``,
        ``inner_distance``, ``n_grad``, ``n_hvp``, ``n_oracle``; counts.

    Notes
    -----
    Main theorem of Hao et al. (2024) (abstract; the box was not read): with ``eta ~ eps^2``, ``1 - beta ~ eps^2``
    (up to logs) and ``I, N`` chosen as in the theorem, BO-REP finds an
    eps-stationary point in ``O~(eps^-4)`` iterations with high probability,
    each calling stochastic gradient or Hessian-vector product oracles.
    """
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    step = check_positive(step, "step")
    beta = check_nonnegative(beta, "beta")
    if beta >= 1:
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    period = check_int(period, "period")
    inner_steps = check_int(inner_steps, "inner_steps", minimum=0)
    refine_steps = check_int(refine_steps, "refine_steps", minimum=0)
    tol = check_nonnegative(tol, "tol")
    eval_every = check_int(eval_every, "eval_every")
    check_callable(callback, "callback", optional=True)
    L = problem.constants.get("L_g") if getattr(problem, "constants", None) else None
    if inner_step is None or linear_step is None:
        if L is None:
            raise ValueError("inner_step and linear_step must be given: the problem has no constants['L_g']")
    inner_step = 1.0 / L if inner_step is None else check_positive(inner_step, "inner_step")
    nu = 1.0 / L if linear_step is None else check_positive(linear_step, "linear_step")
    if z_radius is not None:
        z_radius = check_positive(z_radius, "z_radius")
    if batch is not None and getattr(problem, "sample", None) is None:
        raise ValueError("batch given but the problem has no stochastic oracle (sample)")
    x, y = _start_points(problem, x0, y0)
    xp = get_namespace(x, y)
    c = counted(problem)
    gen = _rng_from(rng, seed)
    mon = Monitor("bo_rep", record=record, callback=callback, verbose=verbose)

    def oracle():
        return c if batch is None else c.sample(gen, batch)

    def lower(y, n):
        for _ in range(n):
            y = y - inner_step * oracle().grad_g_y(x, y)
        return y

    def rec(k):
        vals = _measures(problem, x, y) if (k % eval_every == 0 or k == max_iter) else {}
        cnt = c.counts()
        mon.record(k, n_grad=cnt["n_grad"], n_hvp=cnt["nhev"], n_oracle=cnt["n_oracle"],
                   n_lower=cnt["n_grad_g"], **vals)
        return vals

    y = lower(y, refine_steps)
    z = xp.zeros_like(y)
    m = xp.zeros_like(x)
    vals = rec(0)
    status, message, k = Status.MAX_ITER, None, 0
    if tol > 0 and vals.get("hypergrad_norm", math.inf) <= tol:
        status = Status.CONVERGED
    while status != Status.CONVERGED and k < max_iter:
        if k > 0 and k % period == 0:
            y = lower(y, inner_steps)
        o = oracle()
        gfy = o.grad_f_y(x, y)
        d = o.grad_f_x(x, y) - o.jvp_g_xy(x, y, z)
        z = z - nu * (o.hvp_g_yy(x, y, z) - gfy)
        if z_radius is not None:
            zn = float(norm(xp, z))
            if zn > z_radius:
                z = z * (z_radius / zn)
        m = beta * m + (1.0 - beta) * d
        mn = float(norm(xp, m))
        if mn > 0:
            x = x - (step / mn) * m
        if getattr(problem, "project_x", None) is not None:
            x = problem.project_x(x)
        k += 1
        bad = mon.nonfinite(k, x=x, y=y, z=z)
        if bad is not None:
            status, message = Status.NUMERICAL_ERROR, bad
            break
        vals = rec(k)
        if tol > 0 and vals.get("hypergrad_norm", math.inf) <= tol:
            status = Status.CONVERGED
            break
        if mon.stop_requested(x, vals.get("F"), k):
            status = Status.CALLBACK
            break
    fin = _measures(problem, x, y) if status != Status.NUMERICAL_ERROR else {}
    cnt = c.counts()
    return mon.finish(
        x=x, fun=fin.get("F", fin.get("f")), nit=k, status=status, message=message, y=y, z=z,
        n_grad=cnt["n_grad"], n_hvp=cnt["n_hvp"], n_jvp=cnt["n_jvp"], n_samples=cnt["n_samples"],
        njev=cnt["njev"], nhev=cnt["nhev"], n_oracle=cnt["n_oracle"],
    )
