r"""MEHA: Moreau-envelope based single-loop Hessian-free bilevel algorithm (Liu et al., ICML 2024)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from optlab._validate import check_array, check_nonnegative, check_positive
from optlab.result import Monitor, Result, Status

from .bda import _check_out, _finish, _project, _setup, _step_change, _Tracker

__all__ = ["meha"]


def meha(
    problem: Any,
    x0: Any = None,
    y0: Any = None,
    theta0: Any = None,
    *,
    step: float = 0.05,
    y_step: float | None = None,
    theta_step: float = 0.1,
    gamma: float = 0.5,
    c0: float = 0.2,
    p: float = 0.25,
    tol: float = 1e-10,
    max_iter: int = 5000,
    callback: Callable | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Moreau-envelope based single-loop, Hessian-free bilevel method (MEHA).

    Solves :math:`\min_{x \in X, y \in Y} f(x, y)` s.t. :math:`y \in \arg\min_{y'}
    g(x, y')` with g possibly *nonconvex* in y (weakly convex with modulus
    :math:`\rho`, :math:`\gamma < 1/\rho`). The lower-level constraint is replaced by
    the value-function constraint through the Moreau envelope

    .. math::

        v_\gamma(x, y) = \min_\theta \Big\{ g(x, \theta) + \frac{1}{2\gamma}
        \|\theta - y\|^2 \Big\}, \qquad g(x, y) - v_\gamma(x, y) \le 0,

    penalized with a growing :math:`c_k = c_0 (k + 1)^p`: one minimizes
    :math:`f/c_k + g - v_\gamma`. One iteration uses gradients only (no Hessian):

    .. math::

        \theta_{k+1} &= P_Y\big(\theta_k - \eta [\nabla_y g(x_k, \theta_k) +
        (\theta_k - y_k)/\gamma]\big), \\
        x_{k+1} &= P_X\big(x_k - \alpha [\nabla_x f(x_k, y_k)/c_k + \nabla_x g(x_k, y_k)
        - \nabla_x g(x_k, \theta_{k+1})]\big), \\
        y_{k+1} &= P_Y\big(y_k - \beta [\nabla_y f(x_k, y_k)/c_k + \nabla_y g(x_k, y_k)
        - (y_k - \theta_{k+1})/\gamma]\big),

    using :math:`\nabla_x v_\gamma = \nabla_x g(x, \theta^*)` and :math:`\nabla_y
    v_\gamma = (y - \theta^*)/\gamma`, with :math:`\theta_{k+1}` one step towards
    :math:`\theta^*(x_k, y_k)`.

    Parameters
    ----------
    problem : BilevelProblem
        Oracles of :mod:`optlab.bilevel.base` (gradients only); ``project_x`` and
        ``project_y(y)`` are applied when present.
    x0, y0, theta0 : array, optional
        Starts (defaults ``problem.x0``, ``problem.y0`` and :math:`\theta_0 = y_0`).
    step, y_step, theta_step : float
        :math:`\alpha`, :math:`\beta` (default :math:`\beta = \alpha`), :math:`\eta`.
        Defaults 0.05 and 0.1: our choices (stable on the toys of
        :mod:`problems.bilevel_toy`: :math:`\alpha, \beta < 1/(L_f/c_0 + L_g + 1/\gamma)`,
        :math:`\eta < 1/(L_g + 1/\gamma)`), not the paper's.
    gamma : float
        Moreau parameter :math:`\gamma` (default 0.5, below :math:`1/\rho` for
        :math:`\rho = 1`).
    c0, p : float
        Penalty schedule :math:`c_k = c_0 (k + 1)^p`; defaults 0.2 and 1/4 from the
        BOAT library's ``MESM`` operation, which cites the paper
        (../shared/papers/verified_details_2.md section 5.3).
    tol, max_iter, callback, verbose, record
        As in :func:`optlab.bilevel.bda.bda` (``tol`` on the change of (x, y)).

    Returns
    -------
    Result
        ``x``, ``y``, ``theta``, ``fun``, ``nit``, oracle counts (gradients only:
        ``n_hvp = n_jvp = 0``), ``x_error``, ``y_error``, ``lower_gap``; history rows
        k = 0..nit with the reference quantities the problem allows (``F``, ``f``,
        ``x_error``, ``y_error``, ``error``, ``lower_gap``, ``inner_distance``,
        ``hypergrad_norm``), ``c`` (the penalty :math:`c_k`) and ``moreau_gap``
        (:math:`g(x_k, y_k) - g(x_k, \theta_k) - \|\theta_k - y_k\|^2/(2\gamma)`, an
        estimate of :math:`g - v_\gamma \ge 0` from above; two extra lower-level values
        per recorded row, not counted).

    Notes
    -----
    The paper (Liu, Liu, Yao, Zeng, Zhang, ICML 2024) proves non-asymptotic
    convergence to stationary points of the penalized reformulation for nonconvex
    upper and lower levels with :math:`p \in (0, 1/2)`; the theorem's rate and step
    bounds were not read (only the abstract and the BOAT implementation), so the
    defaults are documented choices. The BOAT implementation updates θ by SGD with
    momentum 0.9; here it is a plain gradient step (one per iteration). A
    non-smooth lower-level part (the paper's composite :math:`g + h`) is not supported.

    References
    ----------
    .. [1] R. Liu, Z. Liu, W. Yao, S. Zeng, J. Zhang, "Moreau Envelope for Nonconvex
       Bi-Level Optimization: A Single-loop and Hessian-free Solution Strategy",
       ICML 2024 (PMLR 235).

    Examples
    --------
    >>> import numpy as np
    >>> from optlab.bilevel.base import _nonsingleton_example
    >>> from optlab.bilevel.meha import meha
    >>> p = _nonsingleton_example()  # f = (x - y2)^2/2 + (y1 - 1)^2/2, g = y1^2/2 - x y1 (y2 free)
    >>> res = meha(p, max_iter=5000)
    >>> np.round(res.x, 2), np.round(res.y, 2)
    (array([1.]), array([1., 1.]))
    """
    name = "meha"
    pc, xp, x, y, tol, max_iter = _setup(problem, x0, y0, tol=tol, max_iter=max_iter)
    shape_x, shape_y = (problem.dim_x,), (problem.dim_y,)
    theta = y + 0.0 if theta0 is None else check_array(theta0, "theta0", shape=shape_y)
    alpha = check_positive(step, "step")
    beta = alpha if y_step is None else check_positive(y_step, "y_step")
    eta = check_positive(theta_step, "theta_step")
    gamma = check_positive(gamma, "gamma")
    c0 = check_positive(c0, "c0")
    p = check_nonnegative(p, "p")
    project_x = getattr(problem, "project_x", None)
    project_y = getattr(problem, "project_y", None)
    if project_y is not None and (getattr(problem, "params", None) or {}).get("project_y_coupled"):
        raise ValueError("meha: a coupled lower-level projection project_y(x, y) is not supported")
    raw = getattr(pc, "problem", problem)

    mon = Monitor(name, record=record, callback=callback, verbose=verbose)
    tr = _Tracker(problem, mon, x)

    def moreau_gap(xk, yk, th):
        if not mon.history.enabled:
            return math.nan
        import numpy as np

        from optlab._backend import to_numpy  # host values for the record only

        xn, yn, tn = (np.asarray(to_numpy(a), float) for a in (xk, yk, th))
        return float(raw.g(xn, yn)) - float(raw.g(xn, tn)) - float(np.sum((tn - yn) ** 2)) / (2 * gamma)

    tr.record(0, x, y, c=c0, moreau_gap=moreau_gap(x, y, theta))
    status, message, k = Status.MAX_ITER, None, 0
    for k in range(max_iter):
        ck = c0 * (k + 1.0) ** p
        gth = _check_out(pc.grad_g_y(x, theta), shape_y, "problem.grad_g_y")
        theta_new = _project(project_y, theta - eta * (gth + (theta - y) / gamma), "problem.project_y")
        gfx = _check_out(pc.grad_f_x(x, y), shape_x, "problem.grad_f_x")
        gfy = _check_out(pc.grad_f_y(x, y), shape_y, "problem.grad_f_y")
        ggx = _check_out(pc.grad_g_x(x, y), shape_x, "problem.grad_g_x")
        ggy = pc.grad_g_y(x, y)
        ggx_th = pc.grad_g_x(x, theta_new)
        x_new = _project(project_x, x - alpha * (gfx / ck + ggx - ggx_th), "problem.project_x")
        y_new = _project(project_y, y - beta * (gfy / ck + ggy - (y - theta_new) / gamma), "problem.project_y")
        bad = tr.check(k + 1, x_new, y_new, theta_new)
        if bad is not None:
            status, message = bad
            break
        change = _step_change(xp, x_new, x, y_new, y)
        x, y, theta = x_new, y_new, theta_new
        tr.record(k + 1, x, y, c=ck, moreau_gap=moreau_gap(x, y, theta))
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
    return _finish(mon, tr, pc, x, y, k, status, message, theta=theta)
