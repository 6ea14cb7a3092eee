r"""Newton's method with backtracking line search or self-concordant damping."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from numpy.linalg import LinAlgError  # scipy.linalg.LinAlgError is the same class

from optlab._backend import get_namespace, solve
from optlab._validate import (
    check_array,
    check_callable,
    check_choice,
    check_finite_value,
    check_int,
    check_positive,
)
from optlab.result import Monitor, Result, Status

__all__ = ["newton"]

_DAMPINGS = ("armijo", "self_concordant", None)
_ON_INDEFINITE = ("shift", "stop")
# Cholesky with added multiple of the identity (Nocedal & Wright, Algorithm 3.3):
# first shift beta = _SHIFT_BETA * max_i |H_ii|, doubled at most _SHIFT_TRIES times.
_SHIFT_BETA = 1e-3
_SHIFT_TRIES = 60


def newton(
    fun: Callable[[Any], Any],
    grad: Callable[[Any], Any],
    hess: Callable[[Any], Any],
    x0: Any,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
    damping: str | None = "armijo",
    c1: float = 1e-4,
    backtrack: float = 0.5,
    max_backtrack: int = 60,
    on_indefinite: str = "shift",
    callback: Callable[[Result], Any] | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Newton's method for smooth convex minimization, damped for global convergence.

    Solves

    .. math:: \min_{x \in \mathbb{R}^n} f(x),

    with :math:`f` convex and twice differentiable, from the oracles ``fun``, ``grad``
    and ``hess``.

    **Algorithm** (Boyd & Vandenberghe 2004, Algorithm 9.5). At :math:`x_k`, with
    :math:`g_k = \nabla f(x_k)` and :math:`H_k = \nabla^2 f(x_k)`:

    1. Newton step :math:`\Delta x_k = -H_k^{-1} g_k` by a Cholesky solve
       (:func:`optlab._backend.solve` with ``assume_a="pos"``), and Newton decrement
       :math:`\lambda_k = (g_k^\top H_k^{-1} g_k)^{1/2} = (-g_k^\top \Delta x_k)^{1/2}`.
    2. **Stop** when :math:`\lambda_k^2 / 2 \le` ``tol``. This is the only convergence
       test (the gradient norm is recorded, not tested): :math:`\lambda^2/2` is
       :math:`f(x) - \inf_y \hat f_x(y)` for the quadratic model :math:`\hat f_x`, an
       affine-invariant estimate of :math:`f(x) - f^\star` (B&V Sec. 9.5.1); for a
       self-concordant :math:`f` and :math:`\lambda \le 0.68`,
       :math:`f(x) - f^\star \le \lambda^2` (B&V Sec. 9.6.3).
    3. Step size :math:`t_k` by ``damping``:

       - ``"armijo"``: backtracking from :math:`t = 1`, :math:`t \leftarrow`
         ``backtrack`` :math:`\cdot\, t` until
         :math:`f(x_k + t\Delta x_k) \le f(x_k) - c_1 t \lambda_k^2` (a non-finite
         trial value counts as a failure, so the search also keeps the iterate in
         :math:`\operatorname{dom} f`). B&V Algorithm 9.2 with
         :math:`\alpha = c_1 \in (0, 1/2)`, :math:`\beta =` ``backtrack``.
       - ``"self_concordant"``: :math:`t_k = 1 / (1 + \lambda_k)`, the damped Newton
         method for self-concordant functions (Nesterov 2004, Sec. 4.1.5;
         Nesterov 2018, Sec. 5.2.1). No function value is needed to pick the step.
       - ``None``: pure Newton, :math:`t_k = 1`.

    4. :math:`x_{k+1} = x_k + t_k \Delta x_k`.

    **Hessian not positive definite.** If the Cholesky factorization fails (or the
    solve does not give :math:`\lambda_k^2 > 0`), then with ``on_indefinite="shift"``
    (default) the step uses :math:`H_k + \tau I` with the smallest
    :math:`\tau \in \{\tau_0, 2\tau_0, 4\tau_0, \dots\}` whose factorization succeeds,
    :math:`\tau_0 = \beta` if :math:`\min_i (H_k)_{ii} > 0` else
    :math:`\beta - \min_i (H_k)_{ii}`, :math:`\beta = 10^{-3} \max_i |(H_k)_{ii}|`
    (Nocedal & Wright 2006, Algorithm 3.3). The direction is then a descent
    direction and the decrement is measured in :math:`H_k + \tau I`; the shift used is
    recorded in ``history["shift"]`` (0 when none). Local quadratic convergence needs
    :math:`\nabla^2 f(x^\star) \succ 0`, so no shift happens near such a minimizer.
    With ``on_indefinite="stop"`` the solver stops with ``Status.STAGNATION`` and a
    message naming the iteration.

    **Guarantees.**

    - *Local quadratic convergence* (Nesterov 2004, Theorem 1.2.5): if
      :math:`\nabla^2 f` is :math:`M`-Lipschitz, :math:`\nabla^2 f(x^\star) \succeq
      \ell I` and :math:`\|x_0 - x^\star\| < \bar r = 2\ell/(3M)`, pure Newton steps give
      :math:`\|x_{k+1} - x^\star\| \le M\|x_k - x^\star\|^2 / (2(\ell - M\|x_k -
      x^\star\|))`, i.e. **Q-order 2 once in the local region**.
    - *Damped Newton with backtracking* (B&V Sec. 9.5.3): for :math:`m`-strongly convex
      :math:`f` with :math:`L`-Lipschitz Hessian, every iteration with
      :math:`\|\nabla f(x_k)\| \ge \eta = \min(1, 3(1 - 2\alpha))\, m^2/L` decreases
      :math:`f` by at least a constant :math:`\gamma > 0`; once
      :math:`\|\nabla f(x_k)\| < \eta` the unit step is accepted and
      :math:`\tfrac{L}{2m^2}\|\nabla f(x_{k+1})\| \le (\tfrac{L}{2m^2}\|\nabla
      f(x_k)\|)^2` (quadratic phase), so at most :math:`(f(x_0) - f^\star)/\gamma +
      \log_2\log_2(\epsilon_0/\epsilon)` iterations are needed.
    - *Self-concordant damping* (:math:`f` standard self-concordant:
      :math:`|\nabla^3 f(x)[u,u,u]| \le 2 (u^\top \nabla^2 f(x) u)^{3/2}`): the step
      :math:`t = 1/(1+\lambda)` gives :math:`f(x_{k+1}) \le f(x_k) - (\lambda_k -
      \log(1 + \lambda_k))` (B&V Sec. 9.6.4), keeps :math:`x_{k+1}` in
      :math:`\operatorname{dom} f`, and :math:`\lambda_{k+1} \le 2\lambda_k^2`
      (Nesterov 2018, Sec. 5.2.1): quadratic convergence of the decrement as soon as
      :math:`\lambda_k < 1/2`, with no line search.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float`` (or a 0-d array); may return ``inf``/``nan`` outside
        :math:`\operatorname{dom} f`.
    grad : callable
        ``grad(x) -> array`` of the shape of ``x``.
    hess : callable
        ``hess(x) -> (n, n) array``, symmetric, in the namespace of ``x``.
    x0 : (n,) array
        Starting point with finite ``fun(x0)``; its namespace and dtype are kept.
    tol : float, default 1e-10
        Stop when :math:`\lambda_k^2/2 \le` ``tol``.
    max_iter : int, default 100
        Maximum number of Newton iterations (Hessian solves that move ``x``).
    damping : {"armijo", "self_concordant", None}, default "armijo"
        Step-size rule (see above).
    c1 : float, default 1e-4
        Armijo sufficient-decrease constant :math:`\alpha \in (0, 1/2)` (B&V require
        :math:`\alpha < 1/2` for the unit step to be accepted in the quadratic phase).
    backtrack : float, default 0.5
        Backtracking factor :math:`\beta \in (0, 1)`.
    max_backtrack : int, default 60
        Most step reductions per iteration; when exceeded the solver stops with
        ``Status.STAGNATION``.
    on_indefinite : {"shift", "stop"}, default "shift"
        What to do when the Hessian is not positive definite (see above).
    callback : callable, optional
        ``callback(intermediate_result)`` at every iterate :math:`x_k` that does not
        meet ``tol`` (``x``, ``fun``, ``nit = k``; ``k = 0`` included); returning
        ``True`` stops the solver.
    verbose : int, default 0
        Logging level through ``logging.getLogger("optlab")``.
    record : bool, default True
        Record the per-iteration history.

    Returns
    -------
    Result
        ``x``, ``fun``, ``jac`` (gradient at ``x``), ``nit``, ``success``, ``status``,
        ``message``; ``nfev``, ``njev``, ``nhev`` count every call of ``fun`` (line-search
        trials included), ``grad`` and ``hess``. ``history`` rows ``k = 0..nit`` hold,
        for the iterate :math:`x_k`: ``fun``, ``grad_norm`` (:math:`\|g_k\|_2`),
        ``newton_decrement`` (:math:`\lambda_k`, NaN where the Hessian could not be
        used), ``step`` (:math:`t_{k-1}`, the step size that produced :math:`x_k`;
        NaN at ``k = 0``) and ``shift`` (:math:`\tau` used at :math:`x_k`).

    Raises
    ------
    TypeError, ValueError
        Bad input: non-callable oracles, ``x0`` not 1-D or not finite, ``fun(x0)`` not
        finite, an oracle returning the wrong shape, out-of-range options.

    Notes
    -----
    Run-time trouble is reported in the Result, not raised: a non-finite gradient or
    Hessian (``NUMERICAL_ERROR``), a non-finite ``fun`` after a step with
    ``damping="self_concordant"`` or ``None`` (``NUMERICAL_ERROR``: ``f`` is then not
    self-concordant, or the pure step left :math:`\operatorname{dom} f`), a failed line
    search or an indefinite Hessian with ``on_indefinite="stop"`` (``STAGNATION``).
    The history up to that point is kept. A line search can also fail once
    :math:`\lambda_k^2` reaches the rounding level of :math:`f` (``tol`` below about
    ``1e-30``); the message then says so.

    Only the NumPy path was timed; other namespaces go through ``xp.linalg``
    (see :func:`optlab._backend.solve`). Each iteration syncs two host scalars.

    References
    ----------
    .. [BV04] S. Boyd, L. Vandenberghe. *Convex Optimization*. CUP, 2004. Sec. 9.5
       (Newton's method, Algorithm 9.5, convergence analysis 9.5.3) and Sec. 9.6
       (self-concordance).
    .. [Nes04] Yu. Nesterov. *Introductory Lectures on Convex Optimization*. Kluwer,
       2004. Theorem 1.2.5 (local quadratic convergence); Sec. 4.1 (self-concordant
       functions, damped Newton method).
    .. [Nes18] Yu. Nesterov. *Lectures on Convex Optimization*. Springer, 2018.
       Sec. 5.2.1.
    .. [NW06] J. Nocedal, S. J. Wright. *Numerical Optimization*, 2nd ed. Springer,
       2006. Algorithm 3.3 (Cholesky with added multiple of the identity).

    Examples
    --------
    A strictly convex quadratic is solved by one pure Newton step:

    >>> import numpy as np
    >>> from optlab.convex import newton
    >>> A = np.array([[3.0, 1.0], [1.0, 2.0]]); b = np.array([1.0, -1.0])
    >>> res = newton(lambda x: 0.5 * x @ A @ x - b @ x, lambda x: A @ x - b,
    ...              lambda x: A, np.zeros(2), damping=None)
    >>> res.success, res.nit, (res.nfev, res.njev, res.nhev)
    (True, 1, (2, 2, 2))
    >>> np.testing.assert_allclose(res.x, np.linalg.solve(A, b))
    """
    check_callable(fun, "fun")
    check_callable(grad, "grad")
    check_callable(hess, "hess")
    check_callable(callback, "callback", optional=True)
    x = check_array(x0, "x0", ndim=1)
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    check_choice(damping, "damping", _DAMPINGS)
    c1 = check_positive(c1, "c1")
    if c1 >= 0.5:
        raise ValueError(f"c1 must be in (0, 0.5), got {c1!r}")
    backtrack = check_positive(backtrack, "backtrack")
    if backtrack >= 1.0:
        raise ValueError(f"backtrack must be in (0, 1), got {backtrack!r}")
    max_backtrack = check_int(max_backtrack, "max_backtrack", minimum=1)
    check_choice(on_indefinite, "on_indefinite", _ON_INDEFINITE)
    verbose = check_int(verbose, "verbose", minimum=0)

    xp = get_namespace(x)
    n = x.shape[0]
    mon = Monitor("newton", record=record, callback=callback, verbose=verbose)

    f = check_finite_value(fun(x), "fun(x0)")
    nfev, njev, nhev = 1, 0, 0
    step_prev = math.nan
    k = 0
    g = None

    def done(status: Status, message: str | None = None) -> Result:
        return mon.finish(
            x=x,
            fun=f,
            nit=k,
            status=status,
            message=message,
            jac=g,
            nfev=nfev,
            njev=njev,
            nhev=nhev,
        )

    while True:
        g = grad(x)
        njev += 1
        _check_shape(g, (n,), "grad")
        H = hess(x)
        nhev += 1
        _check_shape(H, (n, n), "hess")

        bad = mon.nonfinite(k, gradient=g, hessian=H)
        if bad is not None:
            mon.record(
                k,
                fun=f,
                grad_norm=math.nan,
                newton_decrement=math.nan,
                step=step_prev,
                shift=math.nan,
            )
            return done(Status.NUMERICAL_ERROR, bad)
        gnorm = float(xp.linalg.vector_norm(g))

        d, lam2, tau = _newton_step(xp, H, g, shift=on_indefinite == "shift")
        if d is None:
            mon.record(
                k, fun=f, grad_norm=gnorm, newton_decrement=math.nan, step=step_prev, shift=math.nan
            )
            if on_indefinite == "stop":
                msg = (
                    f"newton: Hessian not positive definite at iteration {k} (Cholesky "
                    "failed); f is not strictly convex here. Use on_indefinite='shift' "
                    "to regularize the Newton system."
                )
            else:
                msg = (
                    f"newton: no positive definite shift H + tau*I found at iteration {k} "
                    f"({_SHIFT_TRIES} doublings); the Hessian is badly scaled or not finite."
                )
            return done(Status.STAGNATION, msg)
        lam = math.sqrt(lam2)
        mon.record(k, fun=f, grad_norm=gnorm, newton_decrement=lam, step=step_prev, shift=tau)

        if 0.5 * lam2 <= tol:
            return done(
                Status.CONVERGED,
                f"converged: Newton decrement lambda^2/2 = {0.5 * lam2:.3e} <= tol = {tol:g} "
                f"({k} iterations)",
            )
        if mon.stop_requested(x, f, k):
            return done(Status.CALLBACK)
        if k >= max_iter:
            return done(
                Status.MAX_ITER,
                f"maximum number of iterations reached ({k} iterations, "
                f"lambda^2/2 = {0.5 * lam2:.3e} > tol = {tol:g})",
            )

        # ---- step size ----------------------------------------------------------
        t = 1.0 / (1.0 + lam) if damping == "self_concordant" else 1.0
        x_new = x + t * d
        f_new = float(fun(x_new))
        nfev += 1
        if damping == "armijo":
            slope = -lam2  # g^T d
            n_back = 0
            while not (math.isfinite(f_new) and f_new <= f + c1 * t * slope):
                if n_back >= max_backtrack:
                    msg = (
                        f"newton: line search failed at iteration {k}: no sufficient "
                        f"decrease after {max_backtrack} step reductions (t = {t:.3e}, "
                        f"lambda^2/2 = {0.5 * lam2:.3e})"
                    )
                    if 0.5 * lam2 <= 1e3 * 2.2e-16 * max(1.0, abs(f)):
                        msg += (
                            "; the decrement is at the rounding level of f, so x is "
                            "optimal to machine precision (use a larger tol)"
                        )
                    return done(Status.STAGNATION, msg)
                t *= backtrack
                n_back += 1
                x_new = x + t * d
                f_new = float(fun(x_new))
                nfev += 1
        elif not math.isfinite(f_new):
            what = (
                "the pure Newton step left dom f"
                if damping is None
                else "f is not self-concordant here"
            )
            return done(
                Status.NUMERICAL_ERROR,
                f"newton: non-finite fun after the step of iteration {k} (t = {t:.3e}); "
                f"{what}. Use damping='armijo'.",
            )
        x, f = x_new, f_new
        step_prev = t
        k += 1


def _newton_step(xp: Any, H: Any, g: Any, *, shift: bool) -> tuple[Any, float, float]:
    """Newton direction ``d = -(H + tau I)^{-1} g``, ``lambda^2 = -g.d`` and ``tau``.

    ``tau = 0`` when the Cholesky factorization of ``H`` succeeds; otherwise (if
    ``shift``) the Nocedal-Wright Algorithm 3.3 shift. ``(None, nan, nan)`` on failure.
    """
    d, lam2 = _try_solve(xp, H, g)
    if d is not None:
        return d, lam2, 0.0
    if not shift:
        return None, math.nan, math.nan
    diag = xp.linalg.diagonal(H)
    scale = float(xp.max(xp.abs(diag)))
    beta = _SHIFT_BETA * scale if scale > 0 else _SHIFT_BETA
    dmin = float(xp.min(diag))
    tau = beta if dmin > 0 else beta - dmin
    eye = xp.eye(H.shape[0], dtype=H.dtype)
    for _ in range(_SHIFT_TRIES):
        d, lam2 = _try_solve(xp, H + tau * eye, g)
        if d is not None:
            return d, lam2, tau
        tau = max(2.0 * tau, beta)
    return None, math.nan, math.nan


def _try_solve(xp: Any, H: Any, g: Any) -> tuple[Any, float]:
    try:
        d = -solve(xp, H, g, assume_a="pos")
    except LinAlgError:
        return None, math.nan
    if d.dtype != g.dtype:
        d = xp.astype(d, g.dtype)
    lam2 = -float(xp.sum(g * d))
    # lambda^2 = g^T H^{-1} g >= 0 for a positive definite H; a negative or
    # non-finite value means the factorization did not see an SPD matrix.
    if not (math.isfinite(lam2) and lam2 >= 0.0):
        return None, math.nan
    return d, lam2


def _check_shape(a: Any, shape: tuple[int, ...], name: str) -> None:
    got = tuple(getattr(a, "shape", ()))
    if got != shape:
        raise ValueError(f"{name} must return an array of shape {shape}, got shape {got}")
