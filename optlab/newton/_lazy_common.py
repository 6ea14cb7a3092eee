r"""Shared machinery of the lazy-Hessian Newton methods (Doikov, Chayti & Jaggi, ICML 2023).

Both lazy methods (:func:`optlab.newton.lazy_cubic_newton`,
:func:`optlab.newton.lazy_regularized_newton`) run the same outer loop:

- a fresh gradient :math:`g_t = \nabla f(x_t)` at every iteration;
- the Hessian only at the snapshot iterations :math:`t \in \{0, m, 2m, \dots\}`
  (snapshot index :math:`\pi(t) = m\lfloor t/m \rfloor`), factored once by a symmetric
  eigendecomposition :math:`\nabla^2 f(x_{\pi(t)}) = Q \operatorname{diag}(\Lambda) Q^\top`
  (:math:`O(d^3)`);
- a step computed in the eigenbasis: :math:`\tilde g = Q^\top g_t` (one matrix-vector
  product), a diagonal solve :math:`c = -\tilde g / (\Lambda + \sigma)` for a shift
  :math:`\sigma` chosen by the method, and :math:`h = Q c` (a second matrix-vector
  product): :math:`O(d^2)` per step.

This module holds the pieces they share: input validation, oracle wrappers with
counts, the snapshot factorization, the arithmetic cost model, the cubic-subproblem
root search on the factored model, and the loop itself (:func:`run_lazy`), which calls a
method-specific ``step``.

**Cost model** (notes on the paper, B.2 and B.5). A gradient costs ``grad_cost``
(default :math:`d^2`), a Hessian :math:`d \cdot` ``grad_cost``, a factorization
:math:`d^3` and a lazy step (two products with :math:`Q`) :math:`d^2`:

.. math:: \text{cost} = \text{GradCost}\,(\#\text{grad} + \#\text{fun}_\text{alg})
   + d\,\text{GradCost}\,\#\text{hess} + d^3\,\#\text{factorizations}
   + d^2\,\#\text{solves},

where :math:`\#\text{fun}_\text{alg}` counts the function values the *algorithm* needs
(the trial points of the adaptive cubic search); values computed only for the history
are not counted, so the cost does not depend on ``record``. With ``grad_cost`` :math:`=
d^2` (about :math:`n = d` data terms) a Hessian costs as much as its factorization; a
phase of :math:`m` steps costs :math:`2d^3 + m(\text{GradCost} + d^2)`, the form in which
the paper's optimum :math:`m = d` and its :math:`\sqrt d` gain are derived.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.linalg import LinAlgError

from optlab._backend import eigh, get_namespace, norm, to_numpy
from optlab._validate import (
    check_array,
    check_callable,
    check_finite_value,
    check_int,
    check_positive,
)
from optlab.result import Monitor, Result, Status

__all__ = [
    "LazyOptions",
    "Counters",
    "Snapshot",
    "StepOut",
    "validate_options",
    "factor_snapshot",
    "cubic_step_eig",
    "solve_cubic_subproblem",
    "run_lazy",
]

_EPS = float(np.finfo(np.float64).eps)
_TINY = float(np.finfo(np.float64).tiny)
# Relative tolerance of the symmetry check of the first Hessian: max|H - H^T| <= tol * max|H|.
SYM_RTOL = 1e-8
# Root search of the cubic subproblem: relative accuracy of r = ||h|| and iteration cap.
ROOT_RTOL = 1e-12
ROOT_MAX_ITER = 100


# --------------------------------------------------------------------------------------
# options and counters
# --------------------------------------------------------------------------------------


@dataclass
class LazyOptions:
    """Validated options shared by both lazy methods."""

    x: Any
    xp: Any
    d: int
    m: int
    M: float | None
    tol: float
    max_iter: int
    M0: float
    M_min: float
    max_backtrack: int
    grad_cost: float


def check_m(m: Any, d: int) -> int:
    """``None`` -> ``d`` (the paper's optimal frequency); otherwise a Python int >= 1."""
    if m is None:
        return d
    if isinstance(m, bool) or not isinstance(m, numbers.Integral):
        if isinstance(m, numbers.Real):
            raise ValueError(f"m must be a positive integer (Hessian update period), got {m!r}")
        raise TypeError(f"m must be a positive integer, got {type(m).__name__}")
    if int(m) < 1:
        raise ValueError(f"m must be a positive integer (Hessian update period), got {int(m)}")
    return int(m)


def validate_options(
    fun,
    grad,
    hess,
    x0,
    *,
    m,
    M,
    tol,
    max_iter,
    M0,
    M_min,
    max_backtrack,
    grad_cost,
    callback,
    verbose,
) -> LazyOptions:
    """Check every argument; raise ``TypeError``/``ValueError`` naming the culprit."""
    check_callable(fun, "fun")
    check_callable(grad, "grad")
    check_callable(hess, "hess")
    check_callable(callback, "callback", optional=True)
    x = check_array(x0, "x0", ndim=1)
    xp = get_namespace(x)
    d = int(x.shape[0])
    m = check_m(m, d)
    M = check_positive(M, "M", optional=True)
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    M0 = check_positive(M0, "M0")
    M_min = check_positive(M_min, "M_min")
    max_backtrack = check_int(max_backtrack, "max_backtrack", minimum=1)
    grad_cost = float(d * d) if grad_cost is None else check_positive(grad_cost, "grad_cost")
    check_int(verbose, "verbose", minimum=0)
    return LazyOptions(
        x=x,
        xp=xp,
        d=d,
        m=m,
        M=M,
        tol=tol,
        max_iter=max_iter,
        M0=max(M0, M_min),
        M_min=M_min,
        max_backtrack=max_backtrack,
        grad_cost=grad_cost,
    )


class Counters:
    """Oracle and linear-algebra counts, and the cost model built on them."""

    __slots__ = ("nfev", "nfev_alg", "njev", "nhev", "n_factorizations", "n_solves")

    def __init__(self) -> None:
        self.nfev = 0  # every call of fun (history-only ones included)
        self.nfev_alg = 0  # calls of fun the algorithm needs (counted in the cost)
        self.njev = 0
        self.nhev = 0
        self.n_factorizations = 0
        self.n_solves = 0

    def cost(self, d: int, grad_cost: float) -> float:
        """Arithmetic cost in the paper's model (see the module docstring)."""
        return (
            grad_cost * (self.njev + self.nfev_alg)
            + d * grad_cost * self.nhev
            + float(d) ** 3 * self.n_factorizations
            + float(d) ** 2 * self.n_solves
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "nfev": self.nfev,
            "njev": self.njev,
            "nhev": self.nhev,
            "n_factorizations": self.n_factorizations,
            "n_solves": self.n_solves,
        }


# --------------------------------------------------------------------------------------
# snapshot factorization
# --------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """Eigendecomposition ``H = Q diag(lam) Q^T`` of a snapshot Hessian.

    ``Q`` and ``lam`` live in the solver's namespace; ``lam_host`` is a float64 NumPy
    copy (ascending) for the scalar root searches, moved to the host once per snapshot.
    """

    Q: Any
    lam: Any
    lam_host: np.ndarray
    it: int

    @property
    def lam_min(self) -> float:
        return float(self.lam_host[0])

    @property
    def lam_max(self) -> float:
        return float(self.lam_host[-1])


def check_hessian(xp: Any, H: Any, d: int, *, symmetry: bool) -> None:
    """Shape (and, at the first snapshot, symmetry) of a Hessian; ``ValueError`` naming hess."""
    shape = tuple(getattr(H, "shape", ()))
    if shape != (d, d):
        raise ValueError(f"hess must return a square array of shape ({d}, {d}), got shape {shape}")
    if symmetry:
        scale = float(xp.max(xp.abs(H)))
        asym = float(xp.max(xp.abs(H - xp.matrix_transpose(H))))
        if math.isfinite(scale) and asym > SYM_RTOL * scale:
            raise ValueError(
                f"hess must return a symmetric matrix: max|H - H^T| = {asym:.3e} > "
                f"{SYM_RTOL:g} * max|H| = {SYM_RTOL * scale:.3e}"
            )


def factor_snapshot(xp: Any, H: Any, it: int) -> Snapshot:
    """Eigendecomposition of the snapshot Hessian (raises ``LinAlgError`` on failure)."""
    lam, Q = eigh(xp, H)
    lam_host = np.asarray(to_numpy(lam), dtype=np.float64)
    if not np.all(np.isfinite(lam_host)):
        raise LinAlgError("eigh returned non-finite eigenvalues")
    return Snapshot(Q=Q, lam=lam, lam_host=lam_host, it=it)


# --------------------------------------------------------------------------------------
# cubic subproblem on the factored model
# --------------------------------------------------------------------------------------


@dataclass
class CubicSolution:
    """Minimizer of the cubic model in the eigenbasis (all host float64).

    ``c`` is ``Q^T h``; ``sigma = M r / 2`` the shift with ``(H + sigma I) h = -g``;
    ``r = ||h||``; ``model`` the model value ``<g,h> + <Hh,h>/2 + M r^3/6``; ``hard``
    whether the hard case was taken; ``n_iter`` the root-search iterations; ``ok`` False
    when the root search did not converge (``c`` is then the last iterate).
    """

    c: np.ndarray
    sigma: float
    r: float
    model: float
    hard: bool
    n_iter: int
    ok: bool


def _phi_terms(lam: np.ndarray, gg: np.ndarray, s: float) -> tuple[float, float]:
    """``phi(s)^2 = sum gg/(lam+s)^2`` and ``sum gg/(lam+s)^3`` for ``s > -lam_min``."""
    w = 1.0 / (lam + s)
    a = gg * (w * w)
    return float(a.sum()), float((a * w).sum())


def _model_value(lam: np.ndarray, gt: np.ndarray, c: np.ndarray, M: float) -> tuple[float, float]:
    r = float(np.sqrt(c @ c))
    return float(gt @ c + 0.5 * ((lam * c) @ c) + M * r**3 / 6.0), r


def cubic_step_eig(
    lam: np.ndarray, gt: np.ndarray, M: float, *, sigma0: float | None = None
) -> CubicSolution:
    r"""Global minimizer of :math:`\langle \tilde g, c\rangle + \tfrac12 \sum_i \lambda_i c_i^2
    + \tfrac M6 \|c\|^3` (the cubic model in the eigenbasis of its Hessian).

    Parameters
    ----------
    lam : (d,) float64 ndarray, ascending
        Eigenvalues of the model Hessian (any signs).
    gt : (d,) float64 ndarray
        Gradient in the eigenbasis, :math:`\tilde g = Q^\top g`.
    M : float
        Cubic regularization, > 0.
    sigma0 : float, optional
        Warm start for the shift (the previous step's); ignored when outside the bracket.

    Notes
    -----
    The global minimizer is characterised by (Nesterov & Polyak 2006, Sec. 5; Cartis,
    Gould & Toint 2011, Thm 3.1): :math:`(H + \sigma I) h = -g`,
    :math:`H + \sigma I \succeq 0`, :math:`\sigma = M r/2`, :math:`r = \|h\|`. With
    :math:`\phi(\sigma)^2 = \sum_i \tilde g_i^2/(\lambda_i + \sigma)^2` this is the scalar
    equation :math:`\phi(\sigma) = 2\sigma/M` on :math:`\sigma > \sigma_{lo} =
    \max(0, -\lambda_{\min})`, solved by Newton's method on

    .. math:: F(\sigma) = 1/\phi(\sigma) - M/(2\sigma),

    which is increasing and concave there (:math:`1/\phi` is concave, Moré & Sorensen
    1983), so Newton iterates from the left of the root increase monotonically to it and
    one step from the right lands on the left. Every iterate is safeguarded into a
    bracket :math:`[a, b]` with :math:`F(a) < 0 \le F(b)` (bisection otherwise), where
    :math:`b = (-\lambda_{\min} + (\lambda_{\min}^2 + 2M\|g\|)^{1/2})/2` satisfies
    :math:`\phi(b) \le \|g\|/(\lambda_{\min}+b) = 2b/M`. Each iteration is :math:`O(d)`.

    **Hard case.** When :math:`\lambda_{\min} < 0` and :math:`\tilde g` has (numerically)
    no component on the lowest eigenvectors, :math:`\phi` stays bounded as
    :math:`\sigma \downarrow -\lambda_{\min}` and may satisfy
    :math:`\phi(\sigma) \le 2\sigma/M` already at :math:`a = -\lambda_{\min} + \delta`,
    :math:`\delta = 8\epsilon\max_i|\lambda_i|`. The root then lies in
    :math:`[-\lambda_{\min}, a]`, numerically the left end, and the solution is
    :math:`\sigma = a`, :math:`c_i = -\tilde g_i/(\lambda_i + a)` plus a component along
    the lowest eigenvector that brings :math:`\|c\|` up to :math:`r = 2a/M`
    (:math:`c_0 = \pm(r^2 - \sum_{i>0} c_i^2)^{1/2}`, the sign of :math:`-\tilde g_0`,
    ``+`` when :math:`\tilde g_0 = 0`; with :math:`\tilde g_0 = 0` both signs give the
    same model value). The residual of :math:`(H+\sigma I)h = -g` is then at most
    :math:`2\delta r`.

    The search variable is :math:`\delta = \sigma - \sigma_{lo}` with the shifted
    eigenvalues :math:`\mu_i = \lambda_i + \sigma_{lo} \ge 0` (:math:`\mu_0 = 0`
    exactly when :math:`\lambda_{\min} < 0`), so that :math:`\lambda_i + \sigma =
    \mu_i + \delta` keeps full relative accuracy when the root is within rounding of
    :math:`-\lambda_{\min}` (the near-hard case).
    """
    lam = np.asarray(lam, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    M = float(M)
    gg = gt * gt
    gnorm = math.sqrt(float(gg.sum()))
    lam_min = float(lam[0])
    scale = max(abs(lam_min), abs(float(lam[-1])), _TINY)
    lo = max(0.0, -lam_min)
    # Work with delta = sigma - lo and mu = lam + lo >= 0 (mu_0 = 0 exactly when lo > 0):
    # lam_i + sigma = mu_i + delta keeps full relative accuracy for tiny delta (near-hard case).
    mu = lam + lo if lo > 0.0 else lam
    if lo > 0.0:
        mu[0] = 0.0
    d_min = 8.0 * _EPS * scale

    def hard_case(delta: float) -> CubicSolution:
        r = 2.0 * (lo + delta) / M
        c = -gt / (mu + delta)
        rest = float(c[1:] @ c[1:])
        c0 = math.sqrt(max(r * r - rest, 0.0))
        c[0] = -c0 if gt[0] > 0 else c0
        model, rr = _model_value(lam, gt, c, M)
        return CubicSolution(c=c, sigma=lo + delta, r=rr, model=model, hard=True, n_iter=0, ok=True)

    if gnorm == 0.0:
        if lo == 0.0:
            z = np.zeros_like(gt)
            return CubicSolution(c=z, sigma=0.0, r=0.0, model=0.0, hard=False, n_iter=0, ok=True)
        return hard_case(d_min)

    def F(delta: float) -> tuple[float, float, float]:
        p2, p3 = _phi_terms(mu, gg, delta)
        phi = math.sqrt(p2)
        s = lo + delta
        val = 1.0 / phi - M / (2.0 * s)
        der = p3 / (phi * p2) + M / (2.0 * s * s)
        return val, der, phi

    if lo > 0.0:
        a = d_min
        Fa, _, _ = F(a)
        if Fa >= 0.0:
            return hard_case(a)
    else:
        a = 0.0  # F(0+) = -inf
    b = 0.5 * (-lam_min + math.sqrt(lam_min * lam_min + 2.0 * M * gnorm)) - lo
    b = max(b, 2.0 * a, _TINY)
    for _ in range(60):  # rounding can leave F(b) a hair below 0
        Fb, _, _ = F(b)
        if Fb >= 0.0:
            break
        a, b = b, 2.0 * b
    t = None if sigma0 is None else sigma0 - lo
    t = t if (t is not None and a < t < b) else b
    ok = False
    n_iter = 0
    for n_iter in range(1, ROOT_MAX_ITER + 1):  # noqa: B007
        val, der, phi = F(t)
        r_t = 2.0 * (lo + t) / M
        if abs(phi - r_t) <= ROOT_RTOL * r_t:
            ok = True
            break
        if val < 0.0:
            a = t
        else:
            b = t
        if b - a <= 4.0 * _EPS * b:
            t = b
            ok = True
            break
        t_new = t - val / der
        if not (a < t_new < b):
            # bisection, geometric when the bracket spans orders of magnitude
            t_new = math.sqrt(a * b) if a > 0.0 and b > 4.0 * a else 0.5 * (a + b)
        t = t_new
    c = -gt / (mu + t)
    model, r = _model_value(lam, gt, c, M)
    return CubicSolution(c=c, sigma=lo + t, r=r, model=model, hard=False, n_iter=n_iter, ok=ok)


def solve_cubic_subproblem(g: Any, H: Any, M: float) -> tuple[np.ndarray, float, float]:
    r"""Dense NumPy front end: :math:`\arg\min_h \langle g,h\rangle + \tfrac12\langle Hh,h\rangle
    + \tfrac M6\|h\|^3` by ``eigh`` and :func:`cubic_step_eig`.

    Returns ``(h, sigma, model_value)``, with :math:`(H + \sigma I)h = -g`,
    :math:`\sigma = M\|h\|/2`.

    Examples
    --------
    >>> import numpy as np
    >>> h, sigma, val = solve_cubic_subproblem(np.array([1.0, 0.0]), np.diag([1.0, -1.0]), 2.0)
    >>> bool(np.isclose(sigma, np.linalg.norm(h)))  # sigma = M ||h|| / 2 with M = 2
    True
    """
    H = np.asarray(H, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    lam, Q = np.linalg.eigh(H)
    sol = cubic_step_eig(lam, Q.T @ g, M)
    if not sol.ok:
        raise RuntimeError("cubic subproblem: root search did not converge")
    return Q @ sol.c, sol.sigma, sol.model


# --------------------------------------------------------------------------------------
# the shared loop
# --------------------------------------------------------------------------------------


@dataclass
class StepOut:
    """What a method's step returns to :func:`run_lazy`.

    ``x``: the new iterate; ``f``/``g``: its value/gradient when the step already has
    them (``None`` otherwise); ``M``: the regularization accepted; ``lam``: the shift of
    the Newton system; ``trials``: step computations tried; ``status``/``message``: set
    when the step failed (then ``x`` is ignored).
    """

    x: Any = None
    f: float | None = None
    g: Any = None
    M: float = math.nan
    lam: float = math.nan
    trials: int = 0
    status: Status | None = None
    message: str | None = None


class Oracles:
    """``fun``/``grad``/``hess`` with counts and shape checks."""

    def __init__(self, fun, grad, hess, xp, d: int, cnt: Counters) -> None:
        self._fun, self._grad, self._hess = fun, grad, hess
        self.xp, self.d, self.cnt = xp, d, cnt
        self._checked_grad = False
        self._checked_hess = False

    def fun(self, x: Any, *, alg: bool) -> float:
        self.cnt.nfev += 1
        if alg:
            self.cnt.nfev_alg += 1
        return float(self._fun(x))

    def grad(self, x: Any) -> Any:
        self.cnt.njev += 1
        g = self._grad(x)
        if not self._checked_grad:
            got = tuple(getattr(g, "shape", ()))
            if got != (self.d,):
                raise ValueError(f"grad must return an array of shape ({self.d},), got shape {got}")
            self._checked_grad = True
        return g

    def hess(self, x: Any) -> Any:
        self.cnt.nhev += 1
        H = self._hess(x)
        check_hessian(self.xp, H, self.d, symmetry=False)
        return H

    def check_symmetry_once(self, H: Any) -> None:
        if not self._checked_hess:
            check_hessian(self.xp, H, self.d, symmetry=True)
            self._checked_hess = True


def run_lazy(
    name: str,
    fun: Callable,
    grad: Callable,
    hess: Callable,
    opts: LazyOptions,
    step: Callable[..., StepOut],
    *,
    need_fun: bool,
    require_psd: bool,
    callback: Callable[[Result], Any] | None,
    verbose: int,
    record: bool,
) -> Result:
    """The outer loop shared by the lazy methods.

    At iterate ``x_k`` (gradient already known, or computed now): record row ``k``, test
    ``||g_k|| <= tol``, refresh and factor the Hessian when ``k % m == 0``, then call
    ``step(k, x, f, g, gnorm, snapshot)``. ``need_fun``: the step uses ``f(x_k)``
    (otherwise ``fun`` is called only for the history/callback, not counted in ``cost``).
    ``require_psd``: a snapshot with a clearly negative eigenvalue stops the run
    (``STAGNATION``); eigenvalues negative only at rounding level are clipped to 0.
    """
    xp, d, m = opts.xp, opts.d, opts.m
    cnt = Counters()
    orc = Oracles(fun, grad, hess, xp, d, cnt)
    mon = Monitor(name, record=record, callback=callback, verbose=verbose)
    track_fun = need_fun or record or callback is not None or verbose > 0

    x = opts.x
    f = check_finite_value(orc.fun(x, alg=need_fun), "fun(x0)")
    g = None
    snap: Snapshot | None = None
    k = 0
    M_prev, lam_prev, trials_prev = math.nan, math.nan, 0
    state: dict[str, Any] = {"M": opts.M if opts.M is not None else opts.M0}

    def done(status: Status, message: str | None = None) -> Result:
        f_out = f
        if f_out is None:
            f_out = orc.fun(x, alg=False)
        return mon.finish(
            x=x,
            fun=f_out,
            nit=k,
            status=status,
            message=message,
            jac=g,
            cost=cnt.cost(d, opts.grad_cost),
            M=state["M"],
            m=m,
            **cnt.as_dict(),
        )

    def row(gnorm: float, snapshot: float) -> None:
        mon.record(
            k,
            fun=math.nan if f is None else f,
            grad_norm=gnorm,
            M=M_prev,
            lam=lam_prev,
            trials=trials_prev,
            snapshot=snapshot,
            cost=cnt.cost(d, opts.grad_cost),
        )

    while True:
        if g is None:
            g = orc.grad(x)
        gnorm = float(norm(xp, g))
        if not math.isfinite(gnorm):
            row(math.nan, 0.0)
            return done(Status.NUMERICAL_ERROR, f"{name}: non-finite gradient at iteration {k}")
        if f is not None and not math.isfinite(f):
            row(gnorm, 0.0)
            return done(Status.NUMERICAL_ERROR, f"{name}: non-finite fun at iteration {k}")
        converged = gnorm <= opts.tol
        refresh = (not converged) and k < opts.max_iter and k % m == 0
        if refresh:
            H = orc.hess(x)
            if not bool(xp.all(xp.isfinite(H))):
                row(gnorm, 1.0)
                return done(Status.NUMERICAL_ERROR, f"{name}: non-finite Hessian at iteration {k}")
            orc.check_symmetry_once(H)
            try:
                cnt.n_factorizations += 1
                snap = factor_snapshot(xp, H, k)
            except LinAlgError as exc:
                row(gnorm, 1.0)
                return done(
                    Status.NUMERICAL_ERROR,
                    f"{name}: eigendecomposition of the Hessian failed at iteration {k} ({exc})",
                )
            del H
            if require_psd:
                msg = _clip_psd(xp, snap, name, k)
                if msg is not None:
                    row(gnorm, 1.0)
                    return done(Status.STAGNATION, msg)
        row(gnorm, 1.0 if refresh else 0.0)
        if converged:
            return done(
                Status.CONVERGED,
                f"converged: ||grad|| = {gnorm:.3e} <= tol = {opts.tol:g} ({k} iterations)",
            )
        if mon.stop_requested(x, f, k):
            return done(Status.CALLBACK)
        if k >= opts.max_iter:
            return done(
                Status.MAX_ITER,
                f"maximum number of iterations reached ({k} iterations, ||grad|| = "
                f"{gnorm:.3e} > tol = {opts.tol:g})",
            )
        out = step(k, x, f, g, gnorm, snap, state, orc)
        if out.status is not None:
            return done(out.status, out.message)
        x, g = out.x, out.g
        f = out.f
        if f is None and track_fun:
            f = orc.fun(x, alg=False)
        M_prev, lam_prev, trials_prev = out.M, out.lam, out.trials
        k += 1


def _clip_psd(xp: Any, snap: Snapshot, name: str, k: int) -> str | None:
    """Clip rounding-level negative eigenvalues to 0; a message if H is clearly indefinite."""
    lam_min = snap.lam_min
    if lam_min >= 0.0:
        return None
    scale = max(abs(lam_min), abs(snap.lam_max))
    if lam_min < -64.0 * _EPS * snap.lam_host.shape[0] * scale:
        return (
            f"{name}: the Hessian at iteration {k} is indefinite (lambda_min = {lam_min:.3e}); "
            "the regularized method needs a convex f (use lazy_cubic_newton for non-convex f)"
        )
    snap.lam = xp.clip(snap.lam, min=0.0)
    snap.lam_host = np.maximum(snap.lam_host, 0.0)
    return None
