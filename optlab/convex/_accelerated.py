"""Nesterov's accelerated gradient method (smooth convex and strongly convex cases)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from optlab._validate import check_nonnegative, check_positive
from optlab.result import Monitor, Result

from ._common import FistaMomentum, norm, run_gradient_mapping, setup_smooth

__all__ = ["accelerated_gradient"]


def accelerated_gradient(
    fun: Callable,
    grad: Callable,
    x0: Any,
    *,
    L: float,
    mu: float = 0.0,
    tol: float = 1e-8,
    max_iter: int = 1000,
    callback: Callable | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Minimize a smooth convex function by Nesterov's accelerated gradient method.

    Solves :math:`\min_x f(x)` for convex :math:`f` with :math:`L`-Lipschitz gradient
    (and :math:`\mu`-strongly convex when ``mu > 0``) with, for :math:`k = 0, 1, \dots`,

    .. math::

        x_0 = y_0 = x^{(0)}, \qquad
        x_{k+1} = y_k - \tfrac{1}{L}\nabla f(y_k), \qquad
        y_{k+1} = x_{k+1} + \beta_k (x_{k+1} - x_k).

    - ``mu == 0`` (Nesterov 1983 / FISTA momentum): :math:`t_0 = 1`,
      :math:`t_{k+1} = \frac{1 + \sqrt{1 + 4t_k^2}}{2}`,
      :math:`\beta_k = \frac{t_k - 1}{t_{k+1}}` (so :math:`\beta_0 = 0`).
    - ``mu > 0``: constant :math:`\beta_k = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}`,
      :math:`\kappa = L/\mu` (Nesterov 2004, constant step scheme III, (2.2.19)).

    :math:`x_k` is the point reached after exactly :math:`k` gradient steps; with a
    tiny ``tol`` the run takes exactly ``max_iter`` steps, so
    ``res.history["fun"][N]`` is :math:`f(x_N)` as in the worst-case analyses.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``, the objective :math:`f`.
    grad : callable
        ``grad(x) -> array`` of the shape and namespace of ``x``.
    x0 : array
        Starting point (any array-API namespace, ``ndim >= 1``, finite).
    L : float
        Lipschitz constant of :math:`\nabla f` (step ``1/L``).
    mu : float
        Strong convexity modulus, ``0 <= mu <= L``.
    tol : float
        Stop at the first ``k`` whose history ``grad_norm[k] <= tol`` (see Returns);
        the returned ``x`` then satisfies :math:`\|\nabla f(x)\| \le` ``tol``.
    max_iter : int
        Maximum number of gradient steps (``>= 1``).
    callback, verbose, record
        As in :func:`optlab.convex.gradient_descent`.

    Returns
    -------
    Result
        ``x`` (namespace/dtype of ``x0``), ``fun`` :math:`= f(x)`, ``nit`` (gradient
        steps), ``nfev = nit + 1`` (:math:`f` at :math:`x_0..x_{nit}`), ``njev = nit``
        (:math:`\nabla f` at :math:`y_0..y_{nit-1}`; the one at :math:`y_0 = x_0` is
        the validation call), and ``history`` rows ``k = 0..nit``:
        ``fun`` :math:`f(x_k)`; ``grad_norm`` :math:`\|\nabla f(x_0)\|` at ``k = 0``
        and :math:`\|\nabla f(y_{k-1})\|` for ``k >= 1``. The latter is the gradient
        that produced :math:`x_k` and bounds :math:`\|\nabla f(x_k)\|` (a gradient step
        of length :math:`1/L` does not increase the gradient norm of a convex
        :math:`L`-smooth function), so no extra gradient is spent on the test.

    Notes
    -----
    Guarantees with :math:`x^*` a minimizer and :math:`k \ge 1`:

    - ``mu == 0``: :math:`f(x_k) - f^* \le \frac{2L\|x_0 - x^*\|^2}{(k+1)^2}`
      (Beck & Teboulle 2009, Theorem 4.4 with :math:`g = 0`; Bubeck 2015,
      Theorem 3.19, whose :math:`y_t` is our :math:`x_{t-1}`).
    - ``mu > 0``: :math:`f(x_k) - f^* \le \frac{L + \mu}{2}\|x_0 - x^*\|^2
      e^{-k/\sqrt\kappa}` (Bubeck 2015, Theorem 3.18, whose :math:`y_t` is our
      :math:`x_{t-1}`); also :math:`f(x_k) - f^* \le (1 - \sqrt{\mu/L})^k
      \left(f(x_0) - f^* + \frac{\mu}{2}\|x_0 - x^*\|^2\right)`
      (Nesterov 2004, Theorem 2.2.3 for scheme (2.2.19)).

    The iterates are not monotone in :math:`f`. Failures (NaN/inf, divergence
    :math:`|f(x_k)| > 10^{10}(1 + |f(x_0)|)`) end the run with ``success=False``, a
    message naming the iteration, and the last good iterate.

    References
    ----------
    .. [1] A. Beck, M. Teboulle, "A Fast Iterative Shrinkage-Thresholding Algorithm for
       Linear Inverse Problems", SIAM J. Imaging Sci. 2(1), 2009.
    .. [2] S. Bubeck, "Convex Optimization: Algorithms and Complexity", 2015, Section 3.7.
    .. [3] Y. Nesterov, "Introductory Lectures on Convex Optimization", Kluwer 2004,
       Section 2.2.

    Examples
    --------
    >>> import numpy as np
    >>> from optlab.convex import accelerated_gradient
    >>> A = np.diag([10.0, 1.0]); b = np.array([10.0, -1.0])
    >>> res = accelerated_gradient(lambda x: 0.5 * x @ A @ x - b @ x, lambda x: A @ x - b,
    ...                            np.zeros(2), L=10.0, mu=1.0, tol=1e-9)
    >>> res.success, np.round(res.x, 6), res.njev == res.nit
    (True, array([ 1., -1.]), True)
    """
    name = "accelerated_gradient"
    L = check_positive(L, "L")
    mu = check_nonnegative(mu, "mu")
    if mu > L:
        raise ValueError(f"mu must be <= L, got mu={mu!r} > L={L!r}")
    xp, x0, orc, f0, g0, tol, max_iter = setup_smooth(fun, grad, x0, tol=tol, max_iter=max_iter)
    mon = Monitor(name, record=record, callback=callback, verbose=verbose)
    inv_L = 1.0 / L

    def step_map(y, gy):
        return y - inv_L * gy, norm(xp, gy)

    if mu > 0.0:
        q = math.sqrt(mu / L)
        beta = (1.0 - q) / (1.0 + q)

        def momentum(k: int) -> float:
            return beta

    else:
        momentum = FistaMomentum()
    return run_gradient_mapping(
        name, xp=xp, orc=orc, step_map=step_map, objective=orc.f, x0=x0, F0=f0, g0=g0,
        momentum=momentum, tol=tol, max_iter=max_iter, mon=mon,
    )  # fmt: skip
