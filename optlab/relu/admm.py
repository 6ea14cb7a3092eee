r"""ADMM for the convex two-layer ReLU program with squared loss (Bai, Gautam & Sojoudi 2023,
Algorithm 3.1), with a Woodbury u-update that never forms the ``2dP x 2dP`` system.

Problem (:mod:`optlab.relu.formulation`, squared loss, ``P`` patterns, exact or sampled):

.. math::

    \min_{u, v, s}\ \tfrac12\|F u - y\|^2 + \beta \sum_{b=1}^{2P} \|v_b\|_2 + \mathbb{1}[s \ge 0]
    \quad\text{s.t.}\quad u - v = 0,\ \ G u - s = 0,

with :math:`u = (v_1..v_P, w_1..w_P)` (blocks of size ``d``),
:math:`F = [D_1X, \dots, D_PX, -D_1X, \dots, -D_PX]` and
:math:`G = \mathrm{blkdiag}((2D_i - I)X, \dots)`.

Algorithm (scaled duals :math:`\lambda, \nu`; penalty :math:`\rho`; dual step
:math:`\gamma`):

1. :math:`u^{k+1} = (I + G^\top G + F^\top F/\rho)^{-1}\,(F^\top y/\rho + v^k - \lambda^k
   + G^\top(s^k - \nu^k))`;
2. :math:`v_b^{k+1} = \max(0, 1 - \beta/(\rho\|u_b^{k+1} + \lambda_b^k\|))\,(u_b^{k+1} + \lambda_b^k)`;
3. :math:`s^{k+1} = \max(G u^{k+1} + \nu^k, 0)`;
4. :math:`\lambda^{k+1} = \lambda^k + \gamma (u^{k+1} - v^{k+1})`,
   :math:`\nu^{k+1} = \nu^k + \gamma (G u^{k+1} - s^{k+1})`.

**The u-system.** Since :math:`(2D_i - I)^2 = I`, :math:`G^\top G = I_{2P} \otimes X^\top X`
exactly, so :math:`B = I + G^\top G = I_{2P} \otimes M` with :math:`M = I_d + X^\top X`, and
Woodbury gives

.. math::

    A^{-1} = B^{-1} - B^{-1} F^\top S^{-1} F B^{-1},\qquad
    S = \rho I_n + F B^{-1} F^\top = \rho I_n + 2\,K \circ (D D^\top),\quad K = X M^{-1} X^\top .

``M`` (``d x d``) is inverted and ``S`` (``n x n``) Cholesky-factorised once
(:math:`O(nd^2 + d^3 + n^2 d + n^3)`); each iteration then costs
:math:`O(ndP + Pd^2 + n^2)` flops and :math:`O(n^2 + d^2 + ndP)` memory, against
:math:`O((dP)^2)` per iteration and :math:`O((dP)^3)` set-up for the dense factorisation
the paper describes ("quadratic per-iteration time"). The flop count of one iteration is
returned as ``flops_per_iter`` (the formula is in :func:`iteration_flops`).

**Defaults.** ``rho = 1`` and the dual step ``gamma = 1`` (the scaled-dual step
:math:`\gamma_a/\rho`) follow the author-style implementation's penalty (``rho = 1``, see
``../shared/papers/anchor_relu_bilevel.md`` A2; the paper's own code was not found); its
decaying dual step (``1/3``, times 0.99 per iteration) is not used: a constant step keeps
the fixed point of the iteration the KKT point, which the stopping test needs.

**Stopping** (Boyd et al. 2011, Sec. 3.3): with constraint :math:`[I; G]u - [v; s] = 0`,
primal residual :math:`r = \|(u - v, Gu - s)\|`, dual residual
:math:`s_d = \rho\|(v^{k+1} - v^k) + G^\top(s^{k+1} - s^k)\|`; stop when
:math:`r \le \epsilon_{abs}\sqrt{2P(d+n)} + \text{tol}\,\max(\|(u, Gu)\|, \|(v, s)\|)` and
:math:`s_d \le \epsilon_{abs}\sqrt{2Pd} + \text{tol}\,\rho\|\lambda + G^\top\nu\|`.

**Guarantee.** ADMM on this convex program converges to a solution from any start
(two-block ADMM, Boyd et al. 2011, Sec. 3.2); Bai et al. (2023, Theorem 3.1, stated from the
abstract: "linear global convergence") prove a linear rate. The history records
``primal_res``, ``dual_res`` and the objective ``fun`` at the group-sparse iterate ``v``.

References
----------
.. [1] Y. Bai, T. Gautam, S. Sojoudi, "Efficient global optimization of two-layer ReLU
   networks: quadratic-time algorithms and adversarial training", SIAM J. Math. Data Sci.
   5(2), 2023 (arXiv:2201.01965), Algorithm 3.1.
.. [2] S. Boyd, N. Parikh, E. Chu, B. Peleato, J. Eckstein, "Distributed optimization and
   statistical learning via ADMM", Found. Trends Mach. Learn. 3(1), 2011.

Examples
--------
>>> import numpy as np
>>> from optlab.relu import sample_patterns, relu_admm, solve_cvxpy
>>> rng = np.random.default_rng(0)
>>> X = np.c_[rng.standard_normal((40, 3)), np.ones(40)]; y = np.sin(2 * X[:, 0])
>>> D = sample_patterns(X, 20, seed=0)
>>> res = relu_admm(X, y, D, beta=0.05, rho=0.3, max_iter=3000)
>>> ref = solve_cvxpy(X, y, D, beta=0.05)
>>> bool(abs(res.fun - ref.fun) <= 1e-3 * ref.fun)
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from optlab._backend import get_namespace, solve_triangular
from optlab._validate import check_array, check_choice, check_int, check_positive
from optlab.result import Monitor, Result, Status

from .formulation import check_problem

__all__ = ["relu_admm", "iteration_flops", "AdmmFactor"]


def iteration_flops(n: int, d: int, P: int, *, record: bool = True) -> int:
    """Floating-point operations of one ADMM iteration (multiply-adds count 2).

    ``G^T s`` (``4ndP``), ``b M^{-1}`` (``4Pd^2``), ``X (B^{-1} b)^T`` (``4ndP``), the
    ``S`` solve (``2n^2``), ``F^T z`` (``2ndP``), the correction ``t M^{-1}`` (``2Pd^2``)
    and ``X M^{-1} t`` (``2ndP``), ``G^T G u`` (``4Pd^2``), elementwise work
    (``~ 30 nP + 20 Pd``) and, with ``record``, the objective at ``v`` (``4ndP``).
    """
    f = 4 * n * d * P + 4 * P * d * d + 4 * n * d * P + 2 * n * n + 2 * n * d * P
    f += 2 * P * d * d + 2 * n * d * P + 4 * P * d * d + 30 * n * P + 20 * P * d
    if record:
        f += 4 * n * d * P
    return int(f)


class AdmmFactor:
    r"""The pre-factored u-system :math:`(I + G^\top G + F^\top F/\rho)^{-1}` (Woodbury).

    Parameters
    ----------
    X : (n, d) array; D : (n, P) 0/1 array in the namespace of ``X``
    rho : float
        Penalty for ``method="cholesky"`` (ignored by ``"eigh"``).
    method : {"eigh", "cholesky"}
        ``"eigh"``: eigendecomposition :math:`2K\circ DD^\top = Q\,\mathrm{diag}(w)\,Q^\top`,
        so that :math:`S^{-1} = Q\,\mathrm{diag}(1/(\rho + w))\,Q^\top` for *every*
        :math:`\rho` (the penalty can then adapt for free); ``"cholesky"``: a Cholesky
        factor of :math:`S` for one fixed ``rho`` (about 10x cheaper set-up for large ``n``).

    Attributes
    ----------
    Minv : (d, d) :math:`(I + X^\top X)^{-1}`; XM : (n, d) :math:`X M^{-1}`; XtX : (d, d)
    setup_time : float
    """

    def __init__(self, X: Any, D: Any, rho: float = 1.0, method: str = "eigh", gweight: float = 1.0) -> None:
        t0 = time.perf_counter()
        xp = get_namespace(X, D)
        self.xp = xp
        self.method = check_choice(method, "method", ("eigh", "cholesky"))
        n, d = X.shape
        self.rho = float(rho)
        self.gweight = float(gweight)
        dev = getattr(X, "device", None)
        self.XtX = xp.matrix_transpose(X) @ X
        Minv = xp.linalg.inv(xp.eye(d, dtype=X.dtype, device=dev) + self.gweight * self.XtX)
        self.Minv = 0.5 * (Minv + xp.matrix_transpose(Minv))
        self.XM = X @ self.Minv
        S = self.XM @ xp.matrix_transpose(X)  # K = X M^-1 X^T
        S *= D @ xp.matrix_transpose(D)
        S *= 2.0
        self.L = self.Sinv = self.Q = self.w = None
        if self.method == "eigh":
            w, Q = xp.linalg.eigh(S)
            self.w = xp.maximum(w, 0.0)
            self.Q = Q
        else:
            S = S + self.rho * xp.eye(n, dtype=X.dtype, device=dev)
            if _has_triangular(xp):
                self.L = xp.linalg.cholesky(S)
            else:
                self.Sinv = xp.linalg.inv(S)
        del S
        self.setup_time = time.perf_counter() - t0

    def solve_u(self, b: Any, X: Any, D: Any, rho: float | None = None) -> tuple[Any, Any]:
        r"""``u = A^{-1} b`` for ``b`` of shape ``(2P, d)`` (blocks as rows), with
        :math:`A = I + c^2 G^\top G + F^\top F/\rho`, and ``X u^T`` (``(n, 2P)``, reused by
        the caller). Cost :math:`O(ndP + Pd^2 + n^2)`."""
        xp = self.xp
        P = D.shape[1]
        bb = b @ self.Minv  # B^{-1} b
        XB = X @ xp.matrix_transpose(bb)  # (n, 2P)
        f = xp.sum(D * (XB[:, :P] - XB[:, P:]), axis=1)  # F B^{-1} b
        z = self.solve_S(f, rho)
        t = xp.matrix_transpose(xp.matrix_transpose(X) @ (D * z[:, None]))  # (P, d): X^T D_i z
        tM = t @ self.Minv
        u = bb - xp.concat([tM, -tM], axis=0)
        XMt = self.XM @ xp.matrix_transpose(t)  # (n, P)
        XU = XB - xp.concat([XMt, -XMt], axis=1)
        return u, XU

    def solve_S(self, f: Any, rho: float | None = None) -> Any:
        r""":math:`S^{-1} f` (vector of length ``n``) with :math:`S = \rho I + 2K\circ DD^\top`."""
        if self.Q is not None:
            r = self.rho if rho is None else rho
            return self.Q @ ((self.xp.matrix_transpose(self.Q) @ f) / (r + self.w))
        if rho is not None and rho != self.rho:
            raise ValueError("a Cholesky factor holds one rho only; use method='eigh'")
        if self.Sinv is not None:
            return self.Sinv @ f
        z = solve_triangular(self.xp, self.L, f, lower=True)
        return solve_triangular(self.xp, self.L, z, lower=True, trans=True)


def _has_triangular(xp) -> bool:
    name = getattr(xp, "__name__", "")
    return "numpy" in name or "cupy" in name


def relu_admm(
    X: Any,
    y: Any,
    D: Any,
    beta: float,
    *,
    rho: float = 1.0,
    step: float = 1.0,
    adaptive_rho: bool = False,
    method: str = "eigh",
    gweight: float = 1.0,
    relax: float = 1.0,
    tol: float = 1e-6,
    abs_tol: float = 1e-10,
    max_iter: int = 10_000,
    x0: Any = None,
    factor: AdmmFactor | None = None,
    f_star: float | None = None,
    check_every: int = 1,
    callback: Callable[[Result], Any] | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""ADMM (Bai, Gautam & Sojoudi 2023, Algorithm 3.1) for the convex ReLU program, squared loss.

    Parameters
    ----------
    X : array, shape (n, d)
        Data (append a column of ones for a bias). Any array-API namespace.
    y : array, shape (n,)
        Targets.
    D : array, shape (n, P)
        0/1 activation patterns (:func:`~optlab.relu.enumerate_patterns` for the exact
        program, :func:`~optlab.relu.sample_patterns` for the approximate one).
    beta : float
        Weight decay :math:`\beta \ge 0`.
    rho : float
        ADMM penalty :math:`\rho > 0` (initial value when ``adaptive_rho``; default 1, see
        the module docstring).
    step : float
        Scaled dual step :math:`\gamma = \gamma_a/\rho \in (0, (1+\sqrt5)/2)` (default 1).
    adaptive_rho : bool
        Residual balancing (Boyd et al. 2011, eq. (3.13), on the relative residuals):
        every 10 iterations during the first ``max(200, max_iter // 4)``, multiply ``rho``
        by 2 when the primal residual is 10x the dual one and divide it by 2 in the
        opposite case (scaled duals rescaled). Free with ``method="eigh"``; ignored with
        ``"cholesky"``. After that window ``rho`` is fixed, so the usual convergence
        theory applies to the tail.
    method : {"eigh", "cholesky"}
        How ``S`` is factored (:class:`AdmmFactor`).
    tol, abs_tol : float
        Relative and absolute tolerances of the residual test (module docstring).
    max_iter : int
    x0 : array (2P, d), optional
        Warm start for ``u = v`` (``[V; W]``); default zeros.
    factor : AdmmFactor, optional
        Re-use a factorisation built for the same ``X, D, rho``.
    f_star : float, optional
        Known optimal value; the history then has ``gap = (f - f_star)/|f_star|``.
    check_every : int
        Compute residuals and test convergence every ``check_every`` iterations.
    callback, verbose, record
        See :class:`optlab.result.Monitor`.

    Returns
    -------
    Result
        ``x`` (``(2P, d)``, ``[V; W]``, the group-sparse iterate ``v``), ``V``, ``W``,
        ``fun`` (objective at ``v``), ``nit``, ``primal_res``, ``dual_res``,
        ``violation`` (largest cone-constraint violation at ``v``), ``setup_time``,
        ``flops_per_iter``; history ``fun``, ``primal_res``, ``dual_res`` (and ``gap``).
    """
    X, y, D, beta = check_problem(X, y, D, beta)
    xp = get_namespace(X)
    rho = check_positive(rho, "rho")
    step = check_positive(step, "step")
    tol = check_positive(tol, "tol")
    abs_tol = check_positive(abs_tol, "abs_tol")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    check_every = check_int(check_every, "check_every", minimum=1)
    n, d = X.shape
    P = D.shape[1]
    dev = getattr(X, "device", None)
    mon = Monitor("relu_admm", record=record, callback=callback, verbose=verbose)
    if factor is None:
        factor = AdmmFactor(X, D, rho, method=method, gweight=gweight)
    elif factor.method == "cholesky" and factor.rho != rho:
        raise ValueError(f"factor was built for rho={factor.rho}, got rho={rho}")
    adaptive = bool(adaptive_rho) and factor.method == "eigh"
    adapt_until = max(200, max_iter // 4)
    n_rho_changes = 0
    XtX = factor.XtX
    mon.history.restart_clock()

    Xt = xp.matrix_transpose(X)
    S2 = xp.concat([2.0 * D - 1.0, 2.0 * D - 1.0], axis=1)  # (n, 2P) signs of G
    c_half = xp.matrix_transpose(Xt @ (D * y[:, None]))  # (P, d): X^T D_i y
    c_base = xp.concat([c_half, -c_half], axis=0)
    c0 = c_base / rho

    if x0 is None:
        v = xp.zeros((2 * P, d), dtype=X.dtype, device=dev)
    else:
        v = check_array(x0, "x0", shape=(2 * P, d))
        v = xp.asarray(v, dtype=X.dtype, device=dev) if get_namespace(v) is xp else xp.asarray(
            np.asarray(v), dtype=X.dtype, device=dev)
    lam = xp.zeros((2 * P, d), dtype=X.dtype, device=dev)
    XV = X @ xp.matrix_transpose(v)
    s = xp.maximum(S2 * XV, 0.0)
    nu = xp.zeros((n, 2 * P), dtype=X.dtype, device=dev)
    c2 = factor.gweight
    gs = c2 * xp.matrix_transpose(Xt @ (S2 * s))  # c^2 G^T s, (2P, d)
    gn = xp.zeros_like(gs)  # c^2 G^T nu
    thr = beta / rho
    sqrt_pri = math.sqrt(2 * P * (d + n))
    sqrt_dual = math.sqrt(2 * P * d)

    def objective(vv):
        Vb, Wb = vv[:P, :], vv[P:, :]
        yhat = xp.sum(D * (X @ xp.matrix_transpose(Vb - Wb)), axis=1)
        r = yhat - y
        reg = xp.sum(xp.linalg.vector_norm(vv, axis=1))
        return 0.5 * float(xp.sum(r * r)) + beta * float(reg)

    def rec(k, fval, rp, rd):
        vals = {"fun": fval, "primal_res": rp, "dual_res": rd}
        if f_star is not None:
            vals["gap"] = (fval - f_star) / max(abs(f_star), 1e-300)
        mon.record(k, **vals)

    f0 = objective(v) if record else math.nan
    rec(0, f0, math.nan, math.nan)
    status, message = Status.MAX_ITER, None
    rp = rd = math.nan
    k = 0
    for k in range(1, max_iter + 1):
        # 1. u-update through Woodbury
        b = c0 + v - lam + gs - gn
        u, XU = factor.solve_u(b, X, D, rho)
        Gu = S2 * XU
        if relax != 1.0:  # over-relaxation (Boyd et al. 2011, Sec. 3.4.3)
            uh = relax * u + (1.0 - relax) * v
            Guh = relax * Gu + (1.0 - relax) * s
            gGuh = relax * c2 * (u @ XtX) + (1.0 - relax) * gs
        else:
            uh, Guh, gGuh = u, Gu, None
        # 2. block soft-thresholding
        w = uh + lam
        nw = xp.linalg.vector_norm(w, axis=1)
        shrink = xp.maximum(1.0 - thr / xp.maximum(nw, 1e-300), 0.0)
        v_new = shrink[:, None] * w
        # 3. projection
        s_new = xp.maximum(Guh + nu, 0.0)
        gs_new = c2 * xp.matrix_transpose(Xt @ (S2 * s_new))
        # 4. duals (G^T nu kept through G^T G u = u X^T X)
        ru, rs = u - v_new, Gu - s_new
        lam = lam + step * (uh - v_new)
        nu = nu + step * (Guh - s_new)
        gGuh = c2 * (u @ XtX) if gGuh is None else gGuh
        gn = gn + step * (gGuh - gs_new)
        check = (k % check_every == 0) or k == max_iter
        if check:
            rp = math.sqrt(float(xp.sum(ru * ru)) + c2 * float(xp.sum(rs * rs)))
            dd = (v_new - v) + (gs_new - gs)
            rd = rho * float(xp.linalg.vector_norm(dd))
        v, s, gs = v_new, s_new, gs_new
        fval = objective(v) if record else math.nan
        if check:
            rec(k, fval, rp, rd)
            msg = mon.nonfinite(k, primal_res=rp, dual_res=rd)
            if msg is not None:
                status, message = Status.NUMERICAL_ERROR, msg
                break
            nuG = float(xp.linalg.vector_norm(u)) ** 2 + c2 * float(xp.sum(Gu * Gu))
            nvs = float(xp.sum(v * v)) + c2 * float(xp.sum(s * s))
            eps_pri = abs_tol * sqrt_pri + tol * math.sqrt(max(nuG, nvs))
            eps_dual = abs_tol * sqrt_dual + tol * rho * float(xp.linalg.vector_norm(lam + gn))
            if rp <= eps_pri and rd <= eps_dual:
                status = Status.CONVERGED
                break
            if adaptive and k % 10 == 0 and k <= adapt_until:
                rp_rel = rp / max(math.sqrt(max(nuG, nvs)), 1e-300)
                rd_rel = rd / max(rho * float(xp.linalg.vector_norm(lam + gn)), 1e-300)
                scale = 2.0 if rp_rel > 10.0 * rd_rel else (0.5 if rd_rel > 10.0 * rp_rel else 1.0)
                if scale != 1.0:
                    rho *= scale
                    lam, nu, gn = lam / scale, nu / scale, gn / scale
                    c0 = c_base / rho
                    thr = beta / rho
                    n_rho_changes += 1
        if mon.stop_requested(v, fval, k):
            status = Status.CALLBACK
            break
    V, W = v[:P, :], v[P:, :]
    from .formulation import constraint_violation

    return mon.finish(
        x=v, fun=objective(v), nit=k, status=status, message=message, V=V, W=W,
        primal_res=rp, dual_res=rd, violation=constraint_violation(X, D, V, W),
        setup_time=factor.setup_time, flops_per_iter=iteration_flops(n, d, P, record=record),
        factor=factor, rho=rho, n_rho_changes=n_rho_changes,
    )
