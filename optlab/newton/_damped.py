r"""Damped Newton method with the near-optimal global O(k^-3) step-size rule (RN) and its
parameter-free variants GRLS and UN (Hanzely, Abdukhakimov & Takac, arXiv 2405.18926)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.linalg import LinAlgError  # scipy.linalg.LinAlgError is the same class

from optlab._backend import cholesky, get_namespace, solve_triangular
from optlab._validate import (
    check_array,
    check_callable,
    check_choice,
    check_finite_value,
    check_int,
    check_positive,
)
from optlab.newton._lazy_common import check_hessian
from optlab.result import Monitor, Result, Status

__all__ = ["damped_newton", "damped_newton_bound"]

_STEPSIZES = ("rn", "grls", "un")
# GRLS: f values are trusted to _ROUNDING * eps * |f| (below that, see _grls_search).
_ROUNDING = 8.0
# Golden-section ratio (3 - sqrt 5) / 2 for the GRLS refinement.
_GOLDEN = 0.5 * (3.0 - math.sqrt(5.0))


def damped_newton(
    fun: Callable[[Any], Any],
    grad: Callable[[Any], Any],
    hess: Callable[[Any], Any],
    x0: Any,
    *,
    stepsize: str = "rn",
    M: float | None = None,
    q: float = 4.0,
    tol: float = 1e-8,
    max_iter: int = 1000,
    rho: float = 2.0,
    theta0: float = 1e-2,
    max_backtrack: int = 60,
    grls_refine: int = 6,
    callback: Callable[[Result], Any] | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Damped Newton method with a global :math:`O(k^{-(q-1)})` rate, up to :math:`O(k^{-3})`.

    Solves

    .. math:: \min_{x \in \mathbb{R}^n} f(x),

    with :math:`f` convex, twice differentiable with a positive definite Hessian, from the
    oracles ``fun``, ``grad`` and ``hess``. The method is the one of Hanzely, Abdukhakimov
    & Takac [HAT24]_: Newton steps shortened by a step size :math:`\alpha_k \in (0, 1]`
    that is chosen in closed form (``"rn"``), by a 1-D line search (``"grls"``) or by
    backtracking (``"un"``).

    .. warning::
       **Source status.** The formulas below were recovered from two agreeing secondary
       sources, not from the paper's own text: a detailed third-party note on the paper
       ("note") and the five public ICLR 2026 reviews ("rev", OpenReview
       ``0eM74HjPQA``). They are **[still unverified]** against the paper. Each item
       names its source.

    **Setting** (note + rev). :math:`f` convex with bounded level sets (diameter
    :math:`D` in the local norm), and the :math:`p`-th derivative Hölder continuous in
    the *local* Hessian norm :math:`\|h\|_x = (h^\top \nabla^2 f(x) h)^{1/2}`:
    :math:`\|\nabla^p f(x) - \nabla^p f(y)\|_x \le L_{p,\nu} \|x - y\|_x^\nu`, with
    :math:`p \in \{2, 3\}`, :math:`\nu \in [0, 1]`, :math:`q = p + \nu \in [2, 4]` and
    :math:`M_q = L_{p,\nu}`. ``q = 4`` (Lipschitz third derivative) is the
    :math:`O(k^{-3})` case; ``q = 3`` (Lipschitz Hessian) gives :math:`O(k^{-2})`.
    Assumption 1 (a constant :math:`\gamma`) bounds the change of the Hessian along the
    Newton direction; it enters the theorems only, not the step.

    **Algorithm.** At :math:`x_k`, with :math:`g_k = \nabla f(x_k)` and
    :math:`H_k = \nabla^2 f(x_k) = L_k L_k^\top` (one Cholesky factorization per
    iteration, :func:`optlab._backend.cholesky`):

    1. Stop when :math:`\|g_k\|_2 \le` ``tol``.
    2. :math:`u_k = L_k^{-1} g_k`, the Newton direction
       :math:`n_k = H_k^{-1} g_k = L_k^{-\top} u_k` and the local dual norm of the
       gradient :math:`g_k^* = \|g_k\|^*_{x_k} = (g_k^\top H_k^{-1} g_k)^{1/2} =
       \|u_k\|_2` (the Newton decrement), both from the same factor (note).
    3. :math:`x_{k+1} = x_k - \alpha_k n_k` with :math:`\alpha_k = 1/(1 + \theta_k)`.
       This is the minimizer of the quadratic model plus
       :math:`\tfrac{\sigma}{2+\beta}\|y - x_k\|_{x_k}^{2+\beta}`: :math:`\alpha` is the
       root in :math:`(0, 1]` of :math:`1 - \alpha - \alpha^{1+\beta} \sigma
       (g_k^*)^\beta`, and :math:`\theta = \alpha^\beta \sigma (g_k^*)^\beta` turns it
       into :math:`\alpha = 1/(1+\theta)` (note). :math:`\theta_k` is chosen by
       ``stepsize``:

       - ``"rn"`` (root Newton, note; the ``q = 3`` case is checked by a reviewer):

         .. math:: \theta_k = (9 M_q)^{1/(q-1)} \, (g_k^*)^{(q-2)/(q-1)},

         closed form, no inner loop, needs ``M`` :math:`= M_q`.
       - ``"grls"`` (gradient-regularized line search, note + rev): :math:`\alpha_k`
         (approximately) minimizes

         .. math:: \varphi_k(\alpha) = \frac{f(y_\alpha) - f(x_k)}
                   {\big(\|\nabla f(y_\alpha)\|^*_{x_k}\big)^2},
                   \qquad y_\alpha = x_k - \alpha n_k, \quad \alpha \in (0, 1],

         where the dual norm uses the *old* factor :math:`L_k`
         (:math:`\|v\|^*_{x_k} = \|L_k^{-1} v\|_2`). No constant is needed; it adapts to
         the best :math:`q` (note). *This implementation* (the search is not specified
         in the sources): evaluate :math:`\varphi` at :math:`\alpha = 1, 1/2, 1/4, \dots`
         while it improves; a trial with :math:`f(y_\alpha) \ge f(x_k)` or a non-finite
         value counts as :math:`+\infty` (no gradient is evaluated there), and at most
         ``max_backtrack`` halvings are made. If :math:`\alpha = 1` is the best grid
         point it is taken; otherwise the bracket :math:`[\alpha^\circ/2,
         \min(1, 2\alpha^\circ)]` around the best grid point :math:`\alpha^\circ` is
         refined by ``grls_refine`` golden-section steps in :math:`\log\alpha`, and the
         best point evaluated is taken (its ``fun`` and ``grad`` are reused). Once the
         predicted decrease :math:`(g_k^*)^2/2` is below the rounding level
         :math:`8\epsilon|f(x_k)|` of ``fun``, function values cannot rank the trials;
         then :math:`\alpha_k = 1` is taken if it decreases :math:`\|\nabla
         f\|^*_{x_k}` (the limit of the rule at the optimum), else the solver stops.
       - ``"un"`` (backtracking on :math:`\theta`, note + rev): starting from
         :math:`\theta_k^{(0)}`, multiply :math:`\theta` by ``rho`` :math:`> 1` until the
         trial :math:`y = x_k - \alpha n_k`, :math:`\alpha = 1/(1+\theta)`, satisfies

         .. math:: \langle \nabla f(y), n_k \rangle \;\ge\;
                   \frac{(\|\nabla f(y)\|^*_{x_k})^2}{2 \alpha \theta}.

         By convexity this gives :math:`f(x_k) - f(y) \ge (\|\nabla f(y)\|^*_{x_k})^2 /
         (2\theta) \ge 0`. Each trial costs one gradient and one triangular solve; no
         function value is used. The sources leave the initial :math:`\theta`
         unspecified; *this implementation* starts at :math:`\theta_0^{(0)} =`
         ``theta0`` and warm-starts :math:`\theta_k^{(0)} = \theta_{k-1}/\rho`, the choice
         under which :math:`K` iterations use exactly :math:`2K - 1 + \log_\rho(\theta_{K-1}
         / \theta_0^{(0)})` trials (the :math:`2k + \log_\rho(\cdot)` count recorded in
         the notes). A trial with a non-finite gradient is rejected like a failed test.
         Since :math:`\theta` can fall by at most :math:`\rho` per iteration, the local
         phase is superlinear with ratios falling about :math:`\rho`-fold per iteration,
         slower than RN's.

    **Guarantees** (all **[still unverified]**).

    - *Theorem 4, global rate of RN* (note + rev): for ``q`` and :math:`M_q` as in the
      setting,

      .. math:: f(x_k) - f^\star \le 9 M_q D \Big(\frac{4 D (q-1)}{\gamma k}\Big)^{q-1}
                + g_0^* D\, e^{-k/4} = O\big(M_q D^q / k^{q-1}\big),

      i.e. :math:`O(k^{-3})` for ``q = 4`` (see :func:`damped_newton_bound`). A reviewer
      notes that ``q = 3`` gives only :math:`O(k^{-2})`, the rate of AICN.
    - *Theorem 3, local rate of RN* (rev): superlinear convergence, with the contraction
      factor :math:`(2/\gamma)(9 M_q)^{1/(q-1)}`. (Not from the sources: for ``q > 2``,
      :math:`1 - \alpha_k = \theta_k/(1+\theta_k) \propto (g_k^*)^{(q-2)/(q-1)} \to 0`,
      which suggests Q-order :math:`(2q-3)/(q-1)`, 5/3 for ``q = 4``; 1.69 was measured
      on :math:`\|\nabla f\|` for l2 logistic regression on breast cancer.)
    - *GRLS* achieves :math:`\min_q O(M_q D^q / k^{q-1})` without knowing any
      :math:`M_q`, and for small steps reduces to exact ("greedy Newton") line search
      (note). *UN* needs at most :math:`2k + \log_\rho(\cdot)` trials in total (note);
      a reviewer notes that its analysis still needs :math:`\gamma`.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float`` (or a 0-d array).
    grad : callable
        ``grad(x) -> (n,) array`` in the namespace of ``x``.
    hess : callable
        ``hess(x) -> (n, n) array``, symmetric positive definite, in the namespace of ``x``.
    x0 : (n,) array
        Real starting point with finite ``fun(x0)``; its namespace and dtype are kept.
    stepsize : {"rn", "grls", "un"}, default "rn"
        Step-size rule (see above). ``"rn"`` needs ``M``; ``"grls"`` and ``"un"`` need
        no constant.
    M : float, optional
        :math:`M_q > 0`, the Hölder constant of the setting, for ``stepsize="rn"``
        (required there, rejected by the other rules). Any upper bound is valid; a larger
        ``M`` gives shorter steps and a longer global phase.
    q : float, default 4.0
        Smoothness order :math:`q = p + \nu \in [2, 4]` used by ``"rn"``; 4 is the paper's
        :math:`O(k^{-3})` case.
    tol : float, default 1e-8
        Stop when :math:`\|\nabla f(x_k)\|_2 \le` ``tol``.
    max_iter : int, default 1000
        Maximum number of iterations (Newton steps).
    rho : float, default 2.0
        Backtracking factor :math:`\rho > 1` of ``"un"``.
    theta0 : float, default 1e-2
        Initial :math:`\theta` of ``"un"`` at :math:`k = 0` ("start small"; an
        implementation choice, see above).
    max_backtrack : int, default 60
        Most :math:`\theta` increases per iteration (``"un"``) or step halvings
        (``"grls"``); when exceeded the solver stops with ``Status.STAGNATION``.
    grls_refine : int, default 6
        Golden-section evaluations of the ``"grls"`` refinement (0: grid only).
    callback : callable, optional
        ``callback(intermediate_result)`` at every iterate that does not meet ``tol``
        (``x``, ``fun``, ``nit = k``; ``k = 0`` included); returning ``True`` stops.
    verbose : int, default 0
        Logging level through ``logging.getLogger("optlab")``.
    record : bool, default True
        Record the per-iteration history.

    Returns
    -------
    Result
        ``x``, ``fun``, ``jac`` (gradient at ``x``), ``nit``, ``success``, ``status``,
        ``message``; counts ``nfev``, ``njev``, ``nhev``, ``n_factorizations`` (Cholesky
        factorizations attempted) over every call, trials included. ``"rn"`` uses
        ``nfev = njev = nit + 1`` and ``nhev = n_factorizations = nit`` on a converged
        run (no Hessian at the final point); ``"un"`` one ``fun`` per iterate and one
        ``grad`` per trial; ``"grls"`` one ``fun`` per trial and one ``grad`` per trial
        that decreased ``f``. ``history`` rows ``k = 0..nit`` (iterate :math:`x_k`):
        ``fun``, ``grad_norm`` (:math:`\|g_k\|_2`), ``local_norm`` (:math:`g_k^*`),
        ``theta`` and ``alpha`` (:math:`\theta_k`, :math:`\alpha_k`: the step taken
        *from* :math:`x_k`; for ``"grls"`` :math:`\theta_k = 1/\alpha_k - 1`) and
        ``n_trials`` (trial points evaluated to choose it); the
        last three and ``local_norm`` are NaN on the final row, where no Hessian is used.

    Raises
    ------
    TypeError, ValueError
        Bad input, naming the argument: non-callable oracles; ``x0`` not real, not 1-D
        or not finite; ``fun(x0)`` not finite; ``stepsize`` unknown; ``M`` missing or
        ``<= 0`` for ``"rn"`` (or given to another rule); ``q`` outside ``[2, 4]``;
        ``rho <= 1``; a gradient or Hessian of the wrong shape; a Hessian that is not
        symmetric (:math:`\max|H - H^\top| > 10^{-8} \max|H|`).

    Notes
    -----
    Run-time trouble is reported in the Result with the iteration, the history kept:
    a non-finite gradient, Hessian or function value (``NUMERICAL_ERROR``; after a step,
    ``x`` is the last finite iterate); a Hessian whose Cholesky factorization fails,
    i.e. :math:`f` is not strictly convex there (``STAGNATION``: the method assumes
    convexity and does not shift the Hessian; use :func:`optlab.convex.newton` with
    ``on_indefinite="shift"`` for non-convex problems); a GRLS or UN search that finds no
    acceptable step in ``max_backtrack`` tries (``STAGNATION``, typically ``tol`` below
    the rounding level of the gradient).

    Backends: the iterates stay in the namespace of ``x0``; triangular solves use
    scipy/cupyx where available and ``xp.linalg.solve`` otherwise. Host syncs per
    iteration: ``fun``, two norms, the symmetry check and the finiteness checks.

    References
    ----------
    .. [HAT24] S. Hanzely, F. Abdukhakimov, M. Takac. *Damped Newton Method with
       Near-Optimal Global O(k^-3) Convergence Rate*. arXiv:2405.18926 (2024); v2 (Nov
       2024) and ICLR 2026: *Newton Method Revisited: Global Convergence Rates up to
       O(k^-3) for Stepsize Schedules and Linesearch Procedures*.
       https://arxiv.org/abs/2405.18926, https://openreview.net/forum?id=0eM74HjPQA
    .. [HDRT22] S. Hanzely, D. Kamzolov, D. Pasechnyuk, A. Gasnikov, P. Richtarik,
       M. Takac. *A Damped Newton Method Achieves Global O(1/k^2) and Local Quadratic
       Convergence Rate*. NeurIPS 2022 (AICN, the :math:`O(k^{-2})` predecessor).

    Examples
    --------
    :math:`f(x) = \sum_i x_i^4/4 + x_i^2/2` has :math:`\nabla^2 f \succeq I` and a
    third derivative that is 6-Lipschitz in the local norm, so ``q = 4``, ``M = 6``:

    >>> import numpy as np
    >>> from optlab.newton import damped_newton
    >>> f = lambda x: float(np.sum(x**4 / 4 + x**2 / 2))
    >>> g = lambda x: x**3 + x
    >>> h = lambda x: np.diag(3 * x**2 + 1)
    >>> res = damped_newton(f, g, h, np.array([3.0, -2.0]), M=6.0, tol=1e-12)
    >>> res.success, res.nit, (res.nfev, res.njev, res.nhev, res.n_factorizations)
    (True, 40, (41, 41, 40, 40))
    >>> bool(np.all(np.diff(res.history["fun"]) < 0)), float(res.history["alpha"][-2]) > 0.99
    (True, True)
    >>> np.testing.assert_allclose(res.x, 0.0, atol=1e-12)
    """
    check_callable(fun, "fun")
    check_callable(grad, "grad")
    check_callable(hess, "hess")
    check_callable(callback, "callback", optional=True)
    x = check_array(x0, "x0", ndim=1)
    xp = get_namespace(x)
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(f"x0 must be a real floating array, got dtype {x.dtype}")
    check_choice(stepsize, "stepsize", _STEPSIZES)
    if stepsize == "rn":
        if M is None:
            raise ValueError(
                "M (the smoothness constant M_q > 0) is required by stepsize='rn'; pass M, "
                "or use stepsize='grls' or 'un', which need no constant"
            )
        M = check_positive(M, "M")
    elif M is not None:
        raise ValueError(
            f"M is used only by stepsize='rn'; stepsize={stepsize!r} needs no constant "
            "(pass M=None)"
        )
    q = check_positive(q, "q")
    if not 2.0 <= q <= 4.0:
        raise ValueError(f"q must be in [2, 4] (q = p + nu), got {q!r}")
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    rho = check_positive(rho, "rho")
    if rho <= 1.0:
        raise ValueError(f"rho must be > 1, got {rho!r}")
    theta0 = check_positive(theta0, "theta0")
    max_backtrack = check_int(max_backtrack, "max_backtrack", minimum=1)
    grls_refine = check_int(grls_refine, "grls_refine", minimum=0)
    verbose = check_int(verbose, "verbose", minimum=0)

    n = x.shape[0]
    mon = Monitor("damped_newton", record=record, callback=callback, verbose=verbose)
    f = check_finite_value(fun(x), "fun(x0)")
    g = grad(x)
    _check_shape(g, (n,), "grad")
    counts = {"nfev": 1, "njev": 1, "nhev": 0, "n_factorizations": 0}
    k = 0
    theta_prev = math.nan  # the accepted theta of "un" at the previous iteration
    nan_row = {"local_norm": math.nan, "theta": math.nan, "alpha": math.nan, "n_trials": math.nan}

    def done(status: Status, message: str | None = None) -> Result:
        return mon.finish(x=x, fun=f, nit=k, status=status, message=message, jac=g, **counts)

    while True:
        bad = mon.nonfinite(k, gradient=g)
        if bad is not None:
            mon.record(k, fun=f, grad_norm=math.nan, **nan_row)
            return done(Status.NUMERICAL_ERROR, bad)
        gnorm = float(xp.linalg.vector_norm(g))
        if gnorm <= tol:
            mon.record(k, fun=f, grad_norm=gnorm, **nan_row)
            return done(
                Status.CONVERGED,
                f"converged: ||grad f|| = {gnorm:.3e} <= tol = {tol:g} ({k} iterations)",
            )
        if mon.stop_requested(x, f, k):
            mon.record(k, fun=f, grad_norm=gnorm, **nan_row)
            return done(Status.CALLBACK)
        if k >= max_iter:
            mon.record(k, fun=f, grad_norm=gnorm, **nan_row)
            return done(
                Status.MAX_ITER,
                f"maximum number of iterations reached ({k} iterations, "
                f"||grad f|| = {gnorm:.3e} > tol = {tol:g})",
            )

        # ---- Hessian, one Cholesky factorization, Newton direction and g_k* -------------
        H = hess(x)
        counts["nhev"] += 1
        check_hessian(xp, H, n, symmetry=True)
        bad = mon.nonfinite(k, hessian=H)
        if bad is not None:
            mon.record(k, fun=f, grad_norm=gnorm, **nan_row)
            return done(Status.NUMERICAL_ERROR, bad)
        counts["n_factorizations"] += 1
        try:
            L = cholesky(xp, H)
        except LinAlgError:
            mon.record(k, fun=f, grad_norm=gnorm, **nan_row)
            return done(
                Status.STAGNATION,
                f"damped_newton: Hessian not positive definite at iteration {k} (Cholesky "
                "failed); the method assumes f convex with a positive definite Hessian. For "
                "non-convex problems use optlab.convex.newton(on_indefinite='shift').",
            )
        u = solve_triangular(xp, L, g, trans=False)
        d = solve_triangular(xp, L, u, trans=True)  # n_k = H^{-1} g_k
        gstar2 = float(xp.sum(u * u))
        if not (math.isfinite(gstar2) and gstar2 > 0.0):
            mon.record(k, fun=f, grad_norm=gnorm, **nan_row)
            return done(
                Status.STAGNATION,
                f"damped_newton: the Newton system is numerically singular at iteration {k} "
                f"(g^T H^-1 g = {gstar2!r} with ||g|| = {gnorm:.3e}).",
            )
        gstar = math.sqrt(gstar2)

        # ---- step size ----------------------------------------------------------------
        if stepsize == "rn":
            theta = (9.0 * M) ** (1.0 / (q - 1.0)) * gstar ** ((q - 2.0) / (q - 1.0))
            alpha = 1.0 / (1.0 + theta)
            x_new = x - alpha * d
            f_new = float(fun(x_new))
            counts["nfev"] += 1
            g_new = None
            if math.isfinite(f_new):
                g_new = grad(x_new)
                counts["njev"] += 1
                _check_shape(g_new, (n,), "grad")
            trials, failure = 1, None
            if not math.isfinite(f_new):
                failure = f"non-finite fun ({f_new!r})"
            elif mon.nonfinite(k + 1, gradient=g_new) is not None:
                failure = "non-finite gradient"
            if failure is not None:
                mon.record(
                    k, fun=f, grad_norm=gnorm, local_norm=gstar, theta=theta, alpha=alpha,
                    n_trials=trials,
                )  # fmt: skip
                return done(
                    Status.NUMERICAL_ERROR,
                    f"damped_newton: {failure} at iteration {k + 1}, after the RN step from "
                    f"iteration {k} (alpha = {alpha:.3e}); x is the last finite iterate x_{k}. "
                    "Is M an upper bound of M_q and f convex with finite values everywhere?",
                )
        else:
            if stepsize == "un":
                # floor: theta_prev / rho must not underflow to 0 on very long runs
                theta_start = theta0 if k == 0 else max(theta_prev / rho, 1e-300)
                out = _un_search(xp, grad, x, d, L, theta_start, rho, max_backtrack, n, counts)
            else:
                out = _grls_search(
                    xp, fun, grad, x, f, d, L, gstar2, max_backtrack, grls_refine, n, counts
                )
            if isinstance(out, str):
                mon.record(k, fun=f, grad_norm=gnorm, local_norm=gstar, **_nan_step())
                return done(Status.STAGNATION, f"damped_newton: {out} at iteration {k}.")
            x_new, f_new, g_new, alpha, theta, trials = out
            if stepsize == "grls":
                theta = 1.0 / alpha - 1.0  # the theta that gives this alpha
            if f_new is None:  # "un" (and "grls" at the rounding level) uses no fun value
                f_new = float(fun(x_new))
                counts["nfev"] += 1
            if not math.isfinite(f_new):
                mon.record(
                    k, fun=f, grad_norm=gnorm, local_norm=gstar, theta=theta, alpha=alpha,
                    n_trials=trials,
                )  # fmt: skip
                return done(
                    Status.NUMERICAL_ERROR,
                    f"damped_newton: non-finite fun ({f_new!r}) at iteration {k + 1}, after "
                    f"the step from iteration {k}; x is the last finite iterate x_{k}.",
                )
            theta_prev = theta

        mon.record(
            k, fun=f, grad_norm=gnorm, local_norm=gstar, theta=theta, alpha=alpha,
            n_trials=trials,
        )  # fmt: skip
        x, f, g = x_new, f_new, g_new
        k += 1


def _nan_step() -> dict[str, float]:
    return {"theta": math.nan, "alpha": math.nan, "n_trials": math.nan}


def _un_search(xp, grad, x, d, L, theta, rho, max_backtrack, n, counts):
    """UN backtracking on theta. Returns (y, None, grad(y), alpha, theta, trials) or a
    failure message."""
    for j in range(max_backtrack + 1):
        alpha = 1.0 / (1.0 + theta)
        y = x - alpha * d
        gy = grad(y)
        counts["njev"] += 1
        _check_shape(gy, (n,), "grad")
        w = solve_triangular(xp, L, gy, trans=False)
        dual2 = float(xp.sum(w * w))
        inner = float(xp.sum(gy * d))
        # A non-finite trial fails the test (NaN comparisons are False).
        if math.isfinite(dual2) and inner >= dual2 / (2.0 * alpha * theta):
            return y, None, gy, alpha, theta, j + 1
        theta *= rho
    return (
        f"UN backtracking found no theta satisfying <grad f(y), n> >= ||grad f(y)||*^2 / "
        f"(2 alpha theta) after {max_backtrack} increases (theta = {theta / rho:.3e}); the "
        "gradient may be at its rounding level (use a larger tol)"
    )


def _grls_search(xp, fun, grad, x, f, d, L, gstar2, max_backtrack, n_refine, n, counts):
    """GRLS: approximately minimize phi(alpha) = (f(y) - f(x)) / (||grad f(y)||*_x)^2 over
    alpha in (0, 1]. Returns (y, f(y), grad(y), alpha, nan, trials) or a failure message."""
    evals: dict[float, tuple[float, Any]] = {}  # log2(alpha) -> (phi, (y, fy, gy))
    noise = _ROUNDING * float(xp.finfo(x.dtype).eps) * max(abs(f), 1e-300)

    def phi(t: float) -> float:
        if t in evals:
            return evals[t][0]
        alpha = 2.0**t
        y = x - alpha * d
        fy = float(fun(y))
        counts["nfev"] += 1
        if not (math.isfinite(fy) and fy < f):
            evals[t] = (math.inf, None)
            return math.inf
        gy = grad(y)
        counts["njev"] += 1
        _check_shape(gy, (n,), "grad")
        w = solve_triangular(xp, L, gy, trans=False)
        dual2 = float(xp.sum(w * w))
        if not math.isfinite(dual2):
            val = math.inf
        elif dual2 == 0.0:
            val = -math.inf  # grad f(y) = 0: y is a minimizer
        else:
            val = (fy - f) / dual2
        evals[t] = (val, (y, fy, gy))
        return val

    if 0.5 * gstar2 <= noise:
        # f cannot rank the trials: the predicted decrease g*^2/2 is below the rounding level
        # of f. Take the full step (the limit of GRLS at the optimum) if it decreases the
        # local dual gradient norm; otherwise there is nothing left to gain.
        y = x - d
        gy = grad(y)
        counts["njev"] += 1
        _check_shape(gy, (n,), "grad")
        w = solve_triangular(xp, L, gy, trans=False)
        dual2 = float(xp.sum(w * w))
        if math.isfinite(dual2) and dual2 < gstar2:
            return y, None, gy, 1.0, math.nan, 1
        return (
            f"GRLS stopped at the rounding level of f: the predicted decrease g*^2/2 = "
            f"{0.5 * gstar2:.3e} is below {noise:.3e} and the full Newton step does not "
            "decrease the local gradient norm (use a larger tol)"
        )
    # grid alpha = 1, 1/2, 1/4, ... while phi improves
    best_t, best_val = 0.0, phi(0.0)
    t = 0.0
    for _ in range(max_backtrack):
        if best_val == -math.inf:
            break
        t -= 1.0
        val = phi(t)
        if val < best_val:
            best_t, best_val = t, val
        elif math.isfinite(best_val):
            break  # phi stopped improving after a decrease was found
    if not best_val < math.inf:
        return (
            f"GRLS found no decrease of f along the Newton direction down to alpha = "
            f"2^-{max_backtrack}; the iterate may be optimal to rounding (use a larger tol)"
        )
    # golden-section refinement of the bracket [best_t - 1, min(0, best_t + 1)] in log2(alpha)
    if best_t < 0.0 and math.isfinite(best_val):
        a, b, c = best_t - 1.0, best_t, min(0.0, best_t + 1.0)
        fb = best_val
        for _ in range(n_refine):
            t = b + _GOLDEN * (c - b) if (c - b) > (b - a) else b - _GOLDEN * (b - a)
            ft = phi(t)
            if ft < fb:
                if t > b:
                    a, b = b, t
                else:
                    c, b = b, t
                fb = ft
            elif t > b:
                c = t
            else:
                a = t
        best_t = min(evals, key=lambda s: evals[s][0])
    y, fy, gy = evals[best_t][1]
    return y, fy, gy, 2.0**best_t, math.nan, len(evals)


def _check_shape(a: Any, shape: tuple[int, ...], name: str) -> None:
    got = tuple(getattr(a, "shape", ()))
    if got != shape:
        raise ValueError(f"{name} must return an array of shape {shape}, got shape {got}")


def damped_newton_bound(k: Any, *, M: float, q: float, D: float, g0: float, gamma: float) -> Any:
    r"""Theorem 4 of [HAT24]_ (global rate of the RN step size), **[still unverified]**.

    .. math:: f(x_k) - f^\star \le 9 M_q D \Big(\frac{4 D (q-1)}{\gamma k}\Big)^{q-1}
              + g_0^* D\, e^{-k/4},

    as recovered from a third-party note and the public ICLR 2026 reviews (they agree;
    the paper's text was not read). :math:`D` is the diameter of the initial level set in
    the local norm, :math:`g_0^*` the local dual gradient norm at :math:`x_0`
    (``history["local_norm"][0]``), :math:`\gamma` the constant of the paper's
    Assumption 1.

    Parameters
    ----------
    k : int or array of int
        Iteration counts, ``>= 1``.
    M, q, D, g0, gamma : float
        :math:`M_q > 0`, :math:`q \in [2, 4]`, :math:`D > 0`, :math:`g_0^* \ge 0`,
        :math:`\gamma > 0`.

    Returns
    -------
    float or numpy.ndarray
        The bound at each ``k``.

    Examples
    --------
    >>> b = damped_newton_bound([10, 20], M=1.0, q=4.0, D=1.0, g0=0.0, gamma=1.0)
    >>> round(float(b[0] / b[1]), 6)  # O(k^-3): doubling k divides the bound by 8
    8.0
    """
    M = check_positive(M, "M")
    q = check_positive(q, "q")
    if not 2.0 <= q <= 4.0:
        raise ValueError(f"q must be in [2, 4], got {q!r}")
    D = check_positive(D, "D")
    gamma = check_positive(gamma, "gamma")
    if not (isinstance(g0, int | float) and math.isfinite(g0) and g0 >= 0):
        raise ValueError(f"g0 must be a finite number >= 0, got {g0!r}")
    kk = np.asarray(k, dtype=np.float64)
    if np.any(~np.isfinite(kk)) or np.any(kk < 1):
        raise ValueError("k must be finite and >= 1")
    out = 9.0 * M * D * (4.0 * D * (q - 1.0) / (gamma * kk)) ** (q - 1.0) + g0 * D * np.exp(
        -kk / 4.0
    )
    return float(out) if out.ndim == 0 else out
