r"""The "sampled convex programs" (SCP) method: an unconstrained convex formulation on sampled
first-layer directions (Bai, Gautam & Sojoudi 2023, Sec. 3.3; reconstruction, see below).

The training problem's dual has one constraint per first-layer direction,
:math:`|\lambda^\top (X h)_+| \le \beta` for all :math:`\|h\|_2 \le 1`. Sampling ``N``
directions :math:`h_j` uniformly on the sphere keeps ``N`` of them; the primal of that
sampled program is the unconstrained random-feature lasso

.. math::

    \min_{a \in \mathbb{R}^N}\ \ell\Big(\sum_{j=1}^N (X h_j)_+ a_j,\ y\Big) + \beta \|a\|_1 ,

i.e. the non-convex network restricted to neurons :math:`u_j = \sqrt{|a_j|}\,h_j`,
:math:`\alpha_j = \mathrm{sign}(a_j)\sqrt{|a_j|}` (same objective, so its optimum is an upper
bound on the non-convex one and decreases to it as ``N`` grows). Scenario theory
(Calafiore & Campi 2006, Theorem 1) bounds the probability that the sampled dual solution
violates an unsampled constraint: with :math:`\zeta = n` dual variables, with confidence
:math:`1 - \xi`, :math:`\Pr_h(|\lambda_N^\top (Xh)_+| > \beta) \le \psi` where
:math:`\sum_{i<\zeta}\binom{N}{i}\psi^i(1-\psi)^{N-i} = \xi` (:func:`scenario_bound`).
For the squared loss :math:`\lambda_N = y - \hat y` (:func:`dual_violation` estimates the
violation probability by Monte Carlo).

The paper's own statement of SCP was not retrieved (``../shared/papers/anchor_relu_bilevel.md``
A4): this is the reading from the abstract ("solves unconstrained convex formulations").
Solver: FISTA (Beck & Teboulle 2009, Theorem 4.4: :math:`F(a_k) - F^* \le 2L\|a_0 - a^*\|^2/(k+1)^2`)
with step :math:`1/L`, :math:`L = \|\Phi\|_2^2`, squared loss.

Examples
--------
>>> import numpy as np
>>> from optlab.relu import relu_scp
>>> rng = np.random.default_rng(0)
>>> X = np.c_[rng.standard_normal((40, 2)), np.ones(40)]; y = np.abs(X[:, 0])
>>> res = relu_scp(X, y, 50, beta=0.1, seed=0, tol=1e-6, max_iter=20000)
>>> res.success, res.H.shape
(True, (3, 50))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optlab._backend import get_namespace, to_numpy
from optlab._validate import check_array, check_int, check_nonnegative, check_positive
from optlab.result import Monitor, Result, Status

__all__ = ["relu_scp", "scp_features", "scenario_bound", "dual_violation"]


def scp_features(X: Any, H: Any) -> Any:
    r"""Random ReLU features :math:`\Phi = (X H)_+` (``(n, N)``)."""
    xp = get_namespace(X)
    return xp.maximum(X @ H, 0.0)


def relu_scp(
    X: Any,
    y: Any,
    N: int,
    beta: float,
    *,
    seed: int | None = 0,
    H: Any = None,
    tol: float = 1e-8,
    max_iter: int = 5000,
    callback=None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Sampled convex program (random-feature lasso, squared loss) solved by FISTA.

    Parameters
    ----------
    X : (n, d) array; y : (n,) array
    N : int
        Number of sampled directions (``N >= 1``).
    beta : float
        Weight decay (``>= 0``).
    seed : int or None
        Seed of the directions (ignored when ``H`` is given).
    H : (d, N) array, optional
        Directions to use (columns normalised to unit norm).
    tol : float
        Stop when the minimum-norm subgradient of the objective, divided by
        ``max(1, ||Phi^T y||_inf)``, is at most ``tol``.

    Returns
    -------
    Result
        ``x`` = ``a`` (``(N,)``), ``H`` (``(d, N)``), ``fun``, ``U``, ``alpha`` (the
        equivalent network); history ``fun`` and ``opt`` (the scaled subgradient norm).
    """
    X = check_array(X, "X", ndim=2)
    xp = get_namespace(X)
    n, d = X.shape
    y = check_array(y, "y", ndim=1)
    if y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) to match X {tuple(X.shape)}, got {tuple(y.shape)}")
    N = check_int(N, "N", minimum=1)
    beta = check_nonnegative(beta, "beta")
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    dev = getattr(X, "device", None)
    if H is None:
        Hn = np.random.default_rng(seed).standard_normal((d, N))
    else:
        Hn = to_numpy(check_array(H, "H", shape=(d, None)))
        N = Hn.shape[1]
    Hn = Hn / np.linalg.norm(Hn, axis=0, keepdims=True)
    Hx = xp.asarray(Hn, dtype=X.dtype, device=dev)
    if get_namespace(y) is not xp:
        y = xp.asarray(to_numpy(y), dtype=X.dtype, device=dev)
    Phi = scp_features(X, Hx)
    L = float(np.linalg.norm(to_numpy(Phi), 2)) ** 2
    L = max(L, 1e-300)
    mon = Monitor("relu_scp", record=record, callback=callback, verbose=verbose)
    a = xp.zeros(N, dtype=X.dtype, device=dev)
    z, t = a, 1.0
    scale = max(1.0, float(xp.max(xp.abs(xp.matrix_transpose(Phi) @ y))))

    def F(a):
        r = Phi @ a - y
        return 0.5 * float(xp.sum(r * r)) + beta * float(xp.sum(xp.abs(a)))

    def opt_measure(a):
        g = xp.matrix_transpose(Phi) @ (Phi @ a - y)
        nz = xp.abs(a) > 0
        sub = xp.where(nz, g + beta * xp.sign(a), xp.sign(g) * xp.maximum(xp.abs(g) - beta, 0.0))
        return float(xp.linalg.vector_norm(sub)) / scale

    mon.record(0, fun=F(a), opt=opt_measure(a))
    status = Status.MAX_ITER
    k = 0
    for k in range(1, max_iter + 1):
        g = xp.matrix_transpose(Phi) @ (Phi @ z - y)
        w = z - g / L
        a_new = xp.sign(w) * xp.maximum(xp.abs(w) - beta / L, 0.0)
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        z = a_new + ((t - 1.0) / t_new) * (a_new - a)
        a, t = a_new, t_new
        if k % 10 == 0 or k == max_iter:
            fa, om = F(a), opt_measure(a)
            mon.record(k, fun=fa, opt=om)
            msg = mon.nonfinite(k, fun=fa)
            if msg is not None:
                return mon.finish(x=a, fun=fa, nit=k, status=Status.NUMERICAL_ERROR, message=msg, H=Hx)
            if om <= tol:
                status = Status.CONVERGED
                break
            if mon.stop_requested(a, fa, k):
                status = Status.CALLBACK
                break
    root = xp.sqrt(xp.abs(a))
    U = xp.matrix_transpose(Hx) * root[:, None]
    return mon.finish(x=a, fun=F(a), nit=k, status=status, H=Hx, U=U, alpha=xp.sign(a) * root,
                      L=L, n_active=int(xp.sum(xp.abs(a) > 0)))


def scenario_bound(N: int, zeta: int, xi: float) -> float:
    r"""Calafiore & Campi (2006) violation level :math:`\psi`: the smallest :math:`\psi` with
    :math:`\sum_{i=0}^{\zeta-1}\binom{N}{i}\psi^i(1-\psi)^{N-i} \le \xi` (1.0 when
    ``N < zeta``)."""
    from scipy.optimize import brentq
    from scipy.stats import binom

    N = check_int(N, "N", minimum=1)
    zeta = check_int(zeta, "zeta", minimum=1)
    xi = check_positive(xi, "xi")
    if N <= zeta:
        return 1.0
    return float(brentq(lambda p: binom.cdf(zeta - 1, N, p) - xi, 1e-15, 1.0 - 1e-15, xtol=1e-14))


def dual_violation(X: Any, lam: Any, beta: float, *, n_samples: int = 100_000, seed: int = 1) -> float:
    r"""Monte Carlo estimate of :math:`\Pr_{h \sim \text{sphere}}(|\lambda^\top (Xh)_+| > \beta)`."""
    Xn = to_numpy(X)
    ln = to_numpy(lam)
    rng = np.random.default_rng(seed)
    cnt, done = 0, 0
    while done < n_samples:
        m = min(20_000, n_samples - done)
        H = rng.standard_normal((Xn.shape[1], m))
        H /= np.linalg.norm(H, axis=0, keepdims=True)
        val = np.abs(ln @ np.maximum(Xn @ H, 0.0))
        cnt += int(np.sum(val > beta * (1 + 1e-9)))
        done += m
    return cnt / n_samples
