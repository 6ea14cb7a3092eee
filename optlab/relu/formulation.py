r"""The convex program equivalent to training a two-layer ReLU network with weight decay.

Non-convex problem (``m`` hidden neurons, first-layer weights :math:`u_j`, output weights
:math:`\alpha_j`, loss :math:`\ell`):

.. math::

    \min_{u_j, \alpha_j}\ \ell\Big(\sum_{j=1}^m (X u_j)_+ \alpha_j,\ y\Big)
        + \frac{\beta}{2} \sum_{j=1}^m \big(\|u_j\|_2^2 + \alpha_j^2\big).

Convex program over the activation patterns :math:`D_1, \dots, D_P`
(:mod:`optlab.relu.arrangements`), Pilanci & Ergen (2020), Theorem 1 (eq. (8)):

.. math::

    \min_{v_i, w_i}\ \ell\Big(\sum_{i=1}^P D_i X (v_i - w_i),\ y\Big)
        + \beta \sum_{i=1}^P \big(\|v_i\|_2 + \|w_i\|_2\big)
    \quad \text{s.t.}\ (2D_i - I) X v_i \ge 0,\ (2D_i - I) X w_i \ge 0.

With all the patterns of the arrangement and :math:`m \ge m^*` (the number of non-zero
blocks of a solution), the two optimal values are equal and a solution of the convex
program gives a global minimiser of the non-convex one (:mod:`optlab.relu.recovery`).
With ``P`` sampled patterns the convex optimum is an upper bound on the non-convex one.

Losses: ``"squared"`` :math:`\frac12\|\hat y - y\|^2`, ``"hinge"``
:math:`\sum_k (1 - y_k \hat y_k)_+` and ``"logistic"``
:math:`\sum_k \log(1 + e^{-y_k \hat y_k})` (labels :math:`\pm 1` for the last two).

Layout: the blocks are stored as rows, ``V`` and ``W`` of shape ``(P, d)``, and the
patterns as the columns of a 0/1 array ``D`` of shape ``(n, P)``.

:func:`solve_cvxpy` is the independent reference (CVXPY with Clarabel), used by the
tests and benchmarks.

References
----------
.. [1] M. Pilanci, T. Ergen, ICML 2020 (see :mod:`optlab.relu.arrangements`).
.. [2] Y. Bai, T. Gautam, S. Sojoudi, SIAM J. Math. Data Sci. 2023, arXiv:2201.01965.

Examples
--------
>>> import numpy as np
>>> from optlab.relu import sample_patterns, solve_cvxpy, convex_objective
>>> rng = np.random.default_rng(0)
>>> X = np.c_[rng.standard_normal((20, 2)), np.ones(20)]; y = np.sin(X[:, 0])
>>> D = sample_patterns(X, 10, seed=0)
>>> res = solve_cvxpy(X, y, D, beta=0.1)
>>> bool(abs(convex_objective(X, y, D, res.V, res.W, 0.1) - res.fun) < 1e-6)
True
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from optlab._backend import get_namespace, to_numpy
from optlab._validate import check_array, check_choice, check_nonnegative
from optlab.result import Monitor, Result, Status

__all__ = [
    "LOSSES",
    "check_problem",
    "convex_predict",
    "convex_objective",
    "loss_value",
    "constraint_violation",
    "solve_cvxpy",
]

LOSSES = ("squared", "hinge", "logistic")


def check_problem(X: Any, y: Any, D: Any, beta: Any = 0.0, *, loss: str = "squared"):
    """Validate ``(X, y, D, beta, loss)`` and return them (``D`` in the namespace of ``X``).

    Raises ``ValueError`` naming the argument for shape mismatches, NaN/inf, a ``D`` that
    is not 0/1, ``beta < 0``, and labels other than ``-1/+1`` for the hinge and logistic
    losses.
    """
    X = check_array(X, "X", ndim=2)
    xp = get_namespace(X)
    n, _ = X.shape
    y = check_array(y, "y", ndim=1)
    if y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) to match X {tuple(X.shape)}, got {tuple(y.shape)}")
    y = _to_ns(xp, y, X)
    Dn = to_numpy(check_array(D, "D", ndim=2))
    if Dn.shape[0] != n:
        raise ValueError(f"D must have {n} rows (one per sample of X), got shape {Dn.shape}")
    if not np.all((Dn == 0) | (Dn == 1)):
        raise ValueError("D must hold 0/1 activation patterns")
    D = xp.asarray(Dn, dtype=X.dtype, device=_device(X))
    beta = check_nonnegative(beta, "beta")
    check_choice(loss, "loss", LOSSES)
    if loss != "squared":
        yn = to_numpy(y)
        if not np.all(np.abs(yn) == 1):
            raise ValueError(f"y must hold labels -1/+1 for loss={loss!r}, got values {np.unique(yn)[:5]}")
    return X, y, D, beta


def _device(a):
    return getattr(a, "device", None)


def _to_ns(xp, a, like):
    if get_namespace(a) is xp:
        return xp.astype(a, like.dtype) if a.dtype != like.dtype else a
    return xp.asarray(to_numpy(a), dtype=like.dtype, device=_device(like))


def convex_predict(X: Any, D: Any, V: Any, W: Any) -> Any:
    r""":math:`\hat y = \sum_i D_i X (v_i - w_i)` (the convex model's output on the
    training rows; on new rows use the recovered network, :mod:`optlab.relu.recovery`)."""
    xp = get_namespace(X, V)
    XU = X @ xp.matrix_transpose(V - W)  # (n, P)
    return xp.sum(D * XU, axis=1)


def loss_value(yhat: Any, y: Any, loss: str = "squared") -> float:
    """Loss of predictions ``yhat`` against ``y`` (host float)."""
    xp = get_namespace(yhat)
    if loss == "squared":
        r = yhat - y
        return 0.5 * float(xp.sum(r * r))
    m = y * yhat
    if loss == "hinge":
        return float(xp.sum(xp.maximum(1.0 - m, 0.0)))
    if loss == "logistic":
        return float(xp.sum(xp.logaddexp(xp.zeros_like(m), -m)))
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def convex_objective(X: Any, y: Any, D: Any, V: Any, W: Any, beta: float, loss: str = "squared") -> float:
    r"""Objective of the convex program at ``(V, W)`` (constraints not checked):
    :math:`\ell(\sum_i D_i X (v_i - w_i), y) + \beta \sum_i (\|v_i\| + \|w_i\|)`."""
    xp = get_namespace(X, V)
    yhat = convex_predict(X, D, V, W)
    reg = float(xp.sum(xp.linalg.vector_norm(V, axis=1)) + xp.sum(xp.linalg.vector_norm(W, axis=1)))
    return loss_value(yhat, y, loss) + float(beta) * reg


def constraint_violation(X: Any, D: Any, V: Any, W: Any) -> float:
    r"""Largest violation :math:`\max(0, -[(2D_i - I) X v_i]_k)` over ``i, k`` and both
    ``V`` and ``W`` (absolute, host float)."""
    xp = get_namespace(X, V)
    S = 2.0 * D - 1.0
    viol = 0.0
    for B in (V, W):
        G = S * (X @ xp.matrix_transpose(B))
        viol = max(viol, float(xp.max(xp.maximum(-G, 0.0))))
    return viol


# ------------------------------------------------------------------------------ cvxpy model


def build_cvxpy(Xn, yn, Dn, beta, loss="squared", *, epsilon=0.0, bias=False):
    """The CVXPY problem and its variables ``(prob, V, W)`` (NumPy data; ``V, W`` are
    ``d x P`` variables, columns are blocks). ``epsilon > 0`` gives the robust program of
    :mod:`optlab.relu.adversarial` (the last column is not perturbed when ``bias``)."""
    import cvxpy as cp

    n, d = Xn.shape
    P = Dn.shape[1]
    V = cp.Variable((d, P))
    W = cp.Variable((d, P))
    S = 2.0 * Dn - 1.0
    XV, XW = Xn @ V, Xn @ W
    yhat = cp.sum(cp.multiply(Dn, XV - XW), axis=1)
    reg = cp.sum(cp.norm(V, 2, axis=0)) + cp.sum(cp.norm(W, 2, axis=0))
    if epsilon > 0:
        free = slice(0, d - 1) if bias else slice(0, d)
        l1V = cp.norm(V[free, :], 1, axis=0)  # (P,)
        l1W = cp.norm(W[free, :], 1, axis=0)
        ones = np.ones((n, 1))
        cons = [cp.multiply(S, XV) >= epsilon * (ones @ cp.reshape(l1V, (1, P), order="C")),
                cp.multiply(S, XW) >= epsilon * (ones @ cp.reshape(l1W, (1, P), order="C"))]
        A = Dn @ (V - W).T  # (n, d): a_k = sum_i d_ik (v_i - w_i)
        pert = epsilon * cp.norm(A[:, free], 1, axis=1)
        if loss == "squared":
            data = 0.5 * cp.sum_squares(cp.abs(yhat - yn) + pert)
        elif loss == "hinge":
            data = cp.sum(cp.pos(1.0 - cp.multiply(yn, yhat) + pert))
        else:
            data = cp.sum(cp.logistic(-cp.multiply(yn, yhat) + pert))
    else:
        cons = [cp.multiply(S, XV) >= 0, cp.multiply(S, XW) >= 0]
        if loss == "squared":
            data = 0.5 * cp.sum_squares(yhat - yn)
        elif loss == "hinge":
            data = cp.sum(cp.pos(1.0 - cp.multiply(yn, yhat)))
        else:
            data = cp.sum(cp.logistic(-cp.multiply(yn, yhat)))
    prob = cp.Problem(cp.Minimize(data + beta * reg), cons)
    return prob, V, W


def solve_cvxpy(
    X: Any,
    y: Any,
    D: Any,
    beta: float,
    *,
    loss: str = "squared",
    solver: str = "CLARABEL",
    tol: float | None = None,
    verbose: int = 0,
    **solver_options: Any,
) -> Result:
    r"""Solve the convex program with CVXPY (Clarabel by default): the reference.

    Parameters
    ----------
    X : array (n, d); y : array (n,); D : 0/1 array (n, P)
    beta : float
        Weight-decay parameter :math:`\beta \ge 0`.
    loss : {"squared", "hinge", "logistic"}
    solver : str
        A CVXPY solver name (``"CLARABEL"``; ``"ECOS"``/``"SCS"`` where installed).
    tol : float, optional
        Clarabel's ``tol_gap_abs``/``tol_gap_rel``/``tol_feas`` (default: Clarabel's 1e-8).

    Returns
    -------
    Result
        ``x`` = ``[V; W]`` stacked ``(2P, d)``, ``V``, ``W`` (``(P, d)``, the input's
        namespace), ``fun`` (the objective recomputed at ``(V, W)``), ``solver_fun`` (the
        solver's own value), ``solve_time``, ``setup_time``, ``violation``.
    """
    X, y, D, beta = check_problem(X, y, D, beta, loss=loss)
    return _solve_cvxpy_checked(X, y, D, beta, loss=loss, solver=solver, tol=tol, verbose=verbose,
                                epsilon=0.0, bias=False, **solver_options)


def _solve_cvxpy_checked(X, y, D, beta, *, loss, solver, tol, verbose, epsilon, bias, **solver_options):
    import cvxpy as cp

    xp = get_namespace(X)
    Xn, yn, Dn = to_numpy(X), to_numpy(y), to_numpy(D)
    mon = Monitor("relu.cvxpy", verbose=verbose)
    t0 = time.perf_counter()
    prob, Vv, Wv = build_cvxpy(Xn, yn, Dn, beta, loss, epsilon=epsilon, bias=bias)
    opts = dict(solver_options)
    if tol is not None and solver.upper() == "CLARABEL":
        opts.update(tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol)
    try:
        prob.solve(solver=solver, verbose=verbose > 1, **opts)
    except cp.error.SolverError as exc:
        return mon.finish(x=None, fun=math.nan, nit=0, status=Status.NUMERICAL_ERROR,
                          message=f"relu.cvxpy: solver {solver} failed: {exc}")
    wall = time.perf_counter() - t0
    st = prob.status
    if Vv.value is None:
        return mon.finish(x=None, fun=math.nan, nit=0, status=Status.NUMERICAL_ERROR,
                          message=f"relu.cvxpy: solver status {st}")
    Vn, Wn = np.asarray(Vv.value).T.copy(), np.asarray(Wv.value).T.copy()
    V = xp.asarray(Vn, dtype=X.dtype, device=_device(X))
    W = xp.asarray(Wn, dtype=X.dtype, device=_device(X))
    stats = prob.solver_stats
    nit = int(stats.num_iters or 0) if stats is not None else 0
    if epsilon > 0:
        from .adversarial import robust_objective

        fun = robust_objective(X, y, D, V, W, beta, epsilon, loss=loss, bias=bias)
    else:
        fun = convex_objective(X, y, D, V, W, beta, loss)
    status = Status.CONVERGED if st == cp.OPTIMAL else Status.STAGNATION
    return mon.finish(
        x=xp.concat([V, W], axis=0), fun=fun, nit=nit, status=status,
        message=f"relu.cvxpy ({solver}): {st}", V=V, W=W, solver_fun=float(prob.value),
        solve_time=float(stats.solve_time) if stats is not None and stats.solve_time else wall,
        setup_time=float(stats.setup_time) if stats is not None and stats.setup_time else 0.0,
        wall_time=wall, violation=constraint_violation(X, D, V, W),
    )
