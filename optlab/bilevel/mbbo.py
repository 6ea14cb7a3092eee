"""Blockwise stochastic variance-reduced method for multi-block bilevel problems.

Hu, Zhong, Yang et al., "Blockwise Stochastic Variance-Reduced Methods with
Parallel Speedup for Multi-Block Bilevel Optimization", ICML 2023
(BSVRB, the Hessian-vector-product version "v2").
"""

from __future__ import annotations

import math
from typing import Any

from optlab._backend import get_namespace
from optlab._validate import check_callable, check_int, check_nonnegative, check_positive
from optlab.bilevel.base import _measures, _rng_from, _start_points
from optlab.result import Monitor, Result, Status

__all__ = ["mbbo"]


def mbbo(
    problem: Any,
    x0: Any = None,
    y0: Any = None,
    *,
    max_iter: int = 1000,
    n_blocks: int = 1,
    batch: int = 1,
    step: float = 0.05,
    inner_step: float | None = None,
    beta: float = 0.1,
    beta_x: float = 0.1,
    tol: float = 0.0,
    eval_every: int = 1,
    rng: Any = None,
    seed: Any = None,
    callback: Any = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    """Blockwise variance-reduced bilevel method (BSVRB-v2 style, HVP tracking).

    Problem: ``min_x F(x) = (1/m) sum_{i=1}^m f_i(x, y_i*(x))``,
    ``y_i*(x) = argmin g_i(x, y_i)`` (``problem`` a
    :class:`problems.bilevel.MultiBlockBilevel`-like object with ``m``,
    ``dim_block`` and per-block stochastic oracles
    ``block_oracles(i, rng, B)``).

    Each iteration samples ``I = n_blocks`` blocks ``S`` uniformly without
    replacement and, for each ``i in S``, one mini-batch of ``B = batch``
    samples used at the current and the previous iterate:

    * ``y_i <- y_i - tau grad_y g_i(x, y_i)``;
    * ``u_i <- u_i - tau (H_i u_i - grad_y f_i)`` (linear system, HVP tracking);
    * MSVR estimator of the block hypergradient
      ``G_i = grad_x f_i - J_i u_i``:
      ``h_i <- (1 - beta) h_i + beta G_i(new) + gamma (G_i(new) - G_i(old))``,
      ``gamma = (m - I)/(I (1 - beta)) + (1 - beta)``, ``G_i(old)`` at the
      previous iterate with the same sample (MSVR, Jiang et al., ICML 2022);
    * STORM on the average: ``v <- (1 - beta_x) v + beta_x mean_i h_i``
      (``mean`` over all ``m`` blocks, maintained incrementally), then
      ``x <- x - step v``.

    ``tau = inner_step`` (default ``1/L_g``). This is our reconstruction from
    the published abstract (blockwise variance reduction tracking
    Hessian-vector products, ``I`` sampled blocks and ``B`` samples per block);
    the exact constants of the paper's Algorithm 2 were not available.

    Returns
    -------
    Result
        history ``hypergrad_norm``, ``F``, ``n_samples`` (``I B`` per
        iteration), ``n_block_updates``.

    Notes
    -----
    Hu et al. (2023), Theorem (abstract): iteration complexity
    ``O(m eps^-3 1(I < m) / (I sqrt(I)) + m eps^-3 / (I sqrt(B)))`` for an
    eps-stationary point: more sampled blocks ``I`` and samples ``B`` per
    iteration reduce the number of iterations (parallel speed-up).
    """
    for attr in ("m", "dim_block", "block_oracles"):
        if getattr(problem, attr, None) is None:
            raise ValueError(f"mbbo needs a multi-block problem with attribute {attr!r}")
    m = int(problem.m)
    db = int(problem.dim_block)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    I = check_int(n_blocks, "n_blocks")  # noqa: E741
    if I > m:
        raise ValueError(f"n_blocks must be <= m = {m}, got {I}")
    B = check_int(batch, "batch")
    step = check_positive(step, "step")
    beta = check_positive(beta, "beta")
    beta_x = check_positive(beta_x, "beta_x")
    if beta > 1 or beta_x > 1:
        raise ValueError("beta and beta_x must be in (0, 1]")
    tol = check_nonnegative(tol, "tol")
    eval_every = check_int(eval_every, "eval_every")
    check_callable(callback, "callback", optional=True)
    if inner_step is None:
        L = problem.constants.get("L_g")
        if L is None:
            raise ValueError("inner_step must be given: the problem has no constants['L_g']")
        inner_step = 1.0 / L
    tau = check_positive(inner_step, "inner_step")
    x, y = _start_points(problem, x0, y0)
    xp = get_namespace(x, y)
    gen = _rng_from(rng, seed)
    mon = Monitor("mbbo", record=record, callback=callback, verbose=verbose)
    Y = [y[i * db:(i + 1) * db] for i in range(m)]
    U = [xp.zeros_like(Y[i]) for i in range(m)]
    Hs = [xp.zeros_like(x) for _ in range(m)]
    seen = [False] * m
    snap = None  # (x, Y, U) at the previous iteration (MSVR evaluates G_i there too)
    hsum = xp.zeros_like(x)
    v = xp.zeros_like(x)
    gamma = (m - I) / (I * (1.0 - beta)) + (1.0 - beta) if beta < 1 else 0.0
    n_samples = 0
    n_updates = 0

    def ycat():
        return xp.concat(Y) if hasattr(xp, "concat") else xp.concatenate(Y)

    def rec(k):
        vals = _measures(problem, x, ycat()) if (k % eval_every == 0 or k == max_iter) else {}
        mon.record(k, n_samples=n_samples, n_block_updates=n_updates, **vals)
        return vals

    vals = rec(0)
    status, message, k = Status.MAX_ITER, None, 0
    if tol > 0 and vals.get("hypergrad_norm", math.inf) <= tol:
        status = Status.CONVERGED
    while status != Status.CONVERGED and k < max_iter:
        S = gen.choice(m, size=I, replace=False)
        cur_snap = (x, list(Y), list(U))
        for i in S:
            i = int(i)
            o = problem.block_oracles(i, gen, B)
            n_samples += B
            n_updates += 1
            yi, ui = Y[i], U[i]
            Gnew = o.grad_f_x(x, yi) - o.jvp_g_xy(x, yi, ui)
            if not seen[i]:
                hi = Gnew
                seen[i] = True
            else:
                px, py, pu = snap[0], snap[1][i], snap[2][i]
                Gold = o.grad_f_x(px, py) - o.jvp_g_xy(px, py, pu)
                hi = (1.0 - beta) * Hs[i] + beta * Gnew + gamma * (Gnew - Gold)
            hsum = hsum + (hi - Hs[i])
            Hs[i] = hi
            Y[i] = yi - tau * o.grad_g_y(x, yi)
            U[i] = ui - tau * (o.hvp_g_yy(x, yi, ui) - o.grad_f_y(x, yi))
        snap = cur_snap
        v = (1.0 - beta_x) * v + beta_x * (hsum / m)
        x = x - step * v
        k += 1
        bad = mon.nonfinite(k, x=x)
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
    yy = ycat()
    fin = _measures(problem, x, yy) if status != Status.NUMERICAL_ERROR else {}
    return mon.finish(x=x, fun=fin.get("F", fin.get("f")), nit=k, status=status, message=message,
                      y=yy, n_samples=n_samples, n_block_updates=n_updates)
