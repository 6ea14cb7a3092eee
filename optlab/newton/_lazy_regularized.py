r"""Gradient-regularized Newton with lazy Hessians (Doikov, Chayti & Jaggi, ICML 2023, Algorithm 2)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from optlab._backend import vdot
from optlab._validate import check_positive
from optlab.result import Result, Status

from ._lazy_common import StepOut, run_lazy, validate_options

__all__ = ["lazy_regularized_newton"]


def lazy_regularized_newton(
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
    M_decrease: float = 0.5,
    grad_cost: float | None = None,
    callback: Callable[[Result], Any] | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Gradient-regularized Newton method with lazy Hessians, for convex smooth ``f``.

    Solves :math:`\min_{x \in \mathbb{R}^d} f(x)` for convex, twice differentiable
    :math:`f` with a Lipschitz Hessian, from the oracles ``fun``, ``grad`` and ``hess``.

    **Algorithm** (Doikov, Chayti & Jaggi 2023, Algorithm 2). With the snapshot index
    :math:`\pi(t) = m\lfloor t/m\rfloor` (Hessian every ``m`` steps, fresh gradient every
    step):

    .. math:: x_{t+1} = x_t - \big(\nabla^2 f(x_{\pi(t)}) + \lambda_t I\big)^{-1}
       \nabla f(x_t), \qquad \lambda_t = \sqrt{M\,\|\nabla f(x_t)\|}.

    ``m = 1`` is the gradient-regularized Newton method (Mishchenko 2023; Doikov &
    Nesterov 2024); ``m = d`` is the default (the paper's optimal frequency).

    **Implementation.** At each snapshot :math:`H = Q\operatorname{diag}(\Lambda)Q^\top`
    by ``eigh`` (:math:`O(d^3)`); each step is
    :math:`h = -Q\,\operatorname{diag}(1/(\Lambda + \lambda_t))\,Q^\top g_t`: two
    matrix-vector products, :math:`O(d^2)`, and only :math:`\|g_t\|` is moved to the
    host. Eigenvalues negative at rounding level (:math:`\ge -64\,\epsilon\, d
    \max|\Lambda|`) are clipped to 0; a clearly indefinite snapshot stops the run
    (``STAGNATION``: use :func:`optlab.newton.lazy_cubic_newton` for non-convex ``f``).

    **Adaptive M** (``M=None``; a documented stand-in, the paper's own test for this
    method was not recovered). The acceptance test of the same author's super-universal
    Newton code (``doikov/super-newton``, ``methods.py::super_newton``): with
    :math:`g_+ = \nabla f(x_t + h)`, accept when

    .. math:: \langle g_+, -h\rangle \ge \|g_+\|^2 / (4\lambda_t),

    then :math:`M \leftarrow \max(\delta M,` ``M_min``:math:`)` for the next step with
    :math:`\delta` = ``M_decrease``; otherwise :math:`M \leftarrow 4M` and recompute the
    step (:math:`O(d^2)`, the factorization is reused); at most ``max_backtrack`` tries
    (super-newton's 40, ``H_0 = 1``, ``H_min = 1e-5``). super-newton decreases by
    :math:`\delta = 1/4`; the default here is :math:`1/2`: with :math:`\delta = 1/4` about one
    trial in two was rejected on l2-logistic regression (each rejection costs a gradient),
    with :math:`1/2` about one in three, which saved 20-30% of the gradients at the same
    number of Hessians (mushrooms and synthetic ``d = 500``; ``benchmarks/bench_newton.py``). A trial whose gradient already meets ``tol`` is accepted; a
    trial with a non-finite gradient is rejected. The accepted trial's gradient is the
    next iterate's, so the search costs one gradient per try and no function values. As
    :math:`M \to \infty` the step tends to :math:`-g_t/\lambda_t` and the test passes,
    so the search terminates without knowing :math:`L`.

    **Approximate Hessians.** ``hess`` may return any symmetric positive semidefinite
    approximation :math:`B(x)` of the Hessian (Gauss-Newton, Fisher, a lagged or
    low-precision Hessian): the step is then
    :math:`x_+ = x - (B(x_{\pi(t)}) + \lambda_t I)^{-1}\nabla f(x)`. With ``m = 1`` this
    is the gradient-regularized Newton step with approximate Hessians analysed by
    Semenov, Jaggi & Doikov (2025), who prove a global linear rate on logistic and
    softmax regression with such approximations; their regularization and adaptive
    test differ in detail (:math:`\lambda_k = \|g_k\|/\gamma_k`, accepted when
    :math:`f(x_k) - f(x_+) \ge \|g_+\|^2/(8\lambda_k)`, per their code
    ``epfml/grad-norm-smooth``), so their constants do not transfer as they are. For an
    upper approximation :math:`B \succeq \nabla^2 f` (e.g. :math:`A^\top A/(4n) +
    \mu I` for :math:`\mu`-regularized logistic regression) the local step is a
    preconditioned gradient step whose iteration matrix :math:`I - B^{-1}\nabla^2 f`
    has spectrum in :math:`[0, 1)`: linear convergence.

    **Guarantees** (Doikov, Chayti & Jaggi 2023; from the abstract; exact statements and
    constants unverified). For convex :math:`f` with an :math:`L`-Lipschitz Hessian and
    :math:`M` of the order of :math:`mL` (unverified): global convergence in function
    value, and **local superlinear convergence** (abstract; the local rate of the lazy
    method is superlinear across phases, linear within a phase with a factor that
    shrinks as the snapshot approaches :math:`x^\star`). The arithmetic-cost analysis
    (abstract): the total cost is minimized at **m = d**, a factor :math:`\sqrt d`
    better than :math:`m = 1`; cost model as in
    :func:`optlab.newton.lazy_cubic_newton`. For ``m = 1`` and :math:`M \ge L` the
    method has the global rate :math:`f(x_k) - f^\star = O(L D^3/k^2)`, :math:`D` the
    diameter of the initial sublevel set (Mishchenko 2023; Doikov & Nesterov 2024;
    the exact constant and condition on :math:`M` were not re-checked here).

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``. Not needed by the method: called only for the history
        and callback (and once for ``Result.fun``); not counted in ``cost``.
    grad : callable
        ``grad(x) -> (d,) array`` in the namespace of ``x``.
    hess : callable
        ``hess(x) -> (d, d)`` symmetric positive semidefinite array (exact Hessian or an
        approximation, see above); symmetry checked at the first snapshot.
    x0 : (d,) array
        Starting point with finite ``fun(x0)``; its namespace and dtype are kept.
    m : int, optional
        Hessian update period (``m >= 1``); default ``d``.
    M : float, optional
        Regularization parameter :math:`M > 0` in :math:`\lambda_t = \sqrt{M\|g_t\|}`,
        fixed. ``None`` (default): the adaptive search above.
    tol : float, default 1e-8
        Stop when :math:`\|\nabla f(x_t)\|_2 \le` ``tol``.
    max_iter : int, default 1000
        Maximum number of steps.
    M0 : float, default 1.0
        Initial :math:`M` of the adaptive search.
    M_min : float, default 1e-5
        Lower bound of the adaptive :math:`M`.
    max_backtrack : int, default 40
        Most trials of :math:`M` per step; exceeding it stops with ``STAGNATION``.
    M_decrease : float, default 0.5
        Factor in (0, 1] applied to :math:`M` after an accepted step (adaptive search
        only; super-newton's value is 0.25).
    grad_cost : float, optional
        Cost of one gradient in the cost model (default :math:`d^2`).
    callback : callable, optional
        ``callback(intermediate_result)`` at every iterate that does not meet ``tol``;
        returning ``True`` stops the solver.
    verbose : int, default 0
        Logging level through ``logging.getLogger("optlab")``.
    record : bool, default True
        Record the per-iteration history (costs one ``fun`` call per iterate; switch
        off for timing).

    Returns
    -------
    Result
        As :func:`optlab.newton.lazy_cubic_newton`: ``x``, ``fun``, ``jac``, ``nit``,
        ``success``, ``status``, ``message``, ``nfev``, ``njev`` (rejected trials
        included), ``nhev``, ``n_factorizations``, ``n_solves``, ``cost``, ``M``, ``m``;
        ``history`` columns ``fun``, ``grad_norm``, ``M``, ``lam``
        (:math:`\lambda_t` of the step that produced :math:`x_k`), ``trials``,
        ``snapshot``, ``cost``. When the run stops by ``tol`` after ``nit`` steps,
        ``nhev == ceil(nit / m)``.

    Raises
    ------
    TypeError, ValueError
        Bad input, as for :func:`optlab.newton.lazy_cubic_newton`.

    Notes
    -----
    Run-time trouble (a non-finite gradient or Hessian, a failed ``eigh``:
    ``NUMERICAL_ERROR``; an indefinite snapshot or an adaptive search exceeding
    ``max_backtrack``: ``STAGNATION``) is reported in the Result with the history kept.
    Everything stays in the namespace of ``x0``; each step syncs :math:`\|g_t\|` (and,
    in the adaptive search, two inner products per trial) to the host. Only the NumPy
    path was timed.

    References
    ----------
    .. [DCJ23] N. Doikov, E. M. Chayti, M. Jaggi. Second-order optimization with lazy
       Hessians. ICML 2023, PMLR 202:8138-8161. arXiv:2212.00781. Algorithm 2.
    .. [Mis23] K. Mishchenko. Regularized Newton method with global
       :math:`O(1/k^2)` convergence. SIAM J. Optim. 33(3), 2023. arXiv:2112.02089.
    .. [DN24] N. Doikov, Yu. Nesterov. Gradient regularization of Newton method with
       Bregman distances. Math. Program. 204:1-25, 2024.
    .. [SJD25] A. Semenov, M. Jaggi, N. Doikov. Gradient-normalized smoothness for
       optimization with approximate Hessians. arXiv:2506.13710, 2025.
    .. [DN] N. Doikov. ``github.com/doikov/super-newton``, ``methods.py``
       (``super_newton``: the adaptive search used here).

    Examples
    --------
    L2-regularized logistic regression; the Hessian is refreshed every ``m = 5`` steps:

    >>> import numpy as np
    >>> from scipy.special import expit
    >>> from optlab.newton import lazy_regularized_newton
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((200, 10)); y = np.sign(rng.standard_normal(200))
    >>> fun = lambda w: np.logaddexp(0, -y * (A @ w)).mean() + 0.05 * w @ w
    >>> grad = lambda w: A.T @ (-y * expit(-y * (A @ w))) / 200 + 0.1 * w
    >>> def hess(w):
    ...     p = expit(A @ w)
    ...     return (A.T * (p * (1 - p))) @ A / 200 + 0.1 * np.eye(10)
    >>> res = lazy_regularized_newton(fun, grad, hess, np.zeros(10), m=5, tol=1e-10)
    >>> res.success, res.nhev == -(-res.nit // 5)
    (True, True)
    >>> bool(np.linalg.norm(grad(res.x)) <= 1e-10)
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
    M_decrease = check_positive(M_decrease, "M_decrease")
    if M_decrease > 1.0:
        raise ValueError(f"M_decrease must lie in (0, 1], got {M_decrease}")

    def step(k, x, f, g, gnorm, snap, state, orc) -> StepOut:
        gt = g @ snap.Q
        Mk = state["M"]
        for trial in range(1, opts.max_backtrack + 1):
            lam = math.sqrt(Mk * gnorm)
            h = snap.Q @ (-gt / (snap.lam + lam))
            orc.cnt.n_solves += 1
            x_new = x + h
            if not adaptive:
                return StepOut(x=x_new, M=Mk, lam=lam, trials=1)
            g_new = orc.grad(x_new)
            gn2 = float(vdot(xp, g_new, g_new))
            if math.isfinite(gn2):
                if math.sqrt(gn2) <= opts.tol or float(-vdot(xp, g_new, h)) >= gn2 / (4.0 * lam):
                    state["M"] = max(M_decrease * Mk, opts.M_min)
                    return StepOut(x=x_new, g=g_new, M=Mk, lam=lam, trials=trial)
            Mk *= 4.0
            state["M"] = Mk
        return StepOut(
            status=Status.STAGNATION,
            message=(
                f"lazy_regularized_newton: adaptive search on M failed at iteration {k}: "
                f"test <g+, -h> >= ||g+||^2/(4 lam) not met after {opts.max_backtrack} "
                f"tries (M = {Mk:.3e}, ||grad|| = {gnorm:.3e})"
            ),
        )

    return run_lazy(
        "lazy_regularized_newton",
        fun,
        grad,
        hess,
        opts,
        step,
        need_fun=False,
        require_psd=True,
        callback=callback,
        verbose=verbose,
        record=record,
    )
