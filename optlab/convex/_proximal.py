"""Proximal gradient method (ISTA) and its accelerated version (FISTA)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from optlab._validate import check_callable, check_positive
from optlab.result import Monitor, Result

from ._common import FistaMomentum, norm, run_gradient_mapping, setup_smooth, to_float

__all__ = ["proximal_gradient"]


def proximal_gradient(
    fun: Callable,
    grad: Callable,
    prox: Callable,
    x0: Any,
    *,
    L: float,
    accelerated: bool = False,
    g: Callable | None = None,
    tol: float = 1e-8,
    max_iter: int = 1000,
    callback: Callable | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Minimize a composite function :math:`F = f + g` by ISTA or FISTA.

    Solves :math:`\min_x F(x) = f(x) + g(x)` with :math:`f` convex and
    :math:`L`-smooth and :math:`g` convex, closed, with an easy proximal operator
    :math:`\mathrm{prox}_{\eta g}(v) = \arg\min_u g(u) + \frac{1}{2\eta}\|u - v\|^2`.
    With :math:`T(y) = \mathrm{prox}_{g/L}(y - \nabla f(y)/L)`:

    - ISTA (``accelerated=False``): :math:`x_{k+1} = T(x_k)`;
    - FISTA (``accelerated=True``, Beck & Teboulle 2009, constant step):
      :math:`x_0 = y_0 = x^{(0)}`, :math:`x_{k+1} = T(y_k)`,
      :math:`y_{k+1} = x_{k+1} + \frac{t_k - 1}{t_{k+1}}(x_{k+1} - x_k)`,
      :math:`t_0 = 1`, :math:`t_{k+1} = \frac{1 + \sqrt{1 + 4t_k^2}}{2}`
      (their :math:`x_k` is ours; their :math:`y_{k+1}, t_{k+1}` are our
      :math:`y_k, t_k`).

    Parameters
    ----------
    fun, grad : callable
        The smooth part: ``fun(x) -> float`` and ``grad(x) -> array`` (shape and
        namespace of ``x``).
    prox : callable
        ``prox(v, step) -> array``, returning :math:`\mathrm{prox}_{\text{step}\cdot g}(v)`.
        Any operator of :mod:`optlab.convex` fits through ``functools.partial``, e.g.
        ``partial(prox_l1, lam=0.1)``.
    x0 : array
        Starting point (any array-API namespace, ``ndim >= 1``, finite).
    L : float
        Lipschitz constant of :math:`\nabla f` (step ``1/L``).
    accelerated : bool
        FISTA instead of ISTA.
    g : callable, optional
        ``g(x) -> float``, the nonsmooth part. Only used for recording: with it
        ``fun`` (history and result) is :math:`F = f + g`; without it, :math:`f`
        alone (the result's ``fun`` is then *not* the composite objective).
    tol : float
        Stopping tolerance on the gradient-mapping norm
        :math:`\|G(x)\| = L\|x - T(x)\|` (equal to :math:`\|\nabla f(x)\|` when
        :math:`g = 0`; zero exactly at minimizers of :math:`F`). ISTA stops at the
        first :math:`x_k` with :math:`\|G(x_k)\| \le` ``tol``; FISTA stops at the first
        :math:`x_k` with :math:`\|G(y_{k-1})\| = L\|y_{k-1} - x_k\| \le` ``tol``, which
        bounds :math:`\|G(x_k)\|` because :math:`T` is nonexpansive. Either way the
        returned ``x`` satisfies :math:`\|G(x)\| \le` ``tol``.
    max_iter : int
        Maximum number of proximal-gradient steps (``>= 1``).
    callback, verbose, record
        As in :func:`optlab.convex.gradient_descent`.

    Returns
    -------
    Result
        ``x``, ``fun``, ``nit``, ``nfev``, ``njev``, ``nprox`` (prox calls),
        ``success``, ``status``, ``message``, and ``history`` rows ``k = 0..nit``:
        ``fun`` (:math:`F(x_k)` or :math:`f(x_k)`, see ``g``) and ``grad_norm``, the
        gradient-mapping norm: ISTA :math:`\|G(x_k)\|`
        (``njev = nprox = nit + 1``); FISTA :math:`\|G(x_0)\|` at ``k = 0`` and
        :math:`\|G(y_{k-1})\|` for ``k >= 1`` (``njev = nprox = nit``: exactly
        ``max_iter`` steps with a tiny ``tol``).

    Notes
    -----
    Guarantees for :math:`x^*` a minimizer of :math:`F` and :math:`k \ge 1`:

    - ISTA: :math:`F(x_k) - F^* \le \frac{L\|x_0 - x^*\|^2}{2k}`
      (Beck & Teboulle 2009, Theorem 3.1, constant step);
    - FISTA: :math:`F(x_k) - F^* \le \frac{2L\|x_0 - x^*\|^2}{(k+1)^2}`
      (Beck & Teboulle 2009, Theorem 4.4).

    A NaN/inf value or :math:`|F(x_k)| > 10^{10}(1 + |F(x_0)|)` ends the run with
    ``success=False``, the iteration in the message and the last good iterate.

    References
    ----------
    .. [1] A. Beck, M. Teboulle, "A Fast Iterative Shrinkage-Thresholding Algorithm for
       Linear Inverse Problems", SIAM J. Imaging Sci. 2(1):183-202, 2009.
    .. [2] N. Parikh, S. Boyd, "Proximal Algorithms", Found. Trends Optim. 1(3), 2014.

    Examples
    --------
    Lasso :math:`\frac12\|Ax - b\|^2 + \lambda\|x\|_1` with FISTA:

    >>> import numpy as np
    >>> from functools import partial
    >>> from optlab.convex import proximal_gradient, prox_l1
    >>> A = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]); b = np.array([1.0, 2.0, 0.0])
    >>> L = np.linalg.norm(A, 2) ** 2
    >>> res = proximal_gradient(lambda x: 0.5 * np.sum((A @ x - b) ** 2),
    ...                         lambda x: A.T @ (A @ x - b), partial(prox_l1, lam=0.5),
    ...                         np.zeros(2), L=L, accelerated=True,
    ...                         g=lambda x: 0.5 * np.sum(np.abs(x)), tol=1e-10)
    >>> res.success, np.round(res.x, 6)
    (True, array([0. , 0.7]))
    """
    name = "fista" if accelerated else "ista"
    check_callable(prox, "prox")
    check_callable(g, "g", optional=True)
    if not isinstance(accelerated, bool):
        raise TypeError(f"accelerated must be a bool, got {type(accelerated).__name__}")
    L = check_positive(L, "L")
    xp, x0, orc, f0, g0, tol, max_iter = setup_smooth(fun, grad, x0, tol=tol, max_iter=max_iter)
    shape = tuple(x0.shape)
    step = 1.0 / L
    nprox = 0

    def step_map(y, gy):
        nonlocal nprox
        nprox += 1
        x_new = prox(y - step * gy, step)
        if tuple(getattr(x_new, "shape", ())) != shape:
            raise ValueError(
                f"prox must return an array of shape {shape} (the shape of x0), "
                f"got {tuple(getattr(x_new, 'shape', ()))}"
            )
        return x_new, norm(xp, y - x_new) * L

    if g is None:
        objective = orc.f
        F0 = f0
    else:

        def objective(x):
            return orc.f(x) + to_float(g(x), "g")

        F0 = f0 + to_float(g(x0), "g")
        if not math.isfinite(F0):
            raise ValueError(
                f"g(x0) is not finite ({F0 - f0!r}): start from a point of dom g, "
                "e.g. prox(x0, 1/L)"
            )
    mon = Monitor(name, record=record, callback=callback, verbose=verbose)
    return run_gradient_mapping(
        name, xp=xp, orc=orc, step_map=step_map, objective=objective, x0=x0, F0=F0, g0=g0,
        momentum=FistaMomentum() if accelerated else None, tol=tol, max_iter=max_iter,
        mon=mon, extra_counts=lambda: {"nprox": nprox},
    )  # fmt: skip
