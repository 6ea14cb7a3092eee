"""Gradient descent with a constant step or Armijo backtracking."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from optlab._validate import check_int, check_positive
from optlab.result import Monitor, Result, Status

from ._common import diverged, divergence_message, finish, norm, setup_smooth

__all__ = ["gradient_descent"]

#: Relative band within which two values of f are treated as equal up to rounding.
_ROUNDING_BAND = 1e-10


def gradient_descent(
    fun: Callable,
    grad: Callable,
    x0: Any,
    *,
    L: float | None = None,
    step: float | None = None,
    line_search: bool = False,
    tol: float = 1e-8,
    max_iter: int = 1000,
    callback: Callable | None = None,
    verbose: int = 0,
    record: bool = True,
    armijo: float = 1e-4,
    backtrack: float = 0.5,
    max_backtrack: int = 60,
) -> Result:
    r"""Minimize a smooth function by gradient descent.

    Solves :math:`\min_x f(x)` for differentiable :math:`f` with the iteration

    .. math:: x_{k+1} = x_k - \eta_k \nabla f(x_k), \qquad k = 0, 1, \dots

    with a constant step :math:`\eta_k = 1/L` (``L`` given), :math:`\eta_k = \eta`
    (``step`` given), or an Armijo backtracking step (``line_search=True``).

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float`` (a Python or 0-d array scalar), the objective :math:`f`.
    grad : callable
        ``grad(x) -> array`` of the shape and namespace of ``x``, :math:`\nabla f(x)`.
    x0 : array
        Starting point (any array-API namespace, ``ndim >= 1``, finite). The oracles
        receive and must return arrays of its namespace.
    L : float, optional
        Lipschitz constant of :math:`\nabla f`. Constant step ``1/L``; with
        ``line_search=True`` the first trial step.
    step : float, optional
        Constant step (or first trial step with ``line_search=True``). Give at most
        one of ``L`` and ``step``; without ``line_search`` exactly one.
    line_search : bool
        Armijo backtracking: at iteration ``k`` try :math:`\eta = \tau_k` and multiply
        by ``backtrack`` until :math:`f(x_k - \eta g_k) \le f(x_k) - c\,\eta\,\|g_k\|^2`
        (``c = armijo``), at most ``max_backtrack`` reductions. The first trial
        :math:`\tau_0` is ``step``, else ``1/L``, else ``1.0``; afterwards
        :math:`\tau_{k+1} = \eta_k / \text{backtrack}`, i.e. the accepted step is
        allowed to grow by ``1/backtrack`` per iteration (one extra ``fun`` call per
        iteration when the larger step is rejected, but no slow-down when the local
        curvature drops). Near a minimizer the decrease :math:`c\,\eta\|g_k\|^2` falls
        below the rounding error of :math:`f`; when
        :math:`|f(x_k - \eta g_k) - f(x_k)| \le 10^{-10}|f(x_k)|` a trial is also
        accepted if it meets the approximate Armijo condition of Hager & Zhang (2005),
        :math:`\langle \nabla f(x_k - \eta g_k), g_k\rangle \ge -(1 - 2c)\|g_k\|^2`
        (equivalent to Armijo for quadratics; costs one gradient per such trial, which
        is reused when accepted; the step is then not grown for the next iteration).
        If no trial passes, the run stops with
        ``Status.STAGNATION``.
    tol : float
        Stop when :math:`\|\nabla f(x_k)\|_2 \le` ``tol`` (norm over all entries).
    max_iter : int
        Maximum number of steps (``>= 1``).
    callback : callable, optional
        ``callback(intermediate_result)`` after each iterate; returning ``True`` stops.
    verbose : int
        Logging level through ``logging.getLogger("optlab")`` (0 silent).
    record : bool
        Record the history.
    armijo, backtrack : float
        Sufficient-decrease constant ``c`` and reduction factor, both in ``(0, 1)``.
    max_backtrack : int
        Maximum step reductions per iteration (``>= 1``).

    Returns
    -------
    Result
        ``x`` (namespace and dtype of ``x0``), ``fun`` :math:`= f(x)`, ``nit``,
        ``nfev``, ``njev``, ``success``, ``status``, ``message``, and ``history`` with
        rows ``k = 0..nit`` for the iterates :math:`x_k` (:math:`x_0` first):
        ``fun`` :math:`f(x_k)`, ``grad_norm`` :math:`\|\nabla f(x_k)\|`, ``step`` the
        step :math:`\eta_{k-1}` that produced :math:`x_k` (NaN for ``k = 0``).
        With a constant step ``nfev = njev = nit + 1``; with the line search ``nfev``
        is one per trial step plus one for ``x0`` and ``njev = nit + 1`` plus the
        rejected approximate-Armijo trials.

    Notes
    -----
    Failures are reported in the result, never raised: a NaN/inf value at iteration
    ``k`` gives ``Status.NUMERICAL_ERROR``; :math:`|f(x_k)| > 10^{10}(1 + |f(x_0)|)`
    gives ``Status.DIVERGED`` (e.g. a constant step above ``2/L``); a failed line
    search gives ``Status.STAGNATION``. The message names the iteration and ``x`` is
    the last iterate before the failure (the history ends there).

    Guarantees (iterates numbered from :math:`x_0`, ``k`` = number of steps, for
    convex :math:`f` with :math:`L`-Lipschitz gradient and minimizer :math:`x^*`):

    - step :math:`1/L`: :math:`f(x_k) - f^* \le \frac{2L\|x_0 - x^*\|^2}{k + 4}`
      (Bubeck 2015, Theorem 3.3, stated there as :math:`2\beta\|x_1-x^*\|^2/(t+3)` for
      the iterate :math:`x_t` reached after :math:`t-1` steps), and the sharper
      :math:`f(x_k) - f^* \le \frac{L\|x_0 - x^*\|^2}{2k}`, :math:`k \ge 1`
      (Garrigos & Gower 2023, Theorem 3.4, for any step :math:`\eta \le 1/L`:
      :math:`\|x_0-x^*\|^2/(2\eta k)`);
    - :math:`\mu`-strongly convex, step :math:`1/L`:
      :math:`\|x_k - x^*\|^2 \le e^{-k\mu/L}\|x_0 - x^*\|^2` (Bubeck 2015,
      Theorem 3.10, projected case with :math:`\mathcal X = \mathbb R^n`);
    - :math:`\mu`-strongly convex, step :math:`2/(L+\mu)`:
      :math:`\|x_k - x^*\| \le \left(\frac{\kappa-1}{\kappa+1}\right)^k\|x_0 - x^*\|`,
      :math:`\kappa = L/\mu` (proof of Bubeck 2015, Theorem 3.12, which states the
      consequence :math:`f(x_k) - f^* \le \frac{L}{2}e^{-4k/(\kappa+1)}\|x_0-x^*\|^2`).

    No rate is claimed here for the line search variant; it decreases f monotonically
    (up to the rounding band above).

    References
    ----------
    .. [1] S. Bubeck, "Convex Optimization: Algorithms and Complexity", Foundations and
       Trends in Machine Learning 8(3-4), 2015, Section 3.
    .. [2] G. Garrigos, R. M. Gower, "Handbook of Convergence Theorems for (Stochastic)
       Gradient Methods", arXiv:2301.11235, 2023, Section 3.
    .. [3] J. Nocedal, S. J. Wright, "Numerical Optimization", 2nd ed., Springer 2006,
       Section 3.1 (Armijo backtracking).
    .. [4] W. W. Hager, H. Zhang, "A new conjugate gradient method with guaranteed
       descent and an efficient line search", SIAM J. Optim. 16(1), 2005
       (approximate Wolfe conditions).

    Examples
    --------
    >>> import numpy as np
    >>> from optlab.convex import gradient_descent
    >>> A = np.array([[2.0, 0.0], [0.0, 1.0]]); b = np.array([2.0, -1.0])
    >>> res = gradient_descent(lambda x: 0.5 * x @ A @ x - b @ x, lambda x: A @ x - b,
    ...                        np.zeros(2), L=2.0, tol=1e-10)
    >>> res.success, np.round(res.x, 8), res.nit
    (True, array([ 1., -1.]), 34)
    """
    name = "gradient_descent"
    L = check_positive(L, "L", optional=True)
    step = check_positive(step, "step", optional=True)
    if not isinstance(line_search, bool):
        raise TypeError(f"line_search must be a bool, got {type(line_search).__name__}")
    if L is not None and step is not None:
        raise ValueError("give at most one of L and step (the step is 1/L when L is given)")
    if not line_search and L is None and step is None:
        raise ValueError("give L (step 1/L), step, or line_search=True")
    armijo = check_positive(armijo, "armijo")
    backtrack = check_positive(backtrack, "backtrack")
    if armijo >= 1.0:
        raise ValueError(f"armijo must be in (0, 1), got {armijo!r}")
    if backtrack >= 1.0:
        raise ValueError(f"backtrack must be in (0, 1), got {backtrack!r}")
    max_backtrack = check_int(max_backtrack, "max_backtrack", minimum=1)
    xp, x0, orc, f0, g0, tol, max_iter = setup_smooth(fun, grad, x0, tol=tol, max_iter=max_iter)

    if step is not None:
        eta = step
    elif L is not None:
        eta = 1.0 / L
    else:
        eta = 1.0
    mon = Monitor(name, record=record, callback=callback, verbose=verbose)
    dtype = x0.dtype

    def done(x, f, nit, status, message=None):
        return finish(
            mon, xp, x, dtype, fun=f, nit=nit, status=status, message=message,
            nfev=orc.nfev, njev=orc.njev,
        )  # fmt: skip

    x, fx, gx = x0, f0, g0
    last_step = math.nan
    k = 0
    while True:
        gn = norm(xp, gx)
        mon.record(k, fun=fx, grad_norm=gn, step=last_step)
        if gn <= tol:
            return done(x, fx, k, Status.CONVERGED)
        if mon.stop_requested(x, fx, k):
            return done(x, fx, k, Status.CALLBACK)
        if k == max_iter:
            return done(x, fx, k, Status.MAX_ITER)
        if line_search:
            t = eta
            accepted = approximate = False
            g_try = None
            band = _ROUNDING_BAND * abs(fx)
            for _ in range(max_backtrack + 1):
                x_try = x - t * gx
                f_try = orc.f(x_try)
                # a NaN/inf trial value fails both tests and is backtracked from
                if f_try <= fx - armijo * t * gn * gn:
                    accepted = True
                    break
                if abs(f_try - fx) <= band:
                    # f cannot resolve the decrease: approximate Armijo (Hager & Zhang)
                    g_try = orc.g(x_try)
                    if float(xp.sum(g_try * gx)) >= -(1.0 - 2.0 * armijo) * gn * gn:
                        accepted = approximate = True
                        break
                    g_try = None
                t *= backtrack
            if not accepted:
                msg = (
                    f"{name}: line search failed at iteration {k + 1}: no sufficient decrease "
                    f"after {max_backtrack} reductions (last trial step {t / backtrack:.3e})"
                )
                return done(x, fx, k, Status.STAGNATION, msg)
            # next trial: allow the step to grow, except in the rounding regime (where a
            # rejected trial costs a gradient)
            eta = t if approximate else t / backtrack
        else:
            t = eta
            x_try = x - t * gx
            f_try = orc.f(x_try)
            g_try = None
        msg = mon.nonfinite(k + 1, x=x_try, fun=f_try)
        if msg is not None:
            return done(x, fx, k, Status.NUMERICAL_ERROR, msg)
        if diverged(f_try, f0):
            return done(x, fx, k, Status.DIVERGED, divergence_message(name, k + 1, f_try, f0))
        if g_try is None:
            g_try = orc.g(x_try)
        msg = mon.nonfinite(k + 1, grad=g_try)
        if msg is not None:
            return done(x, fx, k, Status.NUMERICAL_ERROR, msg)
        x, fx, gx, last_step = x_try, f_try, g_try, t
        k += 1
