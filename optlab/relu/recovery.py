r"""The two-layer ReLU network behind a convex solution, and the non-convex baseline.

From a solution :math:`(v_i, w_i)` of the convex program (:mod:`optlab.relu.formulation`),
every non-zero block gives one neuron (Pilanci & Ergen 2020, Theorem 1):

.. math::

    u = v_i/\sqrt{\|v_i\|},\ \alpha = \sqrt{\|v_i\|};\qquad
    u = w_i/\sqrt{\|w_i\|},\ \alpha = -\sqrt{\|w_i\|}.

Then :math:`(Xu)_+\alpha = D_i X v_i` whenever :math:`(2D_i - I)Xv_i \ge 0`, and
:math:`\frac\beta2(\|u\|^2 + \alpha^2) = \beta\|v_i\|`, so the network's regularised
training objective (:func:`network_objective`) equals the convex objective: with all the
patterns, the convex optimum is the global optimum of the non-convex training problem.

:func:`train_network` trains the same non-convex network directly (full-batch or
mini-batch, Adam or SGD, NumPy), the back-propagation baseline of the papers.

Examples
--------
>>> import numpy as np
>>> from optlab.relu import enumerate_patterns, solve_cvxpy, recover_network, network_objective
>>> rng = np.random.default_rng(0)
>>> X = np.c_[rng.standard_normal((12, 1)), np.ones(12)]; y = np.abs(X[:, 0])
>>> D = enumerate_patterns(X)
>>> res = solve_cvxpy(X, y, D, beta=0.1)
>>> U, a = recover_network(res.V, res.W)
>>> bool(abs(network_objective(X, y, U, a, 0.1) - res.fun) < 1e-5 * res.fun)
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optlab._backend import get_namespace, to_numpy
from optlab._validate import check_array, check_choice, check_int, check_nonnegative, check_positive
from optlab.result import Monitor, Result, Status

from .formulation import LOSSES, loss_value

__all__ = ["recover_network", "network_forward", "network_objective", "train_network"]


def recover_network(V: Any, W: Any, *, tol: float = 1e-8) -> tuple[Any, Any]:
    r"""Neurons ``(U, alpha)`` (``U`` of shape ``(m, d)``, ``alpha`` of shape ``(m,)``) from
    the blocks ``V``, ``W`` (``(P, d)`` each); blocks with norm ``<= tol * max norm`` are
    dropped (``m`` = number of kept blocks)."""
    xp = get_namespace(V, W)
    B = xp.concat([V, W], axis=0)
    P = V.shape[0]
    nrm = xp.linalg.vector_norm(B, axis=1)
    top = float(xp.max(nrm)) if B.shape[0] else 0.0
    keep = to_numpy(nrm) > tol * max(top, 1e-300)
    if top == 0.0 or not keep.any():
        return B[:0, :], nrm[:0]
    idx = xp.asarray(np.nonzero(keep)[0], device=getattr(B, "device", None))
    Bk, nk = xp.take(B, idx, axis=0), xp.take(nrm, idx)
    sign = xp.asarray(np.where(np.nonzero(keep)[0] < P, 1.0, -1.0), dtype=B.dtype,
                      device=getattr(B, "device", None))
    root = xp.sqrt(nk)
    return Bk / root[:, None], sign * root


def network_forward(X: Any, U: Any, alpha: Any) -> Any:
    r""":math:`f(X) = \sum_j (X u_j)_+ \alpha_j` (rows of ``X``)."""
    xp = get_namespace(X, U)
    return xp.maximum(X @ xp.matrix_transpose(U), 0.0) @ alpha


def network_objective(X: Any, y: Any, U: Any, alpha: Any, beta: float, loss: str = "squared") -> float:
    r"""Regularised training objective :math:`\ell(f(X), y) + \frac\beta2(\|U\|_F^2 + \|\alpha\|^2)`."""
    xp = get_namespace(X, U)
    reg = float(xp.sum(U * U)) + float(xp.sum(alpha * alpha))
    return loss_value(network_forward(X, U, alpha), y, loss) + 0.5 * float(beta) * reg


def _loss_grad(yhat, y, loss):
    if loss == "squared":
        r = yhat - y
        return 0.5 * float(r @ r), r
    m = y * yhat
    if loss == "hinge":
        act = m < 1.0
        return float(np.sum(np.maximum(1.0 - m, 0.0))), np.where(act, -y, 0.0)
    val = float(np.sum(np.logaddexp(0.0, -m)))
    return val, -y / (1.0 + np.exp(m))


def train_network(
    X: Any,
    y: Any,
    m: int,
    beta: float,
    *,
    loss: str = "squared",
    optimizer: str = "adam",
    step: float = 1e-2,
    max_iter: int = 2000,
    batch_size: int | None = None,
    init_scale: float | None = None,
    seed: int | None = 0,
    record_every: int = 10,
    X_test: Any = None,
    y_test: Any = None,
    record: bool = True,
) -> Result:
    r"""Train the non-convex two-layer ReLU network directly (back-propagation baseline).

    Minimises :math:`\ell(\sum_j (Xu_j)_+\alpha_j, y) + \frac\beta2\sum_j(\|u_j\|^2+\alpha_j^2)`
    by Adam (Kingma & Ba 2015, defaults :math:`\beta_1 = 0.9, \beta_2 = 0.999`) or plain
    SGD, full batch (``batch_size=None``) or on mini-batches (the loss term then rescaled by
    ``n / batch_size``), from a Gaussian initialisation (He scaling by default). NumPy only.

    Returns
    -------
    Result
        ``x`` = ``(U, alpha)``, ``U``, ``alpha``, ``fun`` (final full objective) and the
        best objective seen ``best_fun``; history ``fun`` (and ``train_acc`` / ``test_acc``
        for ``+-1`` labels) every ``record_every`` iterations.
    """
    Xn = to_numpy(check_array(X, "X", ndim=2))
    yn = to_numpy(check_array(y, "y", shape=(Xn.shape[0],)))
    m = check_int(m, "m", minimum=1)
    beta = check_nonnegative(beta, "beta")
    check_choice(loss, "loss", LOSSES)
    check_choice(optimizer, "optimizer", ("adam", "sgd"))
    step = check_positive(step, "step")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    n, d = Xn.shape
    rng = np.random.default_rng(seed)
    sc = math.sqrt(2.0 / d) if init_scale is None else float(init_scale)
    U = rng.standard_normal((m, d)) * sc
    a = rng.standard_normal(m) / math.sqrt(m)
    mon = Monitor("relu.train_network", record=record)
    state = [np.zeros_like(U), np.zeros_like(a), np.zeros_like(U), np.zeros_like(a)]
    b1, b2, eps = 0.9, 0.999, 1e-8
    cls = loss != "squared" or np.all(np.abs(yn) == 1)
    Xt = None if X_test is None else to_numpy(X_test)
    yt = None if y_test is None else to_numpy(y_test)

    def full_obj(U, a):
        yhat = np.maximum(Xn @ U.T, 0.0) @ a
        val, _ = _loss_grad(yhat, yn, loss)
        return val + 0.5 * beta * (float(np.sum(U * U)) + float(a @ a)), yhat

    def rec(k):
        f, yhat = full_obj(U, a)
        vals = {"fun": f}
        if cls:
            vals["train_acc"] = float(np.mean(np.sign(yhat) == yn))
            if Xt is not None:
                vals["test_acc"] = float(np.mean(np.sign(np.maximum(Xt @ U.T, 0.0) @ a) == yt))
        mon.record(k, **vals)
        return f

    best = rec(0)
    status = Status.MAX_ITER
    k = 0
    for k in range(1, max_iter + 1):
        if batch_size is None or batch_size >= n:
            Xb, yb, scale = Xn, yn, 1.0
        else:
            idx = rng.integers(0, n, size=batch_size)
            Xb, yb, scale = Xn[idx], yn[idx], n / batch_size
        Z = Xb @ U.T
        H = np.maximum(Z, 0.0)
        yhat = H @ a
        _, g = _loss_grad(yhat, yb, loss)
        g = g * scale
        ga = H.T @ g + beta * a
        gU = ((g[:, None] * (Z > 0)) * a[None, :]).T @ Xb + beta * U
        if optimizer == "adam":
            state[0] = b1 * state[0] + (1 - b1) * gU
            state[1] = b1 * state[1] + (1 - b1) * ga
            state[2] = b2 * state[2] + (1 - b2) * gU * gU
            state[3] = b2 * state[3] + (1 - b2) * ga * ga
            c1, c2 = 1 - b1 ** k, 1 - b2 ** k
            U = U - step * (state[0] / c1) / (np.sqrt(state[2] / c2) + eps)
            a = a - step * (state[1] / c1) / (np.sqrt(state[3] / c2) + eps)
        else:
            U = U - step * gU
            a = a - step * ga
        if not (np.all(np.isfinite(U)) and np.all(np.isfinite(a))):
            status = Status.NUMERICAL_ERROR
            break
        if k % record_every == 0 or k == max_iter:
            best = min(best, rec(k))
    fun, _ = full_obj(U, a)
    msg = None if status != Status.NUMERICAL_ERROR else f"relu.train_network: non-finite weights at iteration {k}"
    return mon.finish(x=(U, a), fun=fun, nit=k, status=status, message=msg, U=U, alpha=a,
                      best_fun=min(best, fun))
