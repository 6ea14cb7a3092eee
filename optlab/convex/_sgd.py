r"""Stochastic gradient descent for finite sums, with the step-size schedules of the SGD theorems."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from optlab._backend import get_namespace
from optlab._validate import (
    check_array,
    check_callable,
    check_choice,
    check_finite_value,
    check_int,
    check_positive,
)
from optlab.result import Monitor, Result, Status

__all__ = ["sgd"]

_SCHEDULES = ("constant", "inverse_sqrt", "decreasing")
_AVERAGING = ("auto", "uniform", "step", "linear", None)
_AUTO_AVERAGING = {"constant": "uniform", "inverse_sqrt": "step", "decreasing": "linear"}
# Indices are drawn from the generator in blocks of this many iterations, independent of
# eval_every and max_iter, so that a seed fixes the whole trajectory.
_BLOCK = 256
# f(x_k) - f(x_0) > _BLOWUP * max(1, |f(x_0)|) at a checkpoint counts as divergence.
_BLOWUP = 1e10


def sgd(
    fun: Callable[[Any], Any],
    grad_i: Callable[[Any, Any], Any],
    x0: Any,
    *,
    n_samples: int,
    batch_size: int = 1,
    step: float | None = None,
    schedule: str = "constant",
    mu: float | None = None,
    L_max: float | None = None,
    max_iter: int = 1000,
    averaging: str | None = "auto",
    eval_every: int | None = None,
    rng: Any = None,
    tol: float | None = None,
    callback: Callable[[Result], Any] | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Minibatch stochastic gradient descent on a finite sum.

    Solves

    .. math:: \min_{x} f(x) = \frac{1}{n} \sum_{i=1}^{n} f_i(x)

    with the iteration

    .. math:: x_{k+1} = x_k - \gamma_k\, \frac{1}{b} \sum_{j=1}^{b} \nabla f_{i_{k,j}}(x_k),

    where the :math:`b` indices :math:`i_{k,j}` are drawn independently and uniformly
    from :math:`\{0, \dots, n-1\}` (with replacement) by ``rng``, so the minibatch
    gradient is an unbiased estimate of :math:`\nabla f(x_k)`. ``grad_i(x, idx)``
    returns that mean gradient for an integer index array ``idx`` (in the namespace of
    ``x``; on namespaces without integer-array indexing use ``xp.take(A, idx, axis=0)``).
    ``fun`` (the full objective, :math:`O(n)`) is evaluated only every ``eval_every``
    iterations.

    **Step-size schedules** (``schedule``), with ``step`` :math:`= \gamma`:

    - ``"constant"``: :math:`\gamma_k = \gamma`. Handbook [GG23]_, Sec. 5 (convex and
      strongly convex SGD with a constant step): for :math:`f_i` convex and
      :math:`L_{\max}`-smooth and small enough :math:`\gamma` (of order
      :math:`1/L_{\max}`), :math:`\mathbb{E} f(\bar x_k) - f^\star = O(1/(\gamma k)) +
      O(\gamma \sigma^\star)` for the uniform average :math:`\bar x_k`, with
      :math:`\sigma^\star = \mathbb{E}\|\nabla f_i(x^\star)\|^2`: fast decrease down to a
      noise floor proportional to :math:`\gamma`; linear convergence to a
      :math:`O(\gamma\sigma^\star/\mu)` ball when :math:`f` is :math:`\mu`-strongly
      convex.
    - ``"inverse_sqrt"``: :math:`\gamma_k = \gamma / \sqrt{k+1}` (convex case,
      [GG23]_ Sec. 5): the step-weighted average :math:`\bar x_k = \sum_t \gamma_t x_t
      / \sum_t \gamma_t` satisfies :math:`\mathbb{E} f(\bar x_k) - f^\star =
      O(\log k / \sqrt{k})` (:math:`O(1/\sqrt{k})` needs a horizon-dependent step).
    - ``"decreasing"`` (:math:`\mu`-strongly convex :math:`f`): the switching step of
      Gower et al. (2019), Theorem 3.2, reproduced in [GG23]_ Sec. 5 (theorem number
      there not checked in this implementation's sources), with
      :math:`\mathcal{K} = L_{\max}/\mu`:

      .. math:: \gamma_k = \frac{1}{2 L_{\max}} \ (k \le 4\lceil\mathcal{K}\rceil),
                \qquad \gamma_k = \frac{2k+1}{(k+1)^2 \mu} \ (k > 4\lceil\mathcal{K}\rceil),

      which guarantees, for :math:`k \ge 4\lceil\mathcal{K}\rceil`,

      .. math:: \mathbb{E}\|x_k - x^\star\|^2 \le \frac{8\sigma^2}{\mu^2 k}
                + \frac{16 \lceil\mathcal{K}\rceil^2}{e^2 k^2} \|x_0 - x^\star\|^2,

      an :math:`O(1/k)` rate for the **last iterate** (:math:`\sigma^2 =
      \mathbb{E}\|g(x^\star)\|^2` the minibatch gradient noise at the solution; the
      theorem's expected-smoothness constant is :math:`L_{\max}` for single-sample
      uniform sampling). ``step`` replaces :math:`1/(2L_{\max})` in the first phase
      when given (default :math:`1/(2L_{\max})`). Without ``L_max`` the switch happens
      where the two branches cross, i.e. :math:`\gamma_k = \min(\gamma, (2k+1)/((k+1)^2
      \mu))`.

    **Averages** (``averaging``): the solver keeps the running weighted average
    :math:`\bar x_k = \sum_{t=0}^{k} w_t x_t / \sum_{t=0}^{k} w_t` (the theorems' average
    :math:`\bar x^T` over :math:`x_0..x_{T-1}` is row :math:`T-1`) with

    - ``"uniform"``: :math:`w_t = 1`;
    - ``"step"``: :math:`w_t = \gamma_t` (the average of the decreasing-step convex
      theorem; equal to ``"uniform"`` for a constant step);
    - ``"linear"``: :math:`w_t = t + 1` (an :math:`O(1/k)` average for
      :math:`\gamma_t \propto 1/(\mu t)` in the strongly convex case, Lacoste-Julien,
      Schmidt & Bach 2012);
    - ``"auto"`` (default): the one the schedule's theorem uses: ``"uniform"`` for
      ``"constant"``, ``"step"`` for ``"inverse_sqrt"``, ``"linear"`` for
      ``"decreasing"`` (whose theorem bounds the last iterate, kept in ``x_last``);
    - ``None``: no averaging; ``x`` is the last iterate.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``: the full objective :math:`f` (used at checkpoints only).
    grad_i : callable
        ``grad_i(x, idx) -> array`` shaped like ``x``: the mean of
        :math:`\nabla f_i(x)` over the integer index array ``idx`` (repeats counted).
    x0 : array
        Starting point; its namespace and dtype are kept.
    n_samples : int
        Number :math:`n \ge 1` of terms of the sum.
    batch_size : int, default 1
        Minibatch size :math:`1 \le b \le n`.
    step : float, optional
        Base step :math:`\gamma > 0`. Required for ``"constant"`` and
        ``"inverse_sqrt"``; for ``"decreasing"`` defaults to :math:`1/(2L_{\max})`.
    schedule : {"constant", "inverse_sqrt", "decreasing"}, default "constant"
    mu : float, optional
        Strong convexity constant; required by ``"decreasing"``.
    L_max : float, optional
        :math:`\max_i` smoothness constant of the :math:`f_i` (fixes the switch point
        and the default first-phase step of ``"decreasing"``).
    max_iter : int, default 1000
        Number of stochastic steps.
    averaging : {"auto", "uniform", "step", "linear", None}, default "auto"
    eval_every : int, optional
        Checkpoint cadence (iterations) for ``fun``, the history, the callback, the
        divergence test and ``tol``; default one epoch, :math:`\lceil n/b \rceil`. The
        last iterate is always a checkpoint.
    rng : numpy.random.Generator, int or None
        Source of the indices (``numpy.random.default_rng(rng)``). A fixed seed fixes
        the trajectory, whatever ``eval_every`` and ``max_iter``.
    tol : float, optional
        If given, stop (``CONVERGED``) at a checkpoint where the returned iterate moved
        by at most ``tol * max(1, ||x||)`` since the previous checkpoint (a heuristic:
        SGD has no cheap optimality certificate). Default: run all ``max_iter`` steps.
    callback : callable, optional
        ``callback(intermediate_result)`` at checkpoints (``k = 0`` included), with
        ``x`` the iterate that
        would be returned (the average, or the last iterate without averaging);
        ``True`` stops the solver.
    verbose : int, default 0
        Logging level through ``logging.getLogger("optlab")``.
    record : bool, default True
        Record the history at checkpoints.

    Returns
    -------
    Result
        ``x`` (the average when ``averaging`` is not ``None``, else the last iterate),
        ``fun`` (:math:`f(x)`), ``x_last``, ``fun_last``, ``x_avg``, ``fun_avg``
        (``None`` without averaging), ``nit``, ``njev`` (number of individual gradients
        :math:`\nabla f_i` evaluated, :math:`b` per step), ``n_grad_calls`` (calls of
        ``grad_i``), ``nfev`` (calls of ``fun``), ``status``, ``message``. ``history``
        has one row per checkpoint (``iter`` says which iteration): ``fun``
        (:math:`f(x_k)`, last iterate), ``fun_avg`` (:math:`f(\bar x_k)`), ``step``
        (:math:`\gamma_{k-1}`, the step that produced :math:`x_k`; NaN at ``k = 0``) and
        ``n_grad`` (individual gradients used to reach :math:`x_k`).

        Without ``tol`` a run ends with ``Status.MAX_ITER`` (``success=False``): a
        fixed budget is not a convergence certificate. A non-finite iterate or objective
        (``NUMERICAL_ERROR``) or a blow-up of :math:`f` by a factor ``1e10``
        (``DIVERGED``) is detected at the next checkpoint; ``x``/``x_last``/``x_avg`` are
        then those of the last good checkpoint and the message names both iterations.

    Raises
    ------
    TypeError, ValueError
        Bad input: ``n_samples < 1``, ``batch_size`` outside ``[1, n_samples]``,
        non-positive ``step``/``mu``/``L_max``/``tol``, unknown ``schedule`` or
        ``averaging``, ``"decreasing"`` without ``mu``, a missing ``step``, ``mu >
        L_max``, ``x0`` or ``fun(x0)`` not finite, ``grad_i`` returning a wrong shape.

    References
    ----------
    .. [GG23] G. Garrigos, R. M. Gower. *Handbook of Convergence Theorems for
       (Stochastic) Gradient Methods*. arXiv:2301.11235, 2023. Sec. 5 (SGD).
    .. [GLQ19] R. M. Gower, N. Loizou, X. Qian, A. Sailanbayev, E. Shulgin,
       P. Richtárik. *SGD: General Analysis and Improved Rates*. ICML 2019.
       Theorem 3.2 (switching step size).
    .. [LSB12] S. Lacoste-Julien, M. Schmidt, F. Bach. *A simpler approach to
       obtaining an O(1/t) convergence rate for the projected stochastic subgradient
       method*. arXiv:1212.2002, 2012.

    Examples
    --------
    Least squares :math:`f(x) = \frac{1}{2n}\|Ax - y\|^2`, one row per sample. With
    consistent data (:math:`\sigma^\star = 0`) the last iterate of constant-step SGD
    converges linearly; the uniform average keeps an :math:`O(1/k)` transient:

    >>> import numpy as np
    >>> from optlab.convex import sgd
    >>> gen = np.random.default_rng(0)
    >>> A = gen.standard_normal((200, 3)); y = A @ np.array([1.0, -2.0, 0.5])
    >>> fun = lambda x: 0.5 * np.mean((A @ x - y) ** 2)
    >>> grad_i = lambda x, idx: A[idx].T @ (A[idx] @ x - y[idx]) / len(idx)
    >>> res = sgd(fun, grad_i, np.zeros(3), n_samples=200, step=0.05,
    ...           max_iter=2000, rng=0)
    >>> res.njev, res.history["iter"][:3], res.status
    (2000, array([  0, 200, 400]), 1)
    >>> bool(res.fun_last < 1e-12), bool(res.fun_avg < 1e-3)
    (True, True)
    """
    check_callable(fun, "fun")
    check_callable(grad_i, "grad_i")
    check_callable(callback, "callback", optional=True)
    x = check_array(x0, "x0")
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if batch_size > n_samples:
        raise ValueError(f"batch_size must be <= n_samples = {n_samples}, got {batch_size}")
    check_choice(schedule, "schedule", _SCHEDULES)
    step = check_positive(step, "step", optional=True)
    mu = check_positive(mu, "mu", optional=True)
    L_max = check_positive(L_max, "L_max", optional=True)
    if mu is not None and L_max is not None and mu > L_max:
        raise ValueError(f"mu must be <= L_max, got mu={mu!r} > L_max={L_max!r}")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    check_choice(averaging, "averaging", _AVERAGING)
    if averaging == "auto":
        averaging = _AUTO_AVERAGING[schedule]
    if eval_every is None:
        eval_every = -(-n_samples // batch_size)
    eval_every = check_int(eval_every, "eval_every", minimum=1)
    tol = check_positive(tol, "tol", optional=True)
    verbose = check_int(verbose, "verbose", minimum=0)
    gamma = _schedule(schedule, step, mu, L_max)
    gen = _generator(rng)

    xp = get_namespace(x)
    mon = Monitor("sgd", record=record, callback=callback, verbose=verbose)

    f0 = check_finite_value(fun(x), "fun(x0)")
    nfev = 1
    blowup = f0 + _BLOWUP * max(1.0, abs(f0))

    xbar = x if averaging is not None else None
    wsum = _weight(averaging, 0, gamma) if averaging is not None else 0.0
    mon.record(
        0, fun=f0, fun_avg=f0 if averaging is not None else math.nan, step=math.nan, n_grad=0
    )
    # last good checkpoint: (iteration, x, xbar, f(x), f(xbar))
    good = (0, x, xbar, f0, f0 if averaging is not None else None)
    reported_prev = x

    block = None
    j = _BLOCK
    k = 0
    status = Status.MAX_ITER
    message = None
    if mon.stop_requested(x, f0, 0):
        status = Status.CALLBACK
    while k < max_iter and status == Status.MAX_ITER:
        if j == _BLOCK:
            block = xp.asarray(gen.integers(0, n_samples, size=(_BLOCK, batch_size)))
            j = 0
        idx = block[j, :]
        j += 1
        g = grad_i(x, idx)
        if k == 0 and tuple(getattr(g, "shape", ())) != tuple(x.shape):
            raise ValueError(
                f"grad_i must return an array of shape {tuple(x.shape)}, "
                f"got shape {tuple(getattr(g, 'shape', ()))}"
            )
        g_k = gamma(k)
        x = x - g_k * g
        k += 1
        if averaging is not None:
            w = _weight(averaging, k, gamma)
            wsum += w
            xbar = xbar + (w / wsum) * (x - xbar)

        if k % eval_every != 0 and k != max_iter:
            continue
        # ---- checkpoint --------------------------------------------------------
        f_last = float(fun(x))
        nfev += 1
        f_avg = None
        if averaging is not None:
            f_avg = float(fun(xbar))
            nfev += 1
        bad = mon.nonfinite(k, iterate=x, fun=f_last, average=xbar, fun_avg=f_avg)
        if bad is not None or f_last > blowup:
            status = Status.NUMERICAL_ERROR if bad is not None else Status.DIVERGED
            what = (
                bad
                if bad is not None
                else (
                    f"sgd: objective blew up at iteration {k} (f = {f_last:.3e} > "
                    f"f(x0) + {_BLOWUP:g} max(1, |f(x0)|))"
                )
            )
            message = (
                f"{what} (checked every {eval_every} iterations; the step size is "
                f"probably too large); returning the iterate of iteration {good[0]}, "
                "the last finite checkpoint"
            )
            break
        mon.record(
            k,
            fun=f_last,
            fun_avg=f_avg if f_avg is not None else math.nan,
            step=g_k,
            n_grad=k * batch_size,
        )
        good = (k, x, xbar, f_last, f_avg)
        reported = xbar if averaging is not None else x
        f_rep = f_avg if averaging is not None else f_last
        if tol is not None:
            moved = float(xp.linalg.vector_norm(xp.reshape(reported - reported_prev, (-1,))))
            size = float(xp.linalg.vector_norm(xp.reshape(reported, (-1,))))
            if moved <= tol * max(1.0, size):
                status = Status.CONVERGED
                message = (
                    f"converged: the iterate moved by {moved:.3e} <= tol * max(1, ||x||) "
                    f"between checkpoints ({k} iterations)"
                )
                break
        reported_prev = reported
        if mon.stop_requested(reported, f_rep, k):
            status = Status.CALLBACK
            break

    if status == Status.MAX_ITER:
        message = f"maximum number of iterations reached ({k} iterations" + (
            ")" if tol is not None else "; tol=None: no stopping test)"
        )
    _, x_last, x_avg, f_last, f_avg = good
    x_out, f_out = (x_avg, f_avg) if averaging is not None else (x_last, f_last)
    return mon.finish(
        x=x_out,
        fun=f_out,
        nit=k,
        status=status,
        message=message,
        x_last=x_last,
        fun_last=f_last,
        x_avg=x_avg,
        fun_avg=f_avg,
        nfev=nfev,
        njev=k * batch_size,
        n_grad_calls=k,
    )


def _schedule(
    schedule: str, step: float | None, mu: float | None, L_max: float | None
) -> Callable[[int], float]:
    """The step size ``gamma(k)`` of iteration ``k = 0, 1, ...`` (validated options)."""
    if schedule in ("constant", "inverse_sqrt"):
        if step is None:
            raise ValueError(f"step is required for schedule={schedule!r}")
        if schedule == "constant":
            return lambda k: step
        return lambda k: step / math.sqrt(k + 1)
    if mu is None:
        raise ValueError("schedule='decreasing' needs the strong convexity constant mu")
    if step is None and L_max is None:
        raise ValueError("schedule='decreasing' needs step or L_max (step = 1/(2 L_max))")
    gamma0 = step if step is not None else 1.0 / (2.0 * L_max)

    def tail(k: int) -> float:
        return (2 * k + 1) / ((k + 1) ** 2 * mu)

    if L_max is not None:
        k_switch = 4 * math.ceil(L_max / mu)  # Gower et al. (2019), Theorem 3.2
        return lambda k: gamma0 if k <= k_switch else tail(k)
    return lambda k: min(gamma0, tail(k))


def _weight(averaging: str, k: int, gamma: Callable[[int], float]) -> float:
    if averaging == "uniform":
        return 1.0
    if averaging == "step":
        return gamma(k)
    return float(k + 1)  # "linear"


def _generator(rng: Any) -> np.random.Generator:
    if rng is None or isinstance(rng, np.random.Generator | np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer):
        raise TypeError(
            f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}"
        )
    if rng < 0:
        raise ValueError(f"rng seed must be >= 0, got {rng}")
    return np.random.default_rng(int(rng))
