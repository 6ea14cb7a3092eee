r"""sl-BAMM: single-loop Bi-level Averaged Method of Multipliers (Liu et al., ICML 2023)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from optlab._backend import norm, vdot
from optlab._validate import check_array, check_nonnegative, check_positive
from optlab.result import Monitor, Result, Status

from .bda import _check_out, _finish, _project, _setup, _step_change, _Tracker, _UpperSecondOrder

__all__ = ["slbamm"]


def slbamm(
    problem: Any,
    x0: Any = None,
    y0: Any = None,
    z0: Any = None,
    *,
    step: float | None = None,
    y_step: float = 0.1,
    mu0: float = 0.9,
    mu_power: float = 0.1,
    tau: float = 1.0 / 40.0,
    z_step: float | None = None,
    average: bool = True,
    fd_eps: float = 1e-6,
    tol: float = 1e-10,
    max_iter: int = 10000,
    callback: Callable | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Single-loop bilevel averaged method of multipliers (sl-BAMM).

    Solves :math:`\min_{x \in X, y} f(x, y)` s.t. :math:`y \in \arg\min g(x, \cdot)`
    *without lower-level strong convexity*. The lower-level objective is averaged with
    the upper one, :math:`\ell_k = (1 - \mu_k) g + \mu_k f` with :math:`\mu_k \downarrow
    0`, which makes the lower-level model strongly convex in the directions where g is
    flat and steers y towards the optimistic solution; a multiplier z tracks the
    solution of :math:`\nabla^2_{yy}\ell_k\, z = \nabla_y f` by one exact-line-search
    residual step per iteration. One iteration, at :math:`(x_k, y_k, z_k)`:

    .. math::

        y_{k+1} &= y_k - \beta\, \nabla_y \ell_k(x_k, y_k), \\
        r_k &= \nabla^2_{yy}\ell_k(x_k, y_k)\, z_k - \nabla_y f(x_k, y_k), \quad
        z_{k+1} = z_k - \eta_k r_k, \quad \eta_k = \frac{\|r_k\|^2}
        {r_k^\top \nabla^2_{yy}\ell_k\, r_k}, \\
        x_{k+1} &= P_X\big(x_k - \alpha_k [\nabla_x f(x_k, y_k) -
        \nabla^2_{xy}\ell_k(x_k, y_k)\, z_k]\big).

    Parameters
    ----------
    problem : BilevelProblem
        Oracles of :mod:`optlab.bilevel.base`; the averaged Hessian products need
        :math:`\nabla^2_{yy} f\,v` and :math:`\nabla^2_{xy} f\,v`, taken from the
        problem's optional ``hvp_f_yy``/``jvp_f_xy`` or by central differences of the
        upper gradients (``fd_eps``). ``project_x``/``project_y`` are applied when
        present (``project_y(y)`` only).
    x0, y0, z0 : array, optional
        Starts (defaults ``problem.x0``, ``problem.y0`` and z = 0).
    step : float, optional
        Constant upper-level step :math:`\alpha`. Default ``None``: the schedule of the
        official code (``--thelr``), :math:`\alpha_k = (k+1)^{-3\tau/2}\mu_k^3\beta`.
    y_step : float
        :math:`\beta`, lower-level step (default 0.1, the code's ``y_lr``).
    mu0, mu_power : float
        :math:`\mu_k = \mu_0/(k+1)^{p}`; defaults 0.9 and 1/10 (code: ``mu0 = 0.9``,
        ``p0 = 10``).
    tau : float
        Exponent of the step schedule (default 1/40, the code's ``tau``).
    z_step : float, optional
        Constant multiplier step instead of the exact line search (the code's
        ``ita``); when the curvature :math:`r^\top\nabla^2\ell\, r` is not positive the
        line-search step is 0 (the code divides by it plus 1e-12).
    average : bool
        ``True`` (default; the code's ``--BDA`` switch) averages f into the
        lower-level model. ``False`` gives the non-averaged single-loop multiplier
        method (:math:`\ell_k = g`), which keeps the directions where g is flat frozen
        and, on non-singleton problems, converges to the wrong point.
    fd_eps, tol, max_iter, callback, verbose, record
        As in :func:`optlab.bilevel.bda.bda` (``tol`` on the change of (x, y, z)).

    Returns
    -------
    Result
        ``x``, ``y``, ``z``, ``fun``, ``nit``, the oracle counts, ``x_error``,
        ``y_error``, ``lower_gap``; history rows k = 0..nit with ``F``, ``f``,
        ``x_error``, ``y_error``, ``error``, ``lower_gap``, ``inner_distance``,
        ``hypergrad_norm`` (as the problem allows), ``mu``, ``alpha`` and
        ``residual`` (:math:`\|r_k\|`, NaN at row 0).

    Notes
    -----
    The update order and schedules follow the official code
    (``vis-opt-group/sl-BAMM``, ``merely_convex/strategy3.py``, ``hg_mode=BAMM_CG``
    with ``--BDA --thelr``; all three updates use :math:`(x_k, y_k, z_k)`), not the
    paper's text, which was not read (../shared/papers/verified_details_2.md section
    5.2). The paper proves non-asymptotic convergence to KKT points without
    lower-level strong convexity and without a bound on :math:`\nabla_y f`; its rate
    constants are not reproduced here.

    References
    ----------
    .. [1] R. Liu, Y. Liu, W. Yao, S. Zeng, J. Zhang, "Averaged Method of Multipliers
       for Bi-Level Optimization without Lower-Level Strong Convexity", ICML 2023
       (arXiv:2302.03407).

    Examples
    --------
    >>> import numpy as np
    >>> from optlab.bilevel.base import _nonsingleton_example
    >>> from optlab.bilevel.slbamm import slbamm
    >>> p = _nonsingleton_example()  # f = (x - y2)^2/2 + (y1 - 1)^2/2, g = y1^2/2 - x y1 (y2 free)
    >>> res = slbamm(p, step=0.1, y_step=0.5, max_iter=3000)
    >>> np.round(res.x, 3), np.round(res.y, 3)
    (array([1.]), array([1., 1.]))
    """
    name = "slbamm"
    pc, xp, x, y, tol, max_iter = _setup(problem, x0, y0, tol=tol, max_iter=max_iter)
    shape_x, shape_y = (problem.dim_x,), (problem.dim_y,)
    z = xp.zeros_like(y) if z0 is None else check_array(z0, "z0", shape=shape_y)
    step = check_positive(step, "step", optional=True)
    beta = check_positive(y_step, "y_step")
    mu0 = check_nonnegative(mu0, "mu0")
    if mu0 >= 1.0:
        raise ValueError(f"mu0 must lie in [0, 1), got {mu0!r}")
    mu_power = check_nonnegative(mu_power, "mu_power")
    tau = check_nonnegative(tau, "tau")
    z_step = check_positive(z_step, "z_step", optional=True)
    fd_eps = check_positive(fd_eps, "fd_eps")
    project_x = getattr(problem, "project_x", None)
    project_y = getattr(problem, "project_y", None)
    if project_y is not None and (getattr(problem, "params", None) or {}).get("project_y_coupled"):
        raise ValueError("slbamm: a coupled lower-level projection project_y(x, y) is not supported")

    mon = Monitor(name, record=record, callback=callback, verbose=verbose)
    tr = _Tracker(problem, mon, x)
    so = _UpperSecondOrder(pc, xp, fd_eps)

    def hess_l(xk, yk, v, mu):
        Hg, Jg = pc.hvp_g_yy(xk, yk, v), pc.jvp_g_xy(xk, yk, v)
        if mu > 0.0:
            Hf, Jf = so.both(xk, yk, v)
            return (1.0 - mu) * Hg + mu * Hf, (1.0 - mu) * Jg + mu * Jf
        return Hg, Jg

    tr.record(0, x, y, mu=mu0 if average else 0.0, alpha=math.nan, residual=math.nan)
    status, message, k = Status.MAX_ITER, None, 0
    for k in range(max_iter):
        mu_k = mu0 / (k + 1.0) ** mu_power
        mu = mu_k if average else 0.0
        alpha = step if step is not None else (k + 1.0) ** (-1.5 * tau) * mu_k**3 * beta
        gfy = _check_out(pc.grad_f_y(x, y), shape_y, "problem.grad_f_y")
        gfx = _check_out(pc.grad_f_x(x, y), shape_x, "problem.grad_f_x")
        ggy = _check_out(pc.grad_g_y(x, y), shape_y, "problem.grad_g_y")
        d_y = (1.0 - mu) * ggy + mu * gfy if mu > 0.0 else ggy
        Hz, Jz = hess_l(x, y, z, mu)
        r = Hz - gfy
        if z_step is not None:
            eta = z_step
        else:
            Hr, _ = hess_l(x, y, r, mu)
            rr, rHr = float(vdot(xp, r, r)), float(vdot(xp, r, Hr))
            eta = rr / rHr if rHr > 1e-14 * max(rr, 1e-300) else 0.0
        y_new = _project(project_y, y - beta * d_y, "problem.project_y")
        z_new = z - eta * r
        x_new = _project(project_x, x - alpha * (gfx - Jz), "problem.project_x")
        bad = tr.check(k + 1, x_new, y_new, z_new)
        if bad is not None:
            status, message = bad
            break
        change = math.hypot(_step_change(xp, x_new, x, y_new, y), float(norm(xp, z_new - z)))
        x, y, z = x_new, y_new, z_new
        tr.record(k + 1, x, y, mu=mu, alpha=alpha, residual=float(norm(xp, r)))
        if mon.stop_requested(x, tr.last_error, k + 1):
            status = Status.CALLBACK
            k += 1
            break
        if change <= tol:
            status = Status.CONVERGED
            k += 1
            break
    else:
        k = max_iter
    return _finish(mon, tr, pc, x, y, k, status, message, z=z, n_hvp_f=so.count)
