"""F2SA: fully first-order stochastic approximation for bilevel problems.

Kwon, Kwon, Wright & Nowak, "A Fully First-Order Method for Stochastic Bilevel
Optimization", ICML 2023 (arXiv 2301.10945).

The method minimizes the penalty surrogate
``L_lambda(x, y) = f(x, y) + lambda (g(x, y) - g*(x))``, whose minimum over
``y`` has gradient ``grad L*_lambda(x) = grad F(x) + O(1/lambda)`` (their
lemma on the penalty gap; numbering not checked), using only gradients of ``f`` and ``g``: ``g*`` enters through the
envelope identity ``grad g*(x) = grad_x g(x, y*(x))``, approximated at an
auxiliary lower-level iterate ``z``.
"""

from __future__ import annotations

import math
from typing import Any

from optlab._backend import get_namespace, norm
from optlab._validate import (
    check_callable,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
)
from optlab.bilevel.base import _measures, _rng_from, _start_points, counted
from optlab.result import Monitor, Result, Status

__all__ = ["f2sa", "f2sa_schedule", "F2SA_EXPONENTS"]

#: (a, c) exponents of alpha_k ~ k^-a (y and x steps) and gamma_k ~ k^-c (z step) per noise setting,
#: lambda_k ~ k^(a - c). Algorithm 1 (plain) and Algorithm 2 (momentum).
F2SA_EXPONENTS = {
    ("deterministic", False): (1 / 3, 0.0),
    ("upper_noise", False): (3 / 5, 2 / 5),
    ("stochastic", False): (5 / 7, 4 / 7),
    ("deterministic", True): (1 / 3, 0.0),
    ("upper_noise", True): (1 / 2, 1 / 4),
    ("stochastic", True): (3 / 5, 2 / 5),
}

#: iteration complexity exponents p in K = O(eps^-p) for E||grad F||^2 <= eps (abstract)
F2SA_RATES = {
    ("deterministic", False): 1.5,
    ("upper_noise", False): 2.5,
    ("stochastic", False): 3.5,
    ("deterministic", True): 1.5,
    ("upper_noise", True): 2.0,
    ("stochastic", True): 2.5,
}


def f2sa_schedule(
    k: int | Any,
    *,
    schedule: str = "paper",
    setting: str = "stochastic",
    momentum: bool = False,
    gamma0: float = 1.0,
    lam0: float = 1.0,
    xi: float = 1.0,
    delta0: float = 0.1,
    step0: float = 0.1,
) -> dict[str, Any]:
    """Step sizes and penalty at iteration ``k`` (``k = 0, 1, ...``; arrays allowed).

    ``schedule="paper"`` (Kwon et al. 2023, the main theorem and its corollary for
    Algorithm 1 and for Algorithm 2; theorem numbers and constants not checked)::

        gamma_k = gamma0 (k+1)^-c,   lambda_k = lam0 (k+1)^(a-c),
        alpha_k = gamma_k / (2 lambda_k) = gamma0/(2 lam0) (k+1)^-a,
        xi_k = xi alpha_k,

    so ``alpha_k lambda_k = gamma_k / 2``: the y-iteration's step on
    ``lambda g`` stays below the z-iteration's step, and ``lambda`` grows like
    ``k^(a-c)`` (``k^(1/7)`` with noise at both levels). ``(a, c)`` are in
    :data:`F2SA_EXPONENTS`. Caveat: the corollary's text was not available to
    us; these exponents are the reading that reproduces the abstract's three
    rates exactly (bias ``O(1/lambda_k)`` in ``||grad F||``, see the notes in
    ``shared/papers/verified_details_2.md`` section 2.3).

    ``schedule="benchmark"`` (benchopt ``benchmark_bilevel/solvers/f2sa.py``)::

        alpha_k = step0 (k+1)^(-5/7), gamma_k = step0 (k+1)^(-4/7),
        xi_k = xi step0 (k+1)^(-4/7),
        lambda_{k+1} = lambda_k + delta0 (k+1)^(-1/7),

    i.e. ``lambda_k ~ k^(6/7)``: ``alpha_k lambda_k ~ k^(1/7)`` grows, which
    eventually destabilizes the y-iteration (the discrepancy this lab tests).
    """
    check_choice(schedule, "schedule", ("paper", "benchmark"))
    check_choice(setting, "setting", ("deterministic", "upper_noise", "stochastic"))
    kk = k + 1
    if schedule == "paper":
        a, c = F2SA_EXPONENTS[(setting, bool(momentum))]
        gamma = gamma0 * kk ** (-c)
        lam = lam0 * kk ** (a - c)
        alpha = gamma0 / (2.0 * lam0) * kk ** (-a)
        return {"alpha": alpha, "gamma": gamma, "lam": lam, "xi": xi * alpha, "a": a, "c": c}
    alpha = step0 * kk ** (-5 / 7)
    gamma = step0 * kk ** (-4 / 7)
    xi_k = xi * step0 * kk ** (-4 / 7)
    # lambda_k = lam0 + sum_{j<k} delta0 (j+1)^(-1/7)
    if isinstance(k, int):
        lam = lam0 + delta0 * sum((j + 1) ** (-1 / 7) for j in range(k))
    else:
        import numpy as np

        kmax = int(np.max(k))
        cum = np.concatenate([[0.0], np.cumsum(delta0 * np.arange(1, kmax + 1) ** (-1 / 7))])
        lam = lam0 + cum[np.asarray(k, dtype=int)]
    return {"alpha": alpha, "gamma": gamma, "lam": lam, "xi": xi_k, "a": 5 / 7, "c": 4 / 7}


def f2sa(
    problem: Any,
    x0: Any = None,
    y0: Any = None,
    z0: Any = None,
    *,
    max_iter: int = 1000,
    inner_steps: int = 10,
    setting: str | None = None,
    schedule: str = "paper",
    momentum: bool = False,
    gamma0: float | None = None,
    lam0: float = 1.0,
    xi: float = 1.0,
    delta0: float = 0.1,
    step0: float = 0.1,
    eta0: float = 1.0,
    batch: int | tuple[int, int] | None = None,
    tol: float = 0.0,
    eval_every: int = 1,
    rng: Any = None,
    seed: Any = None,
    callback: Any = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    """F2SA (Kwon et al. 2023, Algorithm 1) and its momentum variant (Algorithm 2).

    Problem: ``min_x F(x) = f(x, y*(x))``, ``y*(x) = argmin_y g(x, y)`` with
    ``g(x, .)`` strongly convex; only gradient oracles are used.

    Algorithm 1 (``momentum=False``), for ``k = 0, 1, ...``::

        T inner steps:   z <- z - gamma_k grad_y g(x_k, z)
                         y <- y - alpha_k (grad_y f(x_k, y) + lambda_k grad_y g(x_k, y))
        outer step:      x <- x - xi_k [grad_x f(x_k, y) + lambda_k (grad_x g(x_k, y) - grad_x g(x_k, z))]

    with each stochastic oracle call on a fresh mini-batch when ``batch`` is
    given (``problem.sample``). Algorithm 2 (``momentum=True``) takes one inner
    step (``T = 1``) and replaces each of the six oracle outputs by a STORM
    estimator ``h_k = o_k(p_k) + (1 - eta_k)(h_{k-1} - o_k(p_{k-1}))`` (the
    same sample at the current and the previous point), with
    ``eta_k = min(1, eta0 (k+1)^(-2c))``, ``c`` as in the schedule (our
    choice; the corollary's constants were not available).

    Parameters
    ----------
    problem : BilevelProblem
    x0, y0, z0 : arrays, optional
        Starts (``z0`` defaults to ``y0``).
    max_iter : int
        Outer iterations ``K``.
    inner_steps : int
        ``T`` (Algorithm 1).
    setting : {"deterministic", "upper_noise", "stochastic"}, optional
        Chooses the paper's step exponents (:data:`F2SA_EXPONENTS`); default
        ``"deterministic"`` without ``batch`` and ``"stochastic"`` with it.
    schedule : {"paper", "benchmark"}
        See :func:`f2sa_schedule`.
    gamma0 : float, optional
        z step at ``k = 0``; default ``1 / L_g`` from ``problem.constants``.
    lam0, xi, delta0, step0, eta0 : float
        See :func:`f2sa_schedule` (``lam0`` should be at least
        ``L_f / L_g`` so that the y-step is stable).
    batch : int or (int, int), optional
        Mini-batch size(s) (upper, lower); ``None`` = exact oracles.
    tol : float
        Stop when the exact ``||grad F(x_k)||^2 <= tol`` (needs
        ``problem.hypergrad``; checked every ``eval_every`` iterations).
    eval_every : int
        Reference measures (``F``, ``hypergrad_norm``, ``inner_distance``) are
        recorded every ``eval_every`` iterations (not counted as oracle calls).
    rng, seed : Generator or int, optional

    Returns
    -------
    Result
        ``x``, ``y``, ``z``, ``fun`` (``F(x)`` when known, else ``f(x, y)``),
        history ``hypergrad_norm``, ``F``, ``inner_distance`` (of ``y``),
        ``lam``, ``n_grad``, ``n_samples``; counts ``n_grad``, ``n_samples``,
        ``njev``.

    Notes
    -----
    Kwon et al. (2023), abstract (corollaries not read): ``E||grad F||^2 <= eps``
    after ``O(eps^-7/2)``, ``O(eps^-5/2)``, ``O(eps^-3/2)`` iterations (noise in
    both levels, in the upper level only, none); with momentum
    ``O(eps^-5/2)``, ``O(eps^-2)``, ``O(eps^-3/2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from optlab.bilevel.base import _example_problem
    >>> p = _example_problem()
    >>> r = f2sa(p, max_iter=3000, inner_steps=5, lam0=2.0, xi=2.0, eval_every=100)
    >>> bool(r.history["hypergrad_norm"][-1] < 0.05 * r.history["hypergrad_norm"][0])
    True
    """
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    T = check_int(inner_steps, "inner_steps", minimum=1)
    check_choice(schedule, "schedule", ("paper", "benchmark"))
    if setting is None:
        setting = "deterministic" if batch is None else "stochastic"
    check_choice(setting, "setting", ("deterministic", "upper_noise", "stochastic"))
    lam0 = check_positive(lam0, "lam0")
    xi = check_positive(xi, "xi")
    delta0 = check_nonnegative(delta0, "delta0")
    step0 = check_positive(step0, "step0")
    eta0 = check_positive(eta0, "eta0")
    tol = check_nonnegative(tol, "tol")
    eval_every = check_int(eval_every, "eval_every")
    check_callable(callback, "callback", optional=True)
    if gamma0 is None:
        L = problem.constants.get("L_g") if getattr(problem, "constants", None) else None
        if L is None:
            raise ValueError("gamma0 must be given: the problem has no constants['L_g']")
        gamma0 = 1.0 / float(L)
    gamma0 = check_positive(gamma0, "gamma0")
    if batch is not None:
        bs = (batch, batch) if isinstance(batch, int) else tuple(batch)
        for b in bs:
            check_int(b, "batch")
        if getattr(problem, "sample", None) is None:
            raise ValueError("batch given but the problem has no stochastic oracle (sample)")
    x, y = _start_points(problem, x0, y0)
    z = y if z0 is None else _start_points(problem, x0, z0)[1]
    xp = get_namespace(x, y)
    blowup = 1e10 * max(1.0, float(norm(xp, x)), float(norm(xp, y)))
    c = counted(problem)
    gen = _rng_from(rng, seed)
    mon = Monitor("f2sa", record=record, callback=callback, verbose=verbose)
    sched_kw = dict(schedule=schedule, setting=setting, momentum=momentum, gamma0=gamma0,
                    lam0=lam0, xi=xi, delta0=delta0, step0=step0)
    lam_bench = lam0  # running lambda for the benchmark schedule

    def oracle():
        return c if batch is None else c.sample(gen, batch)

    def rec(k, lam):
        vals = _measures(problem, x, y) if (k % eval_every == 0 or k == max_iter) else {}
        cnt = c.counts()
        mon.record(k, lam=float(lam), n_grad=cnt["n_grad"], n_samples=cnt["n_samples"], **vals)
        return vals

    sch = f2sa_schedule(0, **sched_kw)
    vals = rec(0, sch["lam"])
    status, message, k = Status.MAX_ITER, None, 0
    if tol > 0 and vals.get("hypergrad_norm", math.inf) ** 2 <= tol:
        status = Status.CONVERGED
    h = None  # momentum estimators
    prev = None
    while status != Status.CONVERGED and k < max_iter:
        sch = f2sa_schedule(k, **sched_kw)
        alpha, gamma, xi_k = sch["alpha"], sch["gamma"], sch["xi"]
        lam = sch["lam"] if schedule == "paper" else lam_bench
        if not momentum:
            for _ in range(T):
                oz = oracle()
                z = z - gamma * oz.grad_g_y(x, z)
                oy = oracle()
                y = y - alpha * (oy.grad_f_y(x, y) + lam * oy.grad_g_y(x, y))
            ox = oracle()
            dx = ox.grad_f_x(x, y) + lam * (ox.grad_g_x(x, y) - ox.grad_g_x(x, z))
        else:
            o = oracle()
            cur = {
                "gz": o.grad_g_y(x, z), "fy": o.grad_f_y(x, y), "gy": o.grad_g_y(x, y),
                "fx": o.grad_f_x(x, y), "gxy": o.grad_g_x(x, y), "gxz": o.grad_g_x(x, z),
            }
            if h is None:
                h = cur
            else:
                px, py, pz = prev
                old = {
                    "gz": o.grad_g_y(px, pz), "fy": o.grad_f_y(px, py), "gy": o.grad_g_y(px, py),
                    "fx": o.grad_f_x(px, py), "gxy": o.grad_g_x(px, py), "gxz": o.grad_g_x(px, pz),
                }
                eta = min(1.0, eta0 * (k + 1) ** (-2 * sch["c"]))
                h = {key: cur[key] + (1.0 - eta) * (h[key] - old[key]) for key in cur}
            prev = (x, y, z)
            z = z - gamma * h["gz"]
            y = y - alpha * (h["fy"] + lam * h["gy"])
            dx = h["fx"] + lam * (h["gxy"] - h["gxz"])
        x = x - xi_k * dx
        if getattr(problem, "project_x", None) is not None:
            x = problem.project_x(x)
        if schedule == "benchmark":
            lam_bench = lam_bench + delta0 * (k + 1) ** (-1 / 7)
        k += 1
        bad = mon.nonfinite(k, x=x, y=y, z=z)
        if bad is not None or max(float(norm(xp, y)), float(norm(xp, x))) > blowup:
            status = Status.DIVERGED if bad is None else Status.NUMERICAL_ERROR
            message = bad or f"f2sa: lower-level iterate diverged at iteration {k} (lambda={lam:.3g})"
            mon.record(k, lam=float(lam))
            break
        nxt_lam = f2sa_schedule(k, **sched_kw)["lam"] if schedule == "paper" else lam_bench
        vals = rec(k, nxt_lam)
        if tol > 0 and vals.get("hypergrad_norm", math.inf) ** 2 <= tol:
            status = Status.CONVERGED
            break
        if mon.stop_requested(x, vals.get("F"), k):
            status = Status.CALLBACK
            break
    fin = _measures(problem, x, y) if status != Status.NUMERICAL_ERROR else {}
    cnt = c.counts()
    return mon.finish(
        x=x, fun=fin.get("F", fin.get("f")), nit=k, status=status, message=message, y=y, z=z,
        n_grad=cnt["n_grad"], n_samples=cnt["n_samples"], njev=cnt["njev"], nhev=0,
        n_hvp=0, n_jvp=0,
    )
