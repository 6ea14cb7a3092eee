"""Hypergradients: implicit differentiation (CG, Neumann series), iterative differentiation.

For ``F(x) = f(x, y*(x))`` with ``y*(x) = argmin_y g(x, y)`` and ``g(x, .)``
strongly convex, the implicit function theorem gives

.. math::

    \\nabla F(x) = \\nabla_x f(x, y^*) - \\nabla^2_{xy} g(x, y^*)\\, v^*, \\qquad
    \\nabla^2_{yy} g(x, y^*)\\, v^* = \\nabla_y f(x, y^*).

* :func:`aid_cg` solves the linear system for ``v`` by conjugate gradients
  (approximate implicit differentiation, AID; Pedregosa 2016, Grazzi et al. 2020).
* :func:`aid_neumann` replaces the inverse Hessian by the truncated Neumann
  series ``alpha sum_{j=0}^{K} (I - alpha H)^j`` (Lorraine, Vicol & Duvenaud,
  AISTATS 2020, eq. (9) and Algorithm 3). For ``alpha <= 1/L_g`` the error of
  ``v`` is exactly ``(I - alpha H)^{K+1} v*``, so
  ``||v_K - v*|| <= (1 - alpha mu_g)^{K+1} ||v*||`` (geometric in ``K``).
* :func:`itd` differentiates through ``T`` gradient steps
  ``y_{t+1} = y_t - alpha grad_y g(x, y_t)`` by reverse accumulation
  (Maclaurin et al. 2015; Franceschi et al. 2017, Alg. "reverse-HG"); the error
  to ``grad F`` decays linearly in ``T`` at the inner method's rate
  ``(1 - alpha mu_g)`` (Grazzi et al., ICML 2020, Theorem 2 / Ji et al. 2021,
  Proposition 2 for strongly convex ``g``).
* :func:`exact_hypergrad` uses the problem's closed form when it has one, else a
  dense solve at ``y*(x)``.

All functions take a problem following :mod:`optlab.bilevel.base`, work in the
array namespace of ``x`` and ``y`` and return a :class:`~optlab.result.Result`
with ``grad`` (the hypergradient), ``v`` (the linear-system solution, AID), the
oracle counts (``n_hvp``, ``n_jvp``, ``n_grad``) and ``success``.

Examples
--------
>>> import numpy as np
>>> from optlab.bilevel.base import _example_problem
>>> from optlab.bilevel.hypergrad import aid_cg, itd, exact_hypergrad
>>> p = _example_problem(3, 5)
>>> x = np.ones(3)
>>> r = aid_cg(p, x, p.y_star(x), tol=1e-12)
>>> np.testing.assert_allclose(r.grad, exact_hypergrad(p, x), atol=1e-9)
>>> r.success
True
>>> r_itd = itd(p, x, p.y0, n_steps=60, step=0.5)
>>> bool(np.linalg.norm(r_itd.grad - exact_hypergrad(p, x)) < 1e-6)
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optlab._backend import get_namespace, norm
from optlab._validate import (
    check_callable,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
)
from optlab.bilevel.base import (
    OracleCounter,
    _measures,
    _rng_from,
    _start_points,
    counted,
    exact_hypergrad_dense,
)
from optlab.result import Monitor, Result, Status

__all__ = ["aid_cg", "aid_neumann", "itd", "exact_hypergrad", "default_inner_step", "hypergradient_descent"]


def _check_xy(problem: Any, x: Any, y: Any) -> None:
    for name, val, dim in (("x", x, getattr(problem, "dim_x", None)), ("y", y, getattr(problem, "dim_y", None))):
        if dim is None:  # a stochastic view: shapes were checked on the problem
            continue
        shape = tuple(getattr(val, "shape", ()))
        if shape != (dim,):
            raise ValueError(f"{name} must have shape ({dim},), got {shape}")


def _cg(xp, matvec, b, *, x0=None, tol=1e-10, atol=0.0, max_iter=None):
    """Conjugate gradients for a callable SPD operator (lean loop, no type dispatch per product).

    Same algorithm and stopping rule as :func:`optlab._backend.cg`
    (``||b - A x|| <= max(tol ||b||, atol)``); returns ``(x, info, n_matvec)`` with
    ``info = 0`` converged, ``k > 0`` not converged after ``k`` iterations, ``-1`` breakdown.
    """
    n = b.shape[0]
    max_iter = 10 * n if max_iter is None else int(max_iter)
    nmv = 0
    if x0 is None:
        x = xp.zeros_like(b)
        r = b
    else:
        x = x0
        r = b - matvec(x)
        nmv += 1
    bb = float(xp.sum(b * b))
    thr2 = max(float(tol) ** 2 * bb, float(atol) ** 2)
    rr = float(xp.sum(r * r))
    if not math.isfinite(rr):
        return x, -1, nmv
    if rr <= thr2:
        return x, 0, nmv
    p = r
    for _ in range(max_iter):
        Ap = matvec(p)
        nmv += 1
        pAp = float(xp.sum(p * Ap))
        if not pAp > 0:
            return x, -1, nmv
        a = rr / pAp
        x = x + a * p
        r = r - a * Ap
        rr_new = float(xp.sum(r * r))
        if rr_new <= thr2:
            return x, 0, nmv
        if not math.isfinite(rr_new):
            return x, -1, nmv
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x, max_iter, nmv


def default_inner_step(problem: Any) -> float:
    """``1 / L_g`` from ``problem.constants`` (``L_g``), else ValueError."""
    L = problem.constants.get("L_g") if getattr(problem, "constants", None) else None
    if L is None or not (L > 0):
        raise ValueError("step must be given: the problem has no constants['L_g']")
    return 1.0 / float(L)


def _result(x, grad, v, c: OracleCounter, *, nit: int, status: Status, message: str, start=None,
            **extra) -> Result:
    counts = c.counts()
    if start is not None:  # calls made by this function only
        counts = {k: counts[k] - start[k] for k in counts}
    return Result(
        x=x,
        grad=grad,
        v=v,
        fun=None,
        nit=int(nit),
        success=status == Status.CONVERGED,
        status=int(status),
        message=message,
        n_hvp=counts["n_hvp"],
        n_jvp=counts["n_jvp"],
        n_grad=counts["n_grad"],
        nhev=counts["nhev"],
        njev=counts["njev"],
        **extra,
    )


def aid_cg(
    problem: Any,
    x: Any,
    y: Any,
    *,
    tol: float = 1e-10,
    max_iter: int | None = None,
    v0: Any = None,
    atol: float = 0.0,
) -> Result:
    """AID hypergradient with conjugate gradients on ``H v = grad_y f``.

    Parameters
    ----------
    problem : BilevelProblem (or OracleCounter)
    x, y : arrays
        Outer point and (approximate) lower-level solution.
    tol, atol : float
        CG stops at ``||H v - grad_y f|| <= max(tol ||grad_y f||, atol)``.
    max_iter : int, optional
        CG iteration limit (default ``10 dim_y``).
    v0 : array, optional
        Warm start for ``v`` (e.g. the previous outer iteration's ``v``).

    Returns
    -------
    Result
        ``grad``, ``v``, ``nit`` (CG matvecs), ``residual`` (relative),
        ``n_hvp``, ``n_jvp``, ``n_grad``; ``success=False`` with a message
        when CG did not reach ``tol`` (or broke down: ``H`` not positive
        definite), the estimate being returned anyway.

    Notes
    -----
    With an exact ``y`` and exact ``v`` this equals ``grad F(x)``; with
    ``||y - y*|| <= d`` and a CG residual ``r`` the error is
    ``O(d + r / mu_g)`` (Pedregosa, ICML 2016, Theorem 1; Grazzi et al. 2020,
    Theorem 1).
    """
    _check_xy(problem, x, y)
    check_nonnegative(tol, "tol")
    c = counted(problem)
    c0 = c.counts()
    xp = get_namespace(x, y)
    b = c.grad_f_y(x, y)
    hvp = c.problem.hvp_g_yy
    counts = c._counts

    def matvec(u):  # counted directly (no per-product attribute lookups)
        counts["hvp_g_yy"] += 1
        return hvp(x, y, u)

    v, info, nmv = _cg(xp, matvec, b, x0=v0, tol=float(tol), atol=float(atol), max_iter=max_iter)
    grad = c.grad_f_x(x, y) - c.jvp_g_xy(x, y, v)
    bn = float(norm(xp, b))
    # residual check costs one more HVP only when requested implicitly by failure
    if info == 0:
        status, msg = Status.CONVERGED, f"CG converged in {nmv} matvecs"
        res = float("nan")
    else:
        r = c.hvp_g_yy(x, y, v) - b
        res = float(norm(xp, r)) / max(bn, 1e-300)
        if info < 0:
            status, msg = Status.NUMERICAL_ERROR, (
                f"CG breakdown after {nmv} matvecs (Hessian not positive definite or non-finite); "
                f"relative residual {res:.3g}")
        else:
            status, msg = Status.MAX_ITER, (
                f"CG did not reach tol={tol:g} in {info} iterations: relative residual {res:.3g}")
    return _result(x, grad, v, c, start=c0, nit=nmv, status=status, message=msg, residual=res)


def aid_neumann(
    problem: Any,
    x: Any,
    y: Any,
    *,
    n_terms: int = 10,
    step: float | None = None,
) -> Result:
    """AID hypergradient with a truncated Neumann series for the inverse Hessian.

    ``v_K = alpha sum_{j=0}^{K} (I - alpha H)^j grad_y f`` with ``K = n_terms``
    (``K + 1`` terms, ``K`` Hessian-vector products), computed by the recursion
    ``p <- p - alpha H p``, ``v <- v + alpha p`` (Lorraine, Vicol & Duvenaud,
    AISTATS 2020, Algorithm 3, their ``i`` = our ``K``).

    Parameters
    ----------
    n_terms : int >= 0
        ``K``.
    step : float, optional
        ``alpha``; default ``1 / L_g`` from ``problem.constants``. The series
        converges for ``0 < alpha < 2 / L_g``.

    Notes
    -----
    For ``H = grad^2_yy g`` with spectrum in ``[mu_g, L_g]`` and
    ``alpha <= 1/L_g``: ``v* - v_K = (I - alpha H)^{K+1} v*``, hence
    ``||v_K - v*|| <= (1 - alpha mu_g)^{K+1} ||v*||`` and
    ``||grad_K - grad F|| <= ||grad^2_xy g|| (1 - alpha mu_g)^{K+1} ||v*||``
    at ``y = y*``.
    """
    _check_xy(problem, x, y)
    K = check_int(n_terms, "n_terms", minimum=0)
    alpha = default_inner_step(problem) if step is None else check_positive(step, "step")
    c = counted(problem)
    c0 = c.counts()
    b = c.grad_f_y(x, y)
    p = b
    v = alpha * b
    for _ in range(K):
        p = p - alpha * c.hvp_g_yy(x, y, p)
        v = v + alpha * p
    grad = c.grad_f_x(x, y) - c.jvp_g_xy(x, y, v)
    if not bool(np.isfinite(float(norm(get_namespace(v), v)))):
        return _result(x, grad, v, c, start=c0, nit=K, status=Status.DIVERGED,
                       message=f"Neumann series diverged (non-finite after {K} terms); step too large?")
    return _result(x, grad, v, c, start=c0, nit=K, status=Status.CONVERGED, message=f"{K} Neumann terms")


def itd(
    problem: Any,
    x: Any,
    y0: Any,
    *,
    n_steps: int = 10,
    step: float | None = None,
) -> Result:
    """ITD hypergradient: reverse accumulation through ``T`` inner gradient steps.

    Forward: ``y_{t+1} = y_t - alpha grad_y g(x, y_t)``, ``t = 0..T-1``
    (``y_0`` fixed, not a function of ``x``). Backward (exact gradient of
    ``x -> f(x, y_T(x))``):

    .. math::

        d_x = \\nabla_x f(x, y_T), \\; \\lambda = \\nabla_y f(x, y_T);\\quad
        \\text{for } t = T-1, \\dots, 0:\\;
        d_x \\leftarrow d_x - \\alpha\\,\\nabla^2_{xy} g(x, y_t)\\,\\lambda,\\;
        \\lambda \\leftarrow \\lambda - \\alpha\\,\\nabla^2_{yy} g(x, y_t)\\,\\lambda.

    Stores the ``T + 1`` inner iterates (memory ``O(T dim_y)``).

    Parameters
    ----------
    n_steps : int >= 0
        ``T``.
    step : float, optional
        ``alpha``; default ``1 / L_g`` from ``problem.constants``.

    Returns
    -------
    Result
        ``grad``, ``y`` (= ``y_T``), ``n_grad`` (``T`` inner gradients + 2),
        ``n_hvp = n_jvp = T``.

    Notes
    -----
    For ``mu_g``-strongly convex, ``L_g``-smooth ``g`` with Lipschitz second
    derivatives and ``alpha <= 1/L_g``, ``||grad_T - grad F(x)|| = O(T q^T)``
    with ``q = 1 - alpha mu_g`` (Grazzi et al., ICML 2020, Theorem 2; for a
    quadratic ``g`` the factor ``T`` disappears: ``O(q^T)``).
    """
    _check_xy(problem, x, y0)
    T = check_int(n_steps, "n_steps", minimum=0)
    alpha = default_inner_step(problem) if step is None else check_positive(step, "step")
    c = counted(problem)
    c0 = c.counts()
    ys = [y0]
    y = y0
    for _ in range(T):
        y = y - alpha * c.grad_g_y(x, y)
        ys.append(y)
    dx = c.grad_f_x(x, y)
    lam = c.grad_f_y(x, y)
    for t in range(T - 1, -1, -1):
        dx = dx - alpha * c.jvp_g_xy(x, ys[t], lam)
        lam = lam - alpha * c.hvp_g_yy(x, ys[t], lam)
    xp = get_namespace(dx)
    if not math.isfinite(float(norm(xp, dx))):
        return _result(x, dx, None, c, start=c0, nit=T, status=Status.DIVERGED, y=y,
                       message=f"ITD: non-finite hypergradient after {T} steps (step too large?)")
    return _result(x, dx, None, c, start=c0, nit=T, status=Status.CONVERGED, y=y, message=f"ITD through {T} steps")


def exact_hypergrad(problem: Any, x: Any) -> Any:
    """The exact hypergradient: ``problem.hypergrad`` if present, else a dense solve at ``y*(x)``."""
    prob = problem.problem if isinstance(problem, OracleCounter) else problem
    if getattr(prob, "hypergrad", None) is not None:
        return prob.hypergrad(x)
    return exact_hypergrad_dense(prob, x)


def hypergradient_descent(
    problem: Any,
    x0: Any = None,
    y0: Any = None,
    *,
    method: str = "cg",
    step: float = 0.1,
    max_iter: int = 100,
    inner_steps: int = 10,
    inner_step: float | None = None,
    cg_tol: float = 1e-6,
    cg_max_iter: int = 50,
    n_terms: int = 10,
    batch: int | tuple[int, int] | None = None,
    tol: float = 0.0,
    eval_every: int = 1,
    rng: Any = None,
    seed: Any = None,
    callback: Any = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    """Gradient descent on ``F`` with approximate hypergradients (AID-CG, AID-Neumann or ITD).

    Each iteration: ``inner_steps`` (warm-started) gradient steps on ``g(x_k, .)`` with step
    ``inner_step`` (default ``1/L_g``), then the hypergradient at ``(x_k, y)`` by
    :func:`aid_cg` (``v`` warm-started, ``cg_tol``/``cg_max_iter``), :func:`aid_neumann`
    (``n_terms``) or :func:`itd` (through the ``inner_steps`` steps of this iteration), and
    ``x <- x - step * hypergradient``. With ``batch`` the oracles of each iteration come
    from one mini-batch view (``problem.sample``), as in stochastic AID (Ghadimi & Wang
    2018; Ji, Yang & Liang 2021, StocBiO). This is the classical "AID/ITD-based" baseline
    the first-order methods are compared with.

    Returns
    -------
    Result
        history as for the other bilevel solvers (``hypergrad_norm``/``F`` when the
        problem knows them, its ``metrics``), ``n_oracle``, ``n_hvp``, ``n_grad``.
    """
    check_choice(method, "method", ("cg", "neumann", "itd"))
    step = check_positive(step, "step")
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    inner_steps = check_int(inner_steps, "inner_steps", minimum=0)
    tol = check_nonnegative(tol, "tol")
    eval_every = check_int(eval_every, "eval_every")
    check_callable(callback, "callback", optional=True)
    alpha = default_inner_step(problem) if inner_step is None else check_positive(inner_step, "inner_step")
    if batch is not None and getattr(problem, "sample", None) is None:
        raise ValueError("batch given but the problem has no stochastic oracle (sample)")
    x, y = _start_points(problem, x0, y0)
    c = counted(problem)
    gen = _rng_from(rng, seed)
    mon = Monitor(f"hypergradient_descent[{method}]", record=record, callback=callback, verbose=verbose)
    v = None

    def rec(k):
        vals = _measures(problem, x, y, exact=(k % eval_every == 0 or k == max_iter))
        cnt = c.counts()
        mon.record(k, n_oracle=cnt["n_oracle"], n_grad=cnt["n_grad"], n_hvp=cnt["nhev"], **vals)
        return vals

    vals = rec(0)
    status, message, k = Status.MAX_ITER, None, 0
    while k < max_iter:
        o = c if batch is None else c.sample(gen, batch)
        if method == "itd":
            r = itd(o, x, y, n_steps=inner_steps, step=alpha)
            y = r.y
        else:
            for _ in range(inner_steps):
                y = y - alpha * o.grad_g_y(x, y)
            if method == "cg":
                r = aid_cg(o, x, y, tol=cg_tol, max_iter=cg_max_iter, v0=v)
                v = r.v
            else:
                r = aid_neumann(o, x, y, n_terms=n_terms, step=alpha)
        x = x - step * r.grad
        if getattr(problem, "project_x", None) is not None:
            x = problem.project_x(x)
        k += 1
        bad = mon.nonfinite(k, x=x, y=y)
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
    cnt = c.counts()
    return mon.finish(x=x, fun=vals.get("F", vals.get("f")), nit=k, status=status, message=message, y=y,
                      n_grad=cnt["n_grad"], n_hvp=cnt["n_hvp"], n_jvp=cnt["n_jvp"], njev=cnt["njev"],
                      nhev=cnt["nhev"], n_oracle=cnt["n_oracle"], n_samples=cnt["n_samples"])
