"""Projected gradient descent onto a closed convex set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from optlab._validate import check_callable, check_positive
from optlab.result import Monitor, Result

from ._common import norm, run_gradient_mapping, setup_smooth

__all__ = ["projected_gradient"]


def projected_gradient(
    fun: Callable,
    grad: Callable,
    project: Callable,
    x0: Any,
    *,
    L: float | None = None,
    step: float | None = None,
    tol: float = 1e-8,
    max_iter: int = 1000,
    callback: Callable | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Minimize a smooth convex function over a closed convex set by projected gradient.

    Solves :math:`\min_{x \in \mathcal X} f(x)` with

    .. math:: x_{k+1} = P_{\mathcal X}\left(x_k - \eta \nabla f(x_k)\right),

    :math:`\eta = 1/L` (``L`` given) or ``step``.

    Parameters
    ----------
    fun, grad : callable
        ``fun(x) -> float`` and ``grad(x) -> array`` (shape and namespace of ``x``).
    project : callable
        ``project(v) -> array``, the Euclidean projection onto :math:`\mathcal X`
        (called with one argument; ``project_l2_ball``, ``prox_box``,
        ``prox_nonnegative`` fit directly or through ``functools.partial``).
    x0 : array
        Starting point (any array-API namespace, ``ndim >= 1``, finite); it need not be
        feasible (:math:`x_1` is), but the rates below assume it is.
    L, step : float
        Lipschitz constant of :math:`\nabla f` (step ``1/L``) or the step itself;
        give exactly one.
    tol : float
        Stop at the first :math:`x_k` whose gradient-mapping norm
        :math:`\|G(x_k)\| = \|x_k - P_{\mathcal X}(x_k - \eta\nabla f(x_k))\| / \eta`
        is ``<= tol`` (zero exactly at constrained minimizers; equal to
        :math:`\|\nabla f(x_k)\|` when the projection is inactive).
    max_iter : int
        Maximum number of steps (``>= 1``).
    callback, verbose, record
        As in :func:`optlab.convex.gradient_descent`.

    Returns
    -------
    Result
        ``x``, ``fun`` :math:`= f(x)`, ``nit``, ``nfev = njev = nprox = nit + 1``
        (the residual of the last iterate costs one more gradient and projection),
        ``success``, ``status``, ``message``, and ``history`` rows ``k = 0..nit``:
        ``fun`` :math:`f(x_k)` and ``grad_norm`` :math:`\|G(x_k)\|`.

    Notes
    -----
    Guarantees (step :math:`1/L`, :math:`x_0 \in \mathcal X`, :math:`k \ge 1`):

    - convex: :math:`f(x_k) - f^* \le \frac{3L\|x_0 - x^*\|^2 + f(x_0) - f^*}{k + 1}`
      (Bubeck 2015, Theorem 3.7, stated for :math:`x_t`, :math:`t = k + 1`);
    - :math:`\mu`-strongly convex: :math:`\|x_k - x^*\|^2 \le e^{-k\mu/L}
      \|x_0 - x^*\|^2` (Bubeck 2015, Theorem 3.10).

    A NaN/inf value or :math:`|f(x_k)| > 10^{10}(1 + |f(x_0)|)` ends the run with
    ``success=False``, the iteration in the message and the last good iterate.

    References
    ----------
    .. [1] S. Bubeck, "Convex Optimization: Algorithms and Complexity", Foundations and
       Trends in Machine Learning 8(3-4), 2015, Sections 3.2 and 3.4.

    Examples
    --------
    >>> import numpy as np
    >>> from functools import partial
    >>> from optlab.convex import projected_gradient, prox_box
    >>> c = np.array([2.0, -0.5])
    >>> res = projected_gradient(lambda x: 0.5 * np.sum((x - c) ** 2), lambda x: x - c,
    ...                          partial(prox_box, lower=0.0, upper=1.0), np.zeros(2), L=1.0)
    >>> res.success, res.x, res.nit
    (True, array([1., 0.]), 1)
    """
    name = "projected_gradient"
    check_callable(project, "project")
    L = check_positive(L, "L", optional=True)
    step = check_positive(step, "step", optional=True)
    if (L is None) == (step is None):
        raise ValueError("give exactly one of L (step 1/L) and step")
    eta = step if step is not None else 1.0 / L
    xp, x0, orc, f0, g0, tol, max_iter = setup_smooth(fun, grad, x0, tol=tol, max_iter=max_iter)
    shape = tuple(x0.shape)
    nprox = 0

    def step_map(y, gy):
        nonlocal nprox
        nprox += 1
        x_new = project(y - eta * gy)
        if tuple(getattr(x_new, "shape", ())) != shape:
            raise ValueError(
                f"project must return an array of shape {shape} (the shape of x0), "
                f"got {tuple(getattr(x_new, 'shape', ()))}"
            )
        return x_new, norm(xp, y - x_new) / eta

    mon = Monitor(name, record=record, callback=callback, verbose=verbose)
    return run_gradient_mapping(
        name, xp=xp, orc=orc, step_map=step_map, objective=orc.f, x0=x0, F0=f0, g0=g0,
        momentum=None, tol=tol, max_iter=max_iter, mon=mon,
        extra_counts=lambda: {"nprox": nprox},
    )  # fmt: skip
