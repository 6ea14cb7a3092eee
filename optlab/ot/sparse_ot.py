r"""Sparsity-constrained optimal transport through its semi-dual (Liu, Puigcerver & Blondel, 2023)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from optlab._backend import to_numpy
from optlab._validate import check_int, check_nonnegative
from optlab.ot._common import validate_ot
from optlab.result import Monitor, Result, Status

__all__ = ["sparse_ot", "topk_simplex_max"]


def topk_simplex_max(S: np.ndarray, b: np.ndarray, k: int, reg: float):
    r"""Column-wise :math:`\max_{t \in b_j\Delta^n,\ \|t\|_0 \le k} \langle s_j, t\rangle -
    \frac{\mathrm{reg}}2\|t\|^2`, its maximizer and threshold.

    The maximizer keeps the ``k`` largest entries of :math:`s_j` and projects
    :math:`s_j/\mathrm{reg}` restricted to them onto the simplex of mass :math:`b_j`
    (Kyrillidis et al., 2013, *Sparse projections onto the simplex*, Theorem 1; used by Liu
    et al., 2023, Proposition 2): :math:`t_{ij} = \max(s_{ij}/\mathrm{reg} - \tau_j, 0)` on
    the kept rows.

    Returns ``(values (m,), T (n, m) dense with <= k nonzeros per column, tau (m,))``.
    """
    n, m = S.shape
    k = min(int(k), n)
    if k < n:
        idx = np.argpartition(-S, k - 1, axis=0)[:k]  # (k, m) rows of the k largest
    else:
        idx = np.broadcast_to(np.arange(n)[:, None], (n, m))
    Z = np.take_along_axis(S, idx, axis=0) / reg  # (k, m)
    Zs = -np.sort(-Z, axis=0)
    css = np.cumsum(Zs, axis=0) - b[None, :]
    ar = np.arange(1, k + 1)[:, None]
    cond = Zs - css / ar > 0
    rho = k - np.argmax(cond[::-1], axis=0)  # last index where cond holds (1-based)
    tau = css[rho - 1, np.arange(m)] / rho
    Tk = np.maximum(Z - tau[None, :], 0.0)
    T = np.zeros((n, m))
    np.put_along_axis(T, idx, Tk, axis=0)
    vals = (Tk * Z).sum(0) * reg - 0.5 * reg * (Tk * Tk).sum(0)
    return vals, T, tau


def sparse_ot(
    a: Any,
    b: Any,
    M: Any,
    reg: float,
    k: int,
    *,
    tol: float = 1e-9,
    max_iter: int = 10_000,
    memory: int = 20,
    polish: int = 20,
    callback: Callable[[Result], Any] | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Sparsity-constrained optimal transport (at most ``k`` nonzeros per column).

    Solves (Liu, Puigcerver & Blondel, 2023, eq. (5) with the squared 2-norm regularizer)

    .. math::

        \min_{T \ge 0,\ T1 = a,\ T^\top 1 = b,\ \|t_j\|_0 \le k\ \forall j}\
            \langle T, M\rangle + \frac{\mathrm{reg}}2 \|T\|_F^2

    through its semi-dual, a concave maximization over :math:`\alpha \in \mathbb R^n`,

    .. math::

        \max_\alpha\ \langle \alpha, a\rangle - \sum_j \max_{t \in b_j\Delta^n,
        \|t\|_0 \le k} \langle \alpha - m_j, t\rangle - \frac{\mathrm{reg}}2\|t\|^2,

    whose inner maxima have the closed form of :func:`topk_simplex_max` and whose gradient is
    :math:`a - T(\alpha)1` (Danskin). The semi-dual is maximized with scipy's L-BFGS-B
    (``memory`` pairs); the plan :math:`T(\alpha)` has exactly the column marginals ``b``
    and at most ``k`` nonzeros per column, and the run stops when the row marginal error
    :math:`\|T1 - a\|_1 \le` ``tol``.

    The semi-dual is smooth for ``k = n`` (quadratically regularized OT, Blondel, Seguy &
    Rolet, 2018) and its smoothness decreases with ``k``; ``k = 1`` gives the semi-dual of
    unregularized OT, whose maximum is the LP value up to the constant
    :math:`\frac{\mathrm{reg}}2\sum_j b_j^2` (Liu et al., Section 3: "unregularized OT
    (recovered in the limit case k = 1)"). The paper states no rate.

    Parameters
    ----------
    a, b, M
        As in :func:`optlab.ot.sinkhorn` (NumPy only; other namespaces are converted).
    reg : float
        Weight of :math:`\frac12\|T\|_F^2` (> 0).
    k : int
        Maximum number of nonzeros per column (1 <= k; k >= n means no constraint).
    tol : float
        Stopping tolerance on :math:`\|T1 - a\|_1`.
    max_iter : int
        L-BFGS iterations.
    memory : int
        L-BFGS memory.
    polish : int
        When L-BFGS stops above ``tol`` (its line search cannot resolve the decrease of the
        objective below rounding), up to ``polish`` semismooth Newton steps on the
        piecewise-quadratic semi-dual (generalized Hessian
        :math:`\frac1{\mathrm{reg}}\sum_j (\mathrm{diag}(1_{S_j}) - 1_{S_j}1_{S_j}^\top/|S_j|)`,
        :math:`S_j` the support of column ``j``; a minimum-norm least-squares solve, O(n^2 m)),
        accepted while the marginal error decreases (not in the paper).
    callback, verbose, record
        See :class:`optlab.result.Monitor` (the callback receives ``x = alpha``).

    Returns
    -------
    Result
        ``x = alpha``; ``plan``; ``potentials = (alpha, beta)`` with
        :math:`\beta_j = -\mathrm{reg}\,\tau_j` (so :math:`t_{ij} = (\alpha_i + \beta_j -
        M_{ij})_+/\mathrm{reg}` on the kept rows); ``cost = <T, M>``; ``fun`` = the primal
        objective; ``dual`` = the semi-dual value; ``nnz_per_column``; ``nfev``; history of
        ``marginal_error`` and ``potential`` (the semi-dual value).

    References
    ----------
    .. [LPB23] T. Liu, J. Puigcerver, M. Blondel, "Sparsity-constrained optimal transport",
       ICLR 2023, arXiv:2209.15466.

    Examples
    --------
    >>> import numpy as np
    >>> from optlab.ot import sparse_ot
    >>> rng = np.random.default_rng(0)
    >>> M = rng.random((6, 5)); a = np.full(6, 1 / 6); b = np.full(5, 1 / 5)
    >>> res = sparse_ot(a, b, M, reg=0.1, k=3, tol=1e-8)
    >>> bool((np.count_nonzero(res.plan, axis=0) <= 3).all()), res.marginal_error < 1e-6
    (True, True)
    """
    from scipy.optimize import minimize

    xp, a, b, M, reg = validate_ot(a, b, M, reg)
    k = check_int(k, "k", minimum=1)
    tol = check_nonnegative(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    memory = check_int(memory, "memory", minimum=1)
    polish = check_int(polish, "polish", minimum=0)
    a, b, M = to_numpy(a).astype(float), to_numpy(b).astype(float), to_numpy(M).astype(float)
    n, m = M.shape
    mon = Monitor("sparse_ot", record=record, callback=callback, verbose=verbose)
    state: dict[str, Any] = {"nfev": 0}

    def fg(alpha):
        vals, T, tau = topk_simplex_max(alpha[:, None] - M, b, k, reg)
        state["nfev"] += 1
        state["last"] = (alpha.copy(), T, tau, vals)
        dual = float(alpha @ a - vals.sum())
        return -dual, T.sum(1) - a

    def metrics(alpha):
        f, g = fg(alpha)
        return float(np.abs(g).sum()), -f

    alpha0 = np.zeros(n)
    err, dual = metrics(alpha0)
    mon.record(0, marginal_error=err, potential=dual)
    it = [0]
    stop = {"status": None, "message": None}

    class _Stop(Exception):
        pass

    def cb(xk):
        it[0] += 1
        e, d = metrics(xk)
        mon.record(it[0], marginal_error=e, potential=d)
        if not (math.isfinite(e) and math.isfinite(d)):
            stop["status"], stop["message"] = Status.NUMERICAL_ERROR, f"sparse_ot: non-finite value at iteration {it[0]}"
            raise _Stop
        if e <= tol:
            stop["status"] = Status.CONVERGED
            raise _Stop
        if mon.stop_requested(xk, -d, it[0]):
            stop["status"] = Status.CALLBACK
            raise _Stop

    alpha = alpha0
    if err > tol:
        try:
            res = minimize(fg, alpha0, jac=True, method="L-BFGS-B", callback=cb,
                           options={"maxiter": max_iter, "maxcor": memory, "gtol": 0.0, "ftol": 0.0,
                                    "maxfun": 20 * max_iter})
            alpha = res.x
            if stop["status"] is None:
                stop["status"] = Status.MAX_ITER if res.nit >= max_iter else Status.STAGNATION
                stop["message"] = (
                    f"L-BFGS-B stopped at iteration {res.nit}: {res.message}; row marginal error "
                    f"{float(np.abs(res.jac).sum()):.3e} > tol {tol:g} (for 1 < k below the support "
                    "size of the unconstrained plan the primal is nonconvex and the semi-dual "
                    "maximizer may give a plan that misses the row marginals: a duality gap)")
        except _Stop:
            alpha = state["last"][0]
    else:
        stop["status"] = Status.CONVERGED
    if stop["status"] in (Status.STAGNATION, Status.MAX_ITER) and polish > 0:
        alpha, ok = _newton_polish(alpha, a, b, M, k, reg, tol, polish, mon, it)
        if ok:
            stop["status"], stop["message"] = Status.CONVERGED, None
    vals, T, tau = topk_simplex_max(alpha[:, None] - M, b, k, reg)
    err = float(np.abs(T.sum(1) - a).sum() + np.abs(T.sum(0) - b).sum())
    cost = float((T * M).sum())
    return mon.finish(
        x=alpha, fun=cost + 0.5 * reg * float((T * T).sum()), nit=it[0], status=stop["status"],
        message=stop["message"], plan=T, potentials=(alpha, -reg * tau), cost=cost,
        dual=float(alpha @ a - vals.sum()), marginal_error=err,
        nnz_per_column=np.count_nonzero(T, axis=0), nfev=state["nfev"],
    )


def _newton_polish(alpha, a, b, M, k, reg, tol, n_steps, mon, it):
    """Semismooth Newton steps on the semi-dual; returns ``(alpha, converged)``."""
    def err_of(al):
        _, T, _ = topk_simplex_max(al[:, None] - M, b, k, reg)
        return T, float(np.abs(T.sum(1) - a).sum())

    T, err = err_of(alpha)
    for _ in range(n_steps):
        if err <= tol:
            return alpha, True
        Z = (T > 0).astype(float)
        size = np.maximum(Z.sum(0), 1.0)
        H = (np.diag(Z.sum(1)) - (Z / size) @ Z.T) / reg
        g = T.sum(1) - a
        d = -np.linalg.lstsq(H, g, rcond=None)[0]
        t = 1.0
        for _ in range(30):
            T_new, e_new = err_of(alpha + t * d)
            if e_new < err:
                break
            t *= 0.5
        else:
            return alpha, False
        alpha, T, err = alpha + t * d, T_new, e_new
        it[0] += 1
        dual = float(alpha @ a - topk_simplex_max(alpha[:, None] - M, b, k, reg)[0].sum())
        mon.record(it[0], marginal_error=err, potential=dual)
    return alpha, err <= tol
