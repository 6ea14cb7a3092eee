r"""LV-HBA: proximal Lagrangian value function based Hessian-free bilevel algorithm (Yao et al., ICLR 2024)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from optlab._validate import check_array, check_nonnegative, check_positive
from optlab.result import Monitor, Result, Status

from .bda import _check_out, _finish, _project, _setup, _step_change, _Tracker

__all__ = ["lvhba"]


def lvhba(
    problem: Any,
    x0: Any = None,
    y0: Any = None,
    *,
    theta0: Any = None,
    lam0: Any = 1.0,
    z0: Any = 0.0,
    step: float = 0.008,
    z_step: float = 0.02,
    theta_step: float = 0.01,
    gamma1: float = 10.0,
    gamma2: float = 10.0,
    U: float = 1000.0,
    c0: float = 0.025,
    p: float = 0.3,
    tol: float = 1e-10,
    max_iter: int = 1500,
    callback: Callable | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""LV-HBA for bilevel problems whose lower level has constraints coupling x and y.

    Solves

    .. math::

        \min_{(x, y) \in C} f(x, y) \quad\text{s.t.}\quad y \in \arg\min_{y'}
        \{ g(x, y') : h(x, y') \le 0 \}, \qquad C = \{(x, y) : x \in X,\ h(x, y) \le 0\},

    with no strong convexity of the lower level (its solution set may be a continuum).
    The lower level enters through the *proximal Lagrangian value function*

    .. math::

        v_\gamma(x, y, z) = \min_\theta \max_{\lambda \in \Lambda} \Big\{ g(x, \theta) +
        \lambda^\top h(x, \theta) + \frac{\|\theta - y\|^2}{2\gamma_1} -
        \frac{\|\lambda - z\|^2}{2\gamma_2} \Big\},

    which is smooth, and the reformulation :math:`\min f` s.t. :math:`g - v_\gamma \le
    0`, penalized with :math:`c_k = c_0 (k+1)^p`. One iteration (single loop, gradients
    only):

    1. :math:`\theta \leftarrow \theta - \eta [\nabla_y g(x,\theta) + \nabla_y
       h(x,\theta)^\top\lambda + (\theta - y)/\gamma_1]`,
       :math:`\lambda \leftarrow P_\Lambda(\lambda + \eta [h(x,\theta) - (\lambda -
       z)/\gamma_2])` (both at the old point);
    2. :math:`d_x = \nabla_x f(x,y)/c_k + \nabla_x g(x,y) - \nabla_x g(x,\theta) -
       \nabla_x h(x,\theta)^\top\lambda`,
       :math:`d_y = \nabla_y f(x,y)/c_k + \nabla_y g(x,y) - (y - \theta)/\gamma_1`,
       :math:`(x, y) \leftarrow P_C((x, y) - \alpha (d_x, d_y))`;
    3. :math:`z \leftarrow P_\Lambda(z + \beta (\lambda - z)/\gamma_2)`.

    Parameters
    ----------
    problem : BilevelProblem
        Oracles of :mod:`optlab.bilevel.base` plus, for constraints, the optional members
        ``h(x, y)`` (array of m values), ``h_vjp_x(x, y, lam)`` and
        ``h_vjp_y(x, y, lam)`` (:math:`\nabla_x h^\top\lambda`, :math:`\nabla_y
        h^\top\lambda`), ``n_constraints`` (m), ``h_equality`` (``True``: :math:`h = 0`
        and :math:`\Lambda = [-U, U]^m`; else :math:`h \le 0` and :math:`\Lambda =
        [0, U]^m`) and ``project_xy(x, y) -> (x, y)`` (the projection onto C; without
        it ``project_x`` and ``project_y(y)`` are applied separately). Without ``h`` the
        method runs with no constraint (m = 0). Constraint calls are counted in
        ``n_constraint``.
    x0, y0 : array, optional
        Starts (defaults ``problem.x0``, ``problem.y0``).
    theta0, lam0, z0 : array or float
        Starts of θ (default :math:`y_0`), λ (default 1, the official toy's) and z
        (default 0; the toy code uses -1 with an equality constraint).
    step, z_step, theta_step : float
        :math:`\alpha`, :math:`\beta`, :math:`\eta`: defaults 0.008, 0.02, 0.01 (the
        official toy, ``Toy-example/LLC/LV-HBA.py``).
    gamma1, gamma2 : float
        Proximal parameters (default 10, the toy's).
    U : float
        Bound of :math:`\Lambda` (default 1000, the toy's).
    c0, p : float
        :math:`c_k = c_0 (k+1)^p`, defaults 0.025 and 0.3 (the toy's).
    tol, max_iter, callback, verbose, record
        As in :func:`optlab.bilevel.bda.bda` (``tol`` on the change of (x, y)); default
        ``max_iter`` 1500 (the toy's).

    Returns
    -------
    Result
        ``x``, ``y``, ``theta``, ``lam``, ``z``, ``fun``, ``nit``, oracle counts (no
        Hessian products) plus ``n_constraint``, ``x_error``, ``y_error``,
        ``lower_gap``; history rows k = 0..nit with the reference quantities the problem
        allows (``F``, ``f``, ``x_error``, ``y_error``, ``error``, ``lower_gap``,
        ``inner_distance``, ``hypergrad_norm``, ``constraint_violation``) and ``c``.

    Notes
    -----
    Known difference between the official code and the theory: the code clips λ and z
    to :math:`[-U, U]` for its (equality) constraint; here :math:`\Lambda = [0, U]^m`
    for inequalities and :math:`[-U, U]^m` for equalities (``h_equality``). The paper
    gives a non-asymptotic convergence analysis to stationary points of the
    reformulation without lower-level strong convexity (Yao et al. 2024); the rate
    statement was not read (../shared/papers/verified_details_2.md section 5.1), so no
    rate is asserted.

    Stability of the (θ, λ) step: it is one simultaneous gradient descent-ascent step on
    a saddle function that is :math:`1/\gamma_1`-strongly convex in θ and
    :math:`1/\gamma_2`-strongly concave in λ with coupling :math:`\|\nabla_y h\|`; it
    contracts only when roughly :math:`\eta \|\nabla_y h\|^2 < 2/\gamma`. With the
    official toy's defaults (:math:`\eta = 0.01`, :math:`\gamma = 10`) and its
    constraint :math:`\mathbf 1^\top(x, y) = 0` in dimension n = 100
    (:math:`\|\nabla_y h\|^2 = 200`) this fails: the official script and this
    implementation both drift (relative x error about 120 after 1500 iterations). With
    :math:`\gamma_1 = \gamma_2 = 1`, :math:`c_0 = 1`, :math:`p = 0.45` the method reaches
    a relative error of 1.2e-2 in 1e4 iterations (the remaining error is the
    :math:`O(1/c_k)` penalty bias).

    References
    ----------
    .. [1] W. Yao, C. Yu, S. Zeng, J. Zhang, "Constrained Bi-Level Optimization:
       Proximal Lagrangian Value Function Approach and Hessian-free Algorithm",
       ICLR 2024 (arXiv:2401.16164).

    Examples
    --------
    >>> import numpy as np
    >>> from optlab.bilevel.base import BilevelProblem
    >>> from optlab.bilevel.lvhba import lvhba
    >>> # f = 0.5 ||y - 1||^2 + 0.5 (x - 0.5)^2, g = 0.5 ||y - x||^2 (y*(x) = x)
    >>> p = BilevelProblem(name="toy", dim_x=2, dim_y=2, x0=np.zeros(2), y0=np.zeros(2),
    ...     f=lambda x, y: 0.5 * float(np.sum((y - 1) ** 2) + np.sum((x - 0.5) ** 2)),
    ...     g=lambda x, y: 0.5 * float(np.sum((y - x) ** 2)),
    ...     grad_f_x=lambda x, y: x - 0.5, grad_f_y=lambda x, y: y - 1,
    ...     grad_g_x=lambda x, y: x - y, grad_g_y=lambda x, y: y - x,
    ...     hvp_g_yy=lambda x, y, v: v, jvp_g_xy=lambda x, y, v: -v)
    >>> res = lvhba(p, step=0.05, theta_step=0.1, gamma1=1.0, c0=1.0, p=0.45, max_iter=20000)
    >>> bool(np.linalg.norm(res.x - 0.75) < 0.05)
    True
    """
    name = "lvhba"
    pc, xp, x, y, tol, max_iter = _setup(problem, x0, y0, tol=tol, max_iter=max_iter)
    shape_x, shape_y = (problem.dim_x,), (problem.dim_y,)
    alpha = check_positive(step, "step")
    beta = check_positive(z_step, "z_step")
    eta = check_positive(theta_step, "theta_step")
    gamma1 = check_positive(gamma1, "gamma1")
    gamma2 = check_positive(gamma2, "gamma2")
    U = check_positive(U, "U")
    c0 = check_positive(c0, "c0")
    p = check_nonnegative(p, "p")
    theta = y + 0.0 if theta0 is None else check_array(theta0, "theta0", shape=shape_y)

    h = getattr(problem, "h", None)
    m = int(getattr(problem, "n_constraints", 0) or 0) if h is not None else 0
    if h is not None and m < 1:
        raise ValueError("problem.h is given but problem.n_constraints is not a positive integer")
    if h is not None:
        for nm in ("h_vjp_x", "h_vjp_y"):
            if not callable(getattr(problem, nm, None)):
                raise TypeError(f"problem.{nm} must be callable when problem.h is given")
    lo = -U if getattr(problem, "h_equality", False) else 0.0
    ncons = 0

    def mult(v, nm):
        if m == 0:
            return None
        if isinstance(v, int | float):
            arr = xp.full((m,), float(v), dtype=x.dtype)
        else:
            arr = check_array(v, nm, shape=(m,))
        return xp.clip(arr, lo, U)

    lam = mult(lam0, "lam0")
    z = mult(z0, "z0")
    project_xy = getattr(problem, "project_xy", None)
    project_x = getattr(problem, "project_x", None)
    project_y = getattr(problem, "project_y", None)
    if project_y is not None and (getattr(problem, "params", None) or {}).get("project_y_coupled"):
        if project_xy is None:
            raise ValueError("lvhba: give problem.project_xy for constraints coupling x and y")
        project_y = None

    def proj_c(xv, yv):
        if project_xy is not None:
            xv, yv = project_xy(xv, yv)
            return _check_out(xv, shape_x, "problem.project_xy"), _check_out(yv, shape_y, "problem.project_xy")
        return _project(project_x, xv, "problem.project_x"), _project(project_y, yv, "problem.project_y")

    mon = Monitor(name, record=record, callback=callback, verbose=verbose)
    tr = _Tracker(problem, mon, x)
    tr.record(0, x, y, c=c0)
    status, message, k = Status.MAX_ITER, None, 0
    for k in range(max_iter):
        ck = c0 * (k + 1.0) ** p
        # 1. proximal min-max step on (theta, lambda) at the old point
        d_th = _check_out(pc.grad_g_y(x, theta), shape_y, "problem.grad_g_y") + (theta - y) / gamma1
        if m:
            ncons += 2
            d_th = d_th + _check_out(problem.h_vjp_y(x, theta, lam), shape_y, "problem.h_vjp_y")
            hv = _check_out(h(x, theta), (m,), "problem.h")
            lam_new = xp.clip(lam + eta * (hv - (lam - z) / gamma2), lo, U)
        else:
            lam_new = None
        theta_new = theta - eta * d_th
        # 2. penalized step on (x, y) with the new (theta, lambda)
        d_x = pc.grad_f_x(x, y) / ck + pc.grad_g_x(x, y) - pc.grad_g_x(x, theta_new)
        if m:
            ncons += 1
            d_x = d_x - problem.h_vjp_x(x, theta_new, lam_new)
        d_y = pc.grad_f_y(x, y) / ck + pc.grad_g_y(x, y) - (y - theta_new) / gamma1
        x_new, y_new = proj_c(x - alpha * d_x, y - alpha * d_y)
        # 3. multiplier anchor
        z_new = xp.clip(z + beta * (lam_new - z) / gamma2, lo, U) if m else None
        bad = tr.check(k + 1, x_new, y_new, theta_new, *((lam_new, z_new) if m else ()))
        if bad is not None:
            status, message = bad
            break
        change = _step_change(xp, x_new, x, y_new, y)
        x, y, theta, lam, z = x_new, y_new, theta_new, lam_new, z_new
        tr.record(k + 1, x, y, c=ck)
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
    return _finish(mon, tr, pc, x, y, k, status, message, theta=theta, lam=lam, z=z, n_constraint=ncons)
