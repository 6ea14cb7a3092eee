r"""BDA: Bi-level Descent Aggregation (Liu, Mu, Yuan, Zeng & Zhang, ICML 2020).

Also holds the private helpers shared by the single-loop solvers of this family
(:mod:`~optlab.bilevel.slbamm`, :mod:`~optlab.bilevel.meha`,
:mod:`~optlab.bilevel.lvhba`): input checks, upper-level second-order products with a
finite-difference fallback, and the per-iteration record against a known solution.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from optlab._backend import get_namespace, norm, to_numpy
from optlab._validate import (
    check_array,
    check_callable,
    check_int,
    check_nonnegative,
    check_positive,
)
from optlab.result import Monitor, Result, Status

from .base import OracleCounter, counted

__all__ = ["bda"]

_ORACLE_NAMES = ("f", "g", "grad_f_x", "grad_f_y", "grad_g_x", "grad_g_y", "hvp_g_yy", "jvp_g_xy")


# --------------------------------------------------------------------------------------
# shared helpers (private; used by slbamm, meha, lvhba)
# --------------------------------------------------------------------------------------


def _setup(problem: Any, x0: Any, y0: Any, *, tol: Any, max_iter: Any):
    """Check the problem and the starts; return (counter, xp, x0, y0, tol, max_iter)."""
    if problem is None:
        raise TypeError("problem must be a BilevelProblem, got None")
    for name in _ORACLE_NAMES:
        check_callable(getattr(problem, name, None), f"problem.{name}")
    dim_x, dim_y = int(problem.dim_x), int(problem.dim_y)
    x0 = problem.x0 if x0 is None else x0
    y0 = problem.y0 if y0 is None else y0
    x0 = check_array(x0, "x0", shape=(dim_x,))
    y0 = check_array(y0, "y0", shape=(dim_y,))
    xp = get_namespace(x0, y0)
    tol = check_nonnegative(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    return counted(problem), xp, x0, y0, tol, max_iter


def _check_out(v: Any, shape: tuple, name: str) -> Any:
    if tuple(getattr(v, "shape", ())) != shape:
        raise ValueError(f"{name} must return an array of shape {shape}, got {tuple(getattr(v, 'shape', ()))}")
    return v


class _UpperSecondOrder:
    """Products with the upper level's second derivatives.

    ``hvp(x, y, v)`` :math:`= \\nabla^2_{yy} f\\, v` and ``jvp(x, y, v)``
    :math:`= \\nabla^2_{xy} f\\, v` from the problem's optional ``hvp_f_yy`` /
    ``jvp_f_xy`` when it has them (counted in ``n_hvp_f``), else by central
    differences of the counted gradients along v (step ``eps (1 + ||y||) / ||v||``;
    exact up to rounding for quadratic f).
    """

    def __init__(self, pc: Any, xp: Any, eps: float) -> None:
        self.pc, self.xp, self.eps = pc, xp, eps
        self.hvp_f = getattr(pc, "hvp_f_yy", None)
        self.jvp_f = getattr(pc, "jvp_f_xy", None)
        self.count = 0

    @property
    def exact(self) -> bool:
        return self.hvp_f is not None and self.jvp_f is not None

    def both(self, x: Any, y: Any, v: Any) -> tuple[Any, Any]:
        if self.exact:
            self.count += 2
            return self.hvp_f(x, y, v), self.jvp_f(x, y, v)
        xp = self.xp
        nv = float(norm(xp, v))
        if nv == 0.0:
            return xp.zeros_like(y), xp.zeros_like(x)
        h = self.eps * (1.0 + float(norm(xp, y))) / nv
        yp, ym = y + h * v, y - h * v
        hv = (self.pc.grad_f_y(x, yp) - self.pc.grad_f_y(x, ym)) / (2.0 * h)
        jv = (self.pc.grad_f_x(x, yp) - self.pc.grad_f_x(x, ym)) / (2.0 * h)
        return hv, jv


class _Tracker:
    """Records distance to the known solution, F(x_k), lower-level gap and extras.

    Reference quantities are evaluated on host copies through the *uncounted* problem,
    so oracle counts only hold the algorithm's own calls.
    """

    def __init__(self, problem: Any, mon: Monitor, x0: Any) -> None:
        problem = problem.problem if isinstance(problem, OracleCounter) else problem
        self.p = problem
        self.mon = mon
        self.x_star = None if getattr(problem, "x_star", None) is None else np.asarray(to_numpy(problem.x_star), float)
        y_opt = getattr(problem, "y_opt", None)
        if y_opt is None and self.x_star is not None and getattr(problem, "y_star", None) is not None:
            y_opt = problem.y_star(self.x_star)
        self.y_opt = None if y_opt is None else np.asarray(to_numpy(y_opt), float)
        self.big = 1e10 * (1.0 + float(np.linalg.norm(to_numpy(x0))))
        self.last_error = math.nan

    def values(self, x: Any, y: Any, **extra: float) -> dict[str, float]:
        p = self.p
        xn, yn = np.asarray(to_numpy(x), float), np.asarray(to_numpy(y), float)
        out: dict[str, float] = {}
        if getattr(p, "F", None) is not None:
            out["F"] = float(p.F(xn))
        out["f"] = float(p.f(xn, yn))
        if self.x_star is not None:
            out["x_error"] = float(np.linalg.norm(xn - self.x_star))
        if self.y_opt is not None:
            out["y_error"] = float(np.linalg.norm(yn - self.y_opt))
        if "x_error" in out and "y_error" in out:
            out["error"] = math.hypot(out["x_error"], out["y_error"])
        if getattr(p, "y_star", None) is not None:
            ys = np.asarray(to_numpy(p.y_star(xn)), float)
            out["lower_gap"] = float(p.g(xn, yn)) - float(p.g(xn, ys))
            out["inner_distance"] = float(np.linalg.norm(yn - ys))
        if getattr(p, "hypergrad", None) is not None:
            out["hypergrad_norm"] = float(np.linalg.norm(to_numpy(p.hypergrad(xn))))
        viol = getattr(p, "constraint_violation", None)
        if callable(viol) and getattr(p, "h", None) is not None:
            out["constraint_violation"] = float(viol(xn, yn))
        if xn.size + yn.size <= 6:  # tiny problems: the coordinates themselves (trajectory plots)
            out.update({f"x_{i}": float(v) for i, v in enumerate(xn)})
            out.update({f"y_{i}": float(v) for i, v in enumerate(yn)})
        out.update({k: float(v) for k, v in extra.items()})
        self.last_error = out.get("error", math.nan)
        return out

    def record(self, k: int, x: Any, y: Any, **extra: float) -> None:
        if self.mon.history.enabled:
            self.mon.record(k, **self.values(x, y, **extra))

    def check(self, k: int, x: Any, y: Any, *others: Any) -> tuple[Status, str] | None:
        """NaN/inf or blow-up at iteration k -> (status, message), else None."""
        named = {"x": x, "y": y}
        named.update({f"aux{i}": o for i, o in enumerate(others)})
        msg = self.mon.nonfinite(k, **named)
        if msg is not None:
            return Status.NUMERICAL_ERROR, msg
        xp = get_namespace(x)
        if float(norm(xp, x)) > self.big or float(norm(xp, y)) > self.big * 10:
            return Status.DIVERGED, f"{self.mon.solver}: iterates diverged at iteration {k}"
        return None


def _finish(mon: Monitor, tracker: _Tracker, pc: Any, x: Any, y: Any, k: int, status: Status,
            message: str | None, **extra: Any) -> Result:  # fmt: skip
    """Assemble the Result: ``x``, ``y``, ``fun`` = F(x) (or f(x, y)), counts."""
    vals = tracker.values(x, y)
    fun = vals.get("F", vals["f"])
    counts = pc.counts()
    return mon.finish(x=x, fun=fun, nit=k, status=status, message=message, y=y,
                      x_error=vals.get("x_error"), y_error=vals.get("y_error"),
                      lower_gap=vals.get("lower_gap"), **counts, **extra)  # fmt: skip


def _step_change(xp: Any, x_new: Any, x: Any, y_new: Any, y: Any) -> float:
    return math.hypot(float(norm(xp, x_new - x)), float(norm(xp, y_new - y)))


def _project(fn: Callable | None, v: Any, name: str) -> Any:
    if fn is None:
        return v
    out = fn(v)
    return _check_out(out, tuple(v.shape), name)


# --------------------------------------------------------------------------------------
# BDA
# --------------------------------------------------------------------------------------


def bda(
    problem: Any,
    x0: Any = None,
    y0: Any = None,
    *,
    step: float = 0.1,
    inner_steps: int = 5,
    s_l: float | None = None,
    s_u: float | None = None,
    alpha: float = 0.5,
    alpha_decay: float = 0.9,
    alpha_power: float = 0.5,
    warm_start: bool = True,
    fd_eps: float = 1e-6,
    tol: float = 1e-10,
    max_iter: int = 1000,
    callback: Callable | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Bi-level Descent Aggregation (BDA) for bilevel problems without a singleton lower level.

    Solves the optimistic bilevel problem

    .. math::

        \min_{x \in X,\, y} f(x, y) \quad\text{s.t.}\quad y \in S(x) =
        \arg\min_{y'} g(x, y'),

    where :math:`S(x)` may contain many points. BDA replaces the lower-level best
    response by T steps of a map that *aggregates* the descent directions of both
    levels,

    .. math::

        y_{t+1} = y_t - \big[(1 - a_t)\, s_l \nabla_y g(x, y_t) + a_t\, s_u \nabla_y
        f(x, y_t)\big], \qquad t = 0, \dots, T - 1,

    so that, among the lower-level minimizers, the iterates drift towards the one the
    upper level prefers. The upper variable then descends
    :math:`\varphi_T(x) = f(x, y_T(x))` with its exact gradient by reverse-mode
    differentiation through the T steps (Hessian-vector and mixed products of g and f):
    :math:`x \leftarrow P_X(x - \text{step}\, \nabla\varphi_T(x))`.

    Parameters
    ----------
    problem : BilevelProblem
        Oracles of :mod:`optlab.bilevel.base`. Uses ``hvp_f_yy``/``jvp_f_xy`` when the
        problem has them, otherwise central differences of ``grad_f_y``/``grad_f_x``
        (step ``fd_eps``). ``project_x`` is applied to x; a lower-level projection is
        not supported (BDA's reverse mode here assumes an unconstrained lower level).
    x0, y0 : array, optional
        Starts (default ``problem.x0``, ``problem.y0``).
    step : float
        Upper-level step (default 0.1).
    inner_steps : int
        T, the number of aggregated lower-level steps per upper iteration (default 5,
        the official code's default).
    s_l, s_u : float, optional
        Lower- and upper-level step sizes of the aggregated map; default
        ``1 / constants["L_g"]`` and ``1 / constants["L_f"]`` when known, else 0.5.
    alpha, alpha_decay, alpha_power : float
        Aggregation weight :math:`a_t = \alpha\, \text{decay}^t / (k + 1)^{p}` at inner
        step t of upper iteration k. The official code (``boml/lower_iter/aggr.py``)
        uses :math:`\alpha\,\gamma\, 0.9^{t}` with :math:`\alpha = 0.6` (few-shot); the
        theory takes :math:`a_t \in (0, 1)` and :math:`a_t \to 0`, which the outer
        factor :math:`(k+1)^{-p}` (our choice, default p = 0.5) provides across
        warm-started upper iterations. Defaults alpha = 0.5, decay = 0.9.
    warm_start : bool
        Start the inner loop of iteration k + 1 at the last inner iterate of iteration k
        (default, as in the official code); ``False`` restarts from ``y0`` every time (the
        paper's :math:`y_0` fixed, where accuracy then needs large T).
    fd_eps : float
        Relative step of the finite-difference fallback.
    tol : float
        Stop when :math:`\|(x_{k+1} - x_k, y_{k+1} - y_k)\| \le` ``tol``.
    max_iter : int
        Upper iterations.
    callback, verbose, record
        As everywhere in optlab (:class:`optlab.result.Monitor`).

    Returns
    -------
    Result
        ``x``, ``y`` (the last inner iterate), ``fun`` (:math:`F(x)` when the problem
        knows it, else :math:`f(x, y)`), ``nit``, oracle counts of
        :class:`~optlab.bilevel.base.OracleCounter` (``n_grad``, ``n_hvp``, ``n_jvp``...,
        plus ``n_hvp_f``: exact upper-level products), ``x_error``, ``y_error``,
        ``lower_gap``; history rows k = 0..nit with ``F``, ``f``, ``x_error``,
        ``y_error``, ``error``, ``lower_gap``, ``inner_distance``, ``hypergrad_norm``
        (where the problem knows the reference quantities) and ``phi_grad_norm``
        (:math:`\|\nabla\varphi_T\|`, NaN at row 0).

    Notes
    -----
    Guarantee (Liu et al. 2020, Theorem 3.x, as summarized by the abstract; the
    theorem's text was not read): with :math:`a_t \in (0, 1)`, :math:`a_t \to 0` and
    :math:`\sum a_t = \infty`, the minimizers of :math:`\varphi_T` converge to solutions
    of the optimistic bilevel problem as :math:`T \to \infty` *without* the lower-level
    singleton assumption; no rate is stated. The counter-example of the paper
    (:func:`problems.bilevel_toy.nonsingleton_toy`) is solved by BDA and not by methods
    that move y along :math:`-\nabla_y g` only.

    References
    ----------
    .. [1] R. Liu, P. Mu, X. Yuan, S. Zeng, J. Zhang, "A Generic First-Order Algorithmic
       Framework for Bi-Level Programming Beyond Lower-Level Singleton", ICML 2020
       (arXiv:2006.04045); extended as "A General Descent Aggregation Framework for
       Gradient-based Bi-level Optimization", TPAMI 2022 (arXiv:2102.07976).

    Examples
    --------
    >>> import numpy as np
    >>> from optlab.bilevel.base import _nonsingleton_example
    >>> from optlab.bilevel.bda import bda
    >>> p = _nonsingleton_example()  # f = (x - y2)^2/2 + (y1 - 1)^2/2, g = y1^2/2 - x y1 (y2 free)
    >>> res = bda(p, step=0.5, max_iter=300)
    >>> np.round(res.x, 4), np.round(res.y, 3)
    (array([1.]), array([1., 1.]))
    """
    name = "bda"
    pc, xp, x, y, tol, max_iter = _setup(problem, x0, y0, tol=tol, max_iter=max_iter)
    step = check_positive(step, "step")
    T = check_int(inner_steps, "inner_steps", minimum=1)
    consts = getattr(problem, "constants", None) or {}
    if s_l is None:
        s_l = 1.0 / consts["L_g"] if consts.get("L_g") else 0.5
    if s_u is None:
        s_u = 1.0 / consts["L_f"] if consts.get("L_f") else 0.5
    s_l = check_positive(s_l, "s_l")
    s_u = check_positive(s_u, "s_u")
    alpha = check_nonnegative(alpha, "alpha")
    if alpha >= 1.0:
        raise ValueError(f"alpha must lie in [0, 1), got {alpha!r}")
    alpha_decay = check_nonnegative(alpha_decay, "alpha_decay")
    if alpha_decay > 1.0:
        raise ValueError(f"alpha_decay must lie in [0, 1], got {alpha_decay!r}")
    alpha_power = check_nonnegative(alpha_power, "alpha_power")
    fd_eps = check_positive(fd_eps, "fd_eps")
    if getattr(problem, "project_y", None) is not None:
        raise ValueError("bda: problems with a lower-level projection (project_y) are not supported")
    project_x = getattr(problem, "project_x", None)
    y_init = y

    mon = Monitor(name, record=record, callback=callback, verbose=verbose)
    tr = _Tracker(problem, mon, x)
    so = _UpperSecondOrder(pc, xp, fd_eps)
    tr.record(0, x, y, phi_grad_norm=math.nan)
    shape_x, shape_y = (problem.dim_x,), (problem.dim_y,)
    status, message, k = Status.MAX_ITER, None, 0
    for k in range(max_iter):
        a = [alpha * alpha_decay**t / (k + 1.0) ** alpha_power for t in range(T)]
        ys = [y if warm_start else y_init]
        for t in range(T):
            yt = ys[-1]
            gg = _check_out(pc.grad_g_y(x, yt), shape_y, "problem.grad_g_y")
            gf = _check_out(pc.grad_f_y(x, yt), shape_y, "problem.grad_f_y")
            ys.append(yt - ((1.0 - a[t]) * s_l) * gg - (a[t] * s_u) * gf)
        yT = ys[-1]
        # reverse mode: p = d phi / d y_t, gx accumulates d phi / d x
        p = pc.grad_f_y(x, yT)
        gx = _check_out(pc.grad_f_x(x, yT), shape_x, "problem.grad_f_x")
        for t in range(T - 1, -1, -1):
            yt, cl, cu = ys[t], (1.0 - a[t]) * s_l, a[t] * s_u
            Hg_p = pc.hvp_g_yy(x, yt, p)
            Jg_p = pc.jvp_g_xy(x, yt, p)
            if cu > 0.0:
                Hf_p, Jf_p = so.both(x, yt, p)
                gx = gx - cl * Jg_p - cu * Jf_p
                p = p - cl * Hg_p - cu * Hf_p
            else:
                gx = gx - cl * Jg_p
                p = p - cl * Hg_p
        x_new = _project(project_x, x - step * gx, "problem.project_x")
        bad = tr.check(k + 1, x_new, yT, gx)
        if bad is not None:
            status, message = bad
            break
        change = _step_change(xp, x_new, x, yT, y)
        x, y = x_new, yT
        tr.record(k + 1, x, y, phi_grad_norm=float(norm(xp, gx)))
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
    return _finish(mon, tr, pc, x, y, k, status, message, n_hvp_f=so.count)
