r"""Cubic Newton with lazy Hessians (Doikov, Chayti & Jaggi, ICML 2023, Algorithm 1)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from optlab._backend import device, norm, to_numpy
from optlab.result import Result, Status

from ._lazy_common import StepOut, cubic_step_eig, run_lazy, validate_options

__all__ = ["lazy_cubic_newton"]

_EPS = float(np.finfo(np.float64).eps)
# The adaptive test f(x+) <= f(x) + model(h) compares function values; when the predicted
# decrease -model(h) is below _F_ROUND * eps * max(|f(x)|, |f(x+)|, |f(x0)|), f carries no
# information at that scale and the trial is judged by ||grad f(x+)|| <= ||grad f(x)||.
_F_ROUND = 64.0


def lazy_cubic_newton(
    fun: Callable[[Any], Any],
    grad: Callable[[Any], Any],
    hess: Callable[[Any], Any],
    x0: Any,
    *,
    m: int | None = None,
    M: float | None = None,
    tol: float = 1e-8,
    max_iter: int = 1000,
    M0: float = 1.0,
    M_min: float = 1e-5,
    max_backtrack: int = 40,
    grad_cost: float | None = None,
    callback: Callable[[Result], Any] | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Cubic-regularized Newton method with lazy Hessians, for non-convex smooth ``f``.

    Solves :math:`\min_{x \in \mathbb{R}^d} f(x)` for twice differentiable (possibly
    non-convex) :math:`f` with a Lipschitz Hessian, from the oracles ``fun``, ``grad``
    and ``hess``, and aims at second-order stationary points.

    **Algorithm** (Doikov, Chayti & Jaggi 2023, Algorithm 1). The Hessian is computed
    only at the snapshot iterations :math:`\pi(t) = m\lfloor t/m\rfloor`; the gradient
    is fresh at every step:

    .. math:: x_{t+1} = \arg\min_y\ \langle g_t, y - x_t\rangle
       + \tfrac12\langle H_{\pi(t)}(y - x_t), y - x_t\rangle + \tfrac M6\|y - x_t\|^3,
       \qquad g_t = \nabla f(x_t),\ H_{\pi(t)} = \nabla^2 f(x_{\pi(t)}).

    ``m = 1`` is the classical cubic Newton method of Nesterov & Polyak (2006); ``m = d``
    (the default) is the frequency the paper proves optimal for the total arithmetic
    cost.

    **Implementation.** At each snapshot: :math:`H = Q\operatorname{diag}(\Lambda)Q^\top`
    by ``eigh`` (:math:`O(d^3)`, once per ``m`` steps). At each step:
    :math:`\tilde g = Q^\top g_t` (one matrix-vector product); the global minimizer of
    the model is :math:`h = Q c`, :math:`c = -\tilde g/(\Lambda + \sigma)` with
    :math:`\sigma = M r/2`, :math:`r = \|h\|`, :math:`\Lambda + \sigma \ge 0`, where
    :math:`r` solves the scalar equation
    :math:`\|(\Lambda + Mr/2)^{-1}\tilde g\| = r` on
    :math:`r \ge \max(0, -2\lambda_{\min}/M)` by a safeguarded Newton iteration
    (:math:`O(d)` each, typically under ten) followed by a second matrix-vector
    product: :math:`O(d^2)` per step, no :math:`O(d^3)` work. Indefinite :math:`H` is
    handled exactly, including the *hard case* (:math:`\tilde g` with no component on
    the eigenvectors of :math:`\lambda_{\min} < 0`): the step then takes
    :math:`\sigma = -\lambda_{\min}` and adds the lowest eigenvector to reach
    :math:`\|h\| = r`; see :func:`optlab.newton._lazy_common.cubic_step_eig`.

    **Adaptive M** (``M=None``; a stand-in for the paper's Algorithm 3, whose exact
    acceptance test was not recovered). The scheme of the same author's cubic Newton
    code (``doikov/super-newton``, ``methods.py::cubic_newton``): at each step try the
    current :math:`M`; accept if :math:`f(x_t + h) \le f(x_t) + m_M(h)`, the value of the
    lazy model; otherwise :math:`M \leftarrow 2M` and recompute the step (:math:`O(d^2)`:
    the factorization is reused); after acceptance :math:`M \leftarrow \max(M/2,`
    ``M_min``:math:`)` for the next step. At most ``max_backtrack`` tries per step. No
    knowledge of the Lipschitz constant :math:`L` is needed. Rounding safeguard (ours):
    when the predicted decrease :math:`-m_M(h)` is below
    :math:`64\,\epsilon\max(|f(x_t)|, |f(x_t+h)|, |f(x_0)|)`, function values cannot
    decide, and the trial is accepted iff :math:`\|\nabla f(x_t+h)\| \le \|\nabla
    f(x_t)\|` (that gradient is then reused). By the lazy model's error
    bound the test passes once :math:`M \gtrsim L(1 + 3\|x_t - x_{\pi(t)}\|/\|h\|)`, in
    line with the paper's :math:`M \propto mL`. With a fixed ``M`` no function value is
    needed by the method.

    **Guarantees** (Doikov, Chayti & Jaggi 2023; statements as in the abstract; the
    constants are *unverified*).

    - *Non-convex*: with :math:`M \ge c\, m L` (:math:`L` the Lipschitz constant of
      :math:`\nabla^2 f`; the form :math:`M \propto mL` is from the notes, the constant
      :math:`c` was not recovered (unverified)), the method reaches a point with
      :math:`\|\nabla f\| \le \varepsilon` and
      :math:`\lambda_{\min}(\nabla^2 f) \ge -O(\sqrt{M\varepsilon})` within
      :math:`O(\sqrt{m L}\,(f(x_0) - f^\star)/\varepsilon^{3/2})` iterations
      (unverified: derived in the notes, consistent with the abstract), i.e. a factor
      :math:`\sqrt m` more iterations than cubic Newton, with :math:`m` times fewer
      Hessians.
    - *Arithmetic complexity* (abstract): in the cost model of ``Result.cost`` a phase
      of :math:`m` steps costs :math:`\text{HessCost} + d^3 + m(\text{GradCost} + d^2)`,
      so the total is :math:`\propto (\text{GradCost} + d^2)(d/\sqrt m + \sqrt m)`,
      minimized at **m = d**, which improves on :math:`m = 1` by a factor
      :math:`\sqrt d`.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float`` (or 0-d array).
    grad : callable
        ``grad(x) -> (d,) array`` in the namespace of ``x``.
    hess : callable
        ``hess(x) -> (d, d)`` symmetric array in the namespace of ``x`` (checked at the
        first snapshot: :math:`\max|H - H^\top| \le 10^{-8}\max|H|`).
    x0 : (d,) array
        Starting point with finite ``fun(x0)``; its namespace and dtype are kept.
    m : int, optional
        Hessian update period (``m >= 1``); default ``d``. ``m = 1``: classical cubic
        Newton.
    M : float, optional
        Cubic regularization parameter :math:`M > 0`, fixed. ``None`` (default): the
        adaptive search above.
    tol : float, default 1e-8
        Stop when :math:`\|\nabla f(x_t)\|_2 \le` ``tol`` (a first-order test: a start
        exactly at a saddle point stops there).
    max_iter : int, default 1000
        Maximum number of steps.
    M0 : float, default 1.0
        Initial :math:`M` of the adaptive search (super-newton's ``H_0 = 1``).
    M_min : float, default 1e-5
        Lower bound of the adaptive :math:`M` (super-newton's ``H_min``).
    max_backtrack : int, default 40
        Most trials of :math:`M` per step (super-newton's 40); exceeding it stops the
        run with ``Status.STAGNATION``.
    grad_cost : float, optional
        Cost of one gradient in the arithmetic cost model (default :math:`d^2`); the
        Hessian costs :math:`d\,` ``grad_cost``. See ``Result.cost``.
    callback : callable, optional
        ``callback(intermediate_result)`` at every iterate that does not meet ``tol``;
        returning ``True`` stops the solver.
    verbose : int, default 0
        Logging level through ``logging.getLogger("optlab")``.
    record : bool, default True
        Record the per-iteration history (with a fixed ``M``, ``fun`` is then called at
        every iterate only for the history).

    Returns
    -------
    Result
        ``x``, ``fun``, ``jac``, ``nit``, ``success``, ``status``, ``message``; counts
        ``nfev`` (all calls of ``fun``), ``njev``, ``nhev``, ``n_factorizations``
        (``eigh`` calls), ``n_solves`` (:math:`O(d^2)` step computations, rejected
        trials included); ``cost``, the arithmetic cost
        :math:`\text{GradCost}(\#\text{grad} + \#\text{fun}_\text{alg}) + d\,
        \text{GradCost}\,\#\text{hess} + d^3\#\text{eigh} + d^2\#\text{solves}` (only the
        function values the adaptive test needs are counted); ``M`` (the current
        :math:`M`) and ``m``. ``history`` rows ``k = 0..nit`` for the iterate
        :math:`x_k`: ``fun``, ``grad_norm``, ``M`` and ``lam`` (:math:`M` and the shift
        :math:`\sigma = M\|h\|/2` of the step that produced :math:`x_k`; NaN at
        ``k = 0``), ``trials`` (tries of that step), ``snapshot`` (1.0 where the
        Hessian was computed at :math:`x_k`) and ``cost`` (cumulative, up to and
        including the gradient and any snapshot at :math:`x_k`). When the run stops by
        ``tol`` after ``nit`` steps, ``nhev == ceil(nit / m)``.

    Raises
    ------
    TypeError, ValueError
        Bad input: non-callable oracles; ``x0`` not 1-D or with NaN/inf; ``fun(x0)``
        not finite; ``m`` not a positive integer; ``M``, ``tol``, ``M0``, ``M_min``,
        ``grad_cost`` not positive; ``grad``/``hess`` returning the wrong shape or a
        non-symmetric Hessian.

    Notes
    -----
    Run-time trouble is reported in the Result with the history kept: a non-finite
    gradient, Hessian or function value (``NUMERICAL_ERROR``), a failed ``eigh``
    (``NUMERICAL_ERROR``), a root search that does not converge or an adaptive search
    that exceeds ``max_backtrack`` (``STAGNATION``). In the adaptive search a trial
    point with a non-finite ``fun`` counts as a rejection.

    Backends: the iterates, gradients, ``Q`` and the matrix-vector products stay in the
    namespace of ``x0`` (``eigh`` through :func:`optlab._backend.eigh`). The scalar root
    search runs on the host in float64 on :math:`\tilde g` and :math:`\Lambda`: an
    :math:`O(d)` transfer per step (and per snapshot), plus :math:`\|g\|` and, in the
    adaptive search, :math:`f(x_+)`. Only the NumPy path was timed.

    References
    ----------
    .. [DCJ23] N. Doikov, E. M. Chayti, M. Jaggi. Second-order optimization with lazy
       Hessians. ICML 2023, PMLR 202:8138-8161. arXiv:2212.00781. Algorithm 1 (lazy
       cubic Newton), Algorithm 3 (its adaptive version).
    .. [NP06] Yu. Nesterov, B. T. Polyak. Cubic regularization of Newton method and its
       global performance. Math. Program. 108:177-205, 2006. Sec. 5 (the subproblem).
    .. [CGT11] C. Cartis, N. I. M. Gould, Ph. L. Toint. Adaptive cubic regularisation
       methods for unconstrained optimization, Part I. Math. Program. 127:245-295, 2011.
       Thm 3.1 and Sec. 6.1 (secular equation).
    .. [MS83] J. J. Moré, D. C. Sorensen. Computing a trust region step. SIAM J. Sci.
       Stat. Comput. 4(3):553-572, 1983.
    .. [DN] N. Doikov. ``github.com/doikov/super-newton``, ``methods.py``
       (``cubic_newton``: the adaptive search used here).

    Examples
    --------
    A non-convex function with a saddle at the origin and minima at
    :math:`(0, \pm\sqrt 2)`; started next to the saddle, the method escapes along the
    negative curvature:

    >>> import numpy as np
    >>> from optlab.newton import lazy_cubic_newton
    >>> fun = lambda z: z[0] ** 2 - z[1] ** 2 + z[1] ** 4 / 4
    >>> grad = lambda z: np.array([2 * z[0], -2 * z[1] + z[1] ** 3])
    >>> hess = lambda z: np.diag([2.0, -2.0 + 3 * z[1] ** 2])
    >>> res = lazy_cubic_newton(fun, grad, hess, np.array([1e-3, 1e-6]), m=2)
    >>> res.success, bool(np.allclose(abs(res.x), [0.0, np.sqrt(2)]))
    (True, True)
    >>> res.nhev == -(-res.nit // 2)
    True
    """
    opts = validate_options(
        fun,
        grad,
        hess,
        x0,
        m=m,
        M=M,
        tol=tol,
        max_iter=max_iter,
        M0=M0,
        M_min=M_min,
        max_backtrack=max_backtrack,
        grad_cost=grad_cost,
        callback=callback,
        verbose=verbose,
    )
    xp = opts.xp
    adaptive = opts.M is None
    dtype = opts.x.dtype
    dev = device(opts.x)

    def step(k, x, f, g, gnorm, snap, state, orc) -> StepOut:
        gt = to_numpy(g @ snap.Q)
        gt = np.asarray(gt, dtype=np.float64)
        Mk = state["M"]
        state.setdefault("f0", abs(f) if f is not None else 0.0)
        for trial in range(1, opts.max_backtrack + 1):
            sol = cubic_step_eig(snap.lam_host, gt, Mk, sigma0=state.get("sigma"))
            if not sol.ok:
                return StepOut(
                    status=Status.STAGNATION,
                    message=(
                        f"lazy_cubic_newton: the cubic subproblem root search did not "
                        f"converge at iteration {k} (M = {Mk:.3e}, sigma = {sol.sigma:.3e})"
                    ),
                )
            orc.cnt.n_solves += 1
            h = snap.Q @ xp.asarray(sol.c, dtype=dtype, device=dev)
            x_new = x + h
            if not adaptive:
                state["sigma"] = sol.sigma
                return StepOut(x=x_new, M=Mk, lam=sol.sigma, trials=1)
            f_new = orc.fun(x_new, alg=True)
            g_new = None
            accept = math.isfinite(f_new) and f_new <= f + sol.model
            if not accept and math.isfinite(f_new):
                f_scale = max(abs(f), abs(f_new), state["f0"])
                if -sol.model <= _F_ROUND * _EPS * f_scale:  # decrease below rounding of f
                    g_new = orc.grad(x_new)
                    accept = float(norm(xp, g_new)) <= gnorm
            if accept:
                state["M"] = max(0.5 * Mk, opts.M_min)
                state["sigma"] = sol.sigma
                return StepOut(x=x_new, f=f_new, g=g_new, M=Mk, lam=sol.sigma, trials=trial)
            Mk *= 2.0
            state["M"] = Mk
        return StepOut(
            status=Status.STAGNATION,
            message=(
                f"lazy_cubic_newton: adaptive search on M failed at iteration {k}: no "
                f"decrease f(x+) <= f(x) + model after {opts.max_backtrack} tries "
                f"(M = {Mk:.3e}, ||grad|| = {gnorm:.3e})"
            ),
        )

    return run_lazy(
        "lazy_cubic_newton",
        fun,
        grad,
        hess,
        opts,
        step,
        need_fun=adaptive,
        require_psd=False,
        callback=callback,
        verbose=verbose,
        record=record,
    )
