r"""Low-rank matrix sensing by factored gradient methods from small random initialization.

Problem. Recover a rank-:math:`r` matrix :math:`M^\star` (PSD :math:`n\times n` in the
symmetric setting, :math:`n_1\times n_2` in the asymmetric one) from
:math:`y = \mathcal A(M^\star) + s` (:mod:`optlab.lowrank.operators`; ``s`` noise or
outliers), through a factorization of width ``k`` (``rank``), exact (``k = r``) or
over-parameterized (``k > r``):

=============================  ============================================================  =========================
solver                         iteration                                                      paper
=============================  ============================================================  =========================
:func:`gd_symmetric`           :math:`X \leftarrow X - \eta\, \mathcal S(\mathcal A^*(r))X`     Xiong, Ding & Du (2024)
:func:`gd_asymmetric`          :math:`F \leftarrow F - \eta \mathcal A^*(r) G`,                Xiong, Ding & Du (2024)
                               :math:`G \leftarrow G - \eta \mathcal A^*(r)^\top F`
``modification="rebalance"``   one extra step :math:`F\leftarrow FP`, :math:`G \leftarrow      Xiong, Ding & Du (2024),
                               GP^{-\top}` (reconstruction, see :func:`gd_asymmetric`)         Sec. 5, eq. (5.1)
:func:`scaled_gd`              :math:`X \leftarrow X - \eta\, \mathcal S(\mathcal A^*(r))X      Xu, Shen, Chi & Ma (2023)
                               (X^\top X + \lambda I)^{-1}`
:func:`subgradient_l1`         :math:`U \leftarrow U - \eta_0\rho^t\, m^{-1/2}                 Ma & Fattahi (2023)
                               \mathcal S(\mathcal A^*(\operatorname{sign} r))\,2U`
=============================  ============================================================  =========================

with the residual :math:`r = \mathcal A(\text{estimate}) - y` and
:math:`\mathcal S(Z) = (Z + Z^\top)/2` (the identity for symmetric designs). The losses are
:math:`f(X) = \tfrac14\|\mathcal A(XX^\top) - y\|^2` (symmetric GD, ScaledGD),
:math:`f(F, G) = \tfrac12\|\mathcal A(FG^\top) - y\|^2` (asymmetric GD) and
:math:`f(U) = m^{-1/2}\|\mathcal A(UU^\top) - y\|_1` (the sub-gradient method; with the
operators' :math:`A_i = G_i/\sqrt m` normalization this is Ma & Fattahi's
:math:`\frac1m\sum_i |\langle G_i, UU^\top\rangle - y_i|` for unnormalized :math:`G_i`).

Initialization (all solvers, unless a start is given): small random factors with i.i.d.
:math:`N(0, \alpha^2/n)` entries (``n`` the factor's number of rows), so that the factor's
spectral norm is about :math:`\alpha(1 + \sqrt{k/n})` whatever ``n``: Xu et al.'s
:math:`X_0 = \alpha G`, :math:`G_{ij}\sim N(0, 1/n)`. (Xiong et al. draw entries
:math:`N(0, \alpha^2)`: pass ``alpha * sqrt(n)`` to reproduce their scale.) The asymmetric
start uses :math:`\alpha` for ``F`` and :math:`\alpha/3` for ``G`` (``init_ratio``), the
"α and α/3" of Xiong et al. (the scales a reviewer of the ICLR 2024 version asks about;
the paper's theorem conditions on α and the step were not recovered).

Every solver returns a :class:`optlab.result.Result` whose history has ``fun``,
``residual`` (:math:`\|\mathcal A(\cdot) - y\|/\|y\|`) and, when ``M_star`` is given,
``error`` (:math:`\|\widehat M - M^\star\|_F/\|M^\star\|_F`, computed from the factors
through two thin QR factorizations, never from a dense difference when ``M_star`` is given
as factors ``(L, R)``). The stopping test ``criterion`` is on ``"residual"`` (default),
``"error"`` (needs ``M_star``) or ``"update"`` (relative size of the last step).

References
----------
.. [XSCM23] X. Xu, Y. Shen, Y. Chi, C. Ma, "The Power of Preconditioning in Overparameterized
   Low-Rank Matrix Sensing", ICML 2023 (PMLR 202), arXiv:2302.01186.
.. [XDD24] N. Xiong, L. Ding, S. S. Du, "How Over-Parameterization Slows Down Gradient Descent
   in Matrix Sensing: The Curses of Symmetry and Initialization", ICLR 2024, arXiv:2310.01769.
.. [MF23] J. Ma, S. Fattahi, "Global Convergence of Sub-gradient Method for Robust Matrix
   Recovery: Small Initialization, Noisy Measurements, and Over-parameterization", JMLR 24
   (2023), arXiv:2202.08788.

Examples
--------
>>> import numpy as np
>>> from optlab.lowrank.operators import GaussianDesign
>>> from optlab.lowrank.sensing import scaled_gd
>>> rng = np.random.default_rng(0)
>>> U = np.linalg.qr(rng.standard_normal((10, 2)))[0]
>>> M = U @ np.diag([1.0, 0.1]) @ U.T
>>> op = GaussianDesign(10, 10, 300, symmetric=True, seed=1)
>>> res = scaled_gd(op, op.apply(M), rank=2, lam=0.1, alpha=1e-3, tol=1e-10, M_star=M)
>>> res.success, bool(res.history["error"][-1] < 1e-8)
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from optlab._backend import device, get_namespace, solve
from optlab._validate import (
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
)
from optlab.lowrank.operators import SensingOperator, operator_norm_estimate
from optlab.result import Monitor, Result, Status

__all__ = [
    "gd_symmetric",
    "gd_asymmetric",
    "scaled_gd",
    "subgradient_l1",
    "sensing_loss",
    "lowrank_error",
]

#: relative residual above which a run is declared diverged
DIVERGENCE_RESIDUAL = 1e8
_CRITERIA = ("residual", "error", "update")


# --------------------------------------------------------------------------------------
# shared pieces
# --------------------------------------------------------------------------------------


def _check_op_y(op: Any, y: Any) -> tuple[SensingOperator, Any, Any]:
    if not isinstance(op, SensingOperator):
        raise TypeError(f"op must be a SensingOperator (optlab.lowrank.operators), got {type(op).__name__}")
    y = check_array(y, "y", ndim=1)
    if y.shape[0] != op.m:
        raise ValueError(f"y must have length op.m={op.m}, got {y.shape[0]}")
    xp = get_namespace(y)
    if xp is not op.xp:
        raise TypeError(f"y is a {xp.__name__} array but op lives in {op.xp.__name__}")
    return op, y, xp


def _check_rank(rank: Any, n: int, name: str = "rank") -> int:
    k = check_int(rank, name, minimum=1)
    if k > n:
        raise ValueError(f"{name} must be <= {n} (the matrix dimension), got {k}")
    return k


def _small_init(xp, rows: int, k: int, alpha: float, seed: Any, like: Any) -> Any:
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((rows, k)) * (alpha / math.sqrt(rows))
    return xp.asarray(G, dtype=like.dtype, device=device(like))


def _start_factor(xp, X0: Any, rows: int, rank: Any, alpha: float, seed: Any, like: Any, name: str) -> Any:
    if X0 is None:
        if rank is None:
            raise ValueError(f"give rank (the factor width k) or a starting factor {name}")
        k = _check_rank(rank, rows)
        return _small_init(xp, rows, k, alpha, seed, like)
    X0 = check_array(X0, name, ndim=2)
    if get_namespace(X0) is not xp:
        raise TypeError(f"{name} must be in the namespace of y ({xp.__name__})")
    if X0.shape[0] != rows:
        raise ValueError(f"{name} must have {rows} rows, got shape {tuple(X0.shape)}")
    if rank is not None and int(rank) != X0.shape[1]:
        raise ValueError(f"rank={rank} does not match {name}.shape[1]={X0.shape[1]}")
    _check_rank(X0.shape[1], rows, f"{name}.shape[1]")
    return xp.astype(X0, like.dtype)


def _check_M_star(M_star: Any, shape: tuple[int, int], xp) -> Any:
    if M_star is None:
        return None
    if isinstance(M_star, tuple | list):
        if len(M_star) != 2:
            raise ValueError("M_star given as factors must be a pair (L, R) with M* = L R^T")
        L = check_array(M_star[0], "M_star[0]", ndim=2)
        R = check_array(M_star[1], "M_star[1]", ndim=2)
        if L.shape[0] != shape[0] or R.shape[0] != shape[1] or L.shape[1] != R.shape[1]:
            raise ValueError(f"M_star factors must be ({shape[0]}, r) and ({shape[1]}, r), got "
                             f"{tuple(L.shape)} and {tuple(R.shape)}")
        for a, nm in ((L, "M_star[0]"), (R, "M_star[1]")):
            if get_namespace(a) is not xp:
                raise TypeError(f"{nm} must be in the namespace of y ({xp.__name__})")
        return (L, R)
    M = check_array(M_star, "M_star", ndim=2, shape=shape)
    if get_namespace(M) is not xp:
        raise TypeError(f"M_star must be in the namespace of y ({xp.__name__})")
    return M


def lowrank_error(F: Any, G: Any, M_star: Any) -> float:
    r"""Relative error :math:`\|FG^\top - M^\star\|_F / \|M^\star\|_F`.

    ``M_star`` is a dense ``(n1, n2)`` array or a pair of factors ``(L, R)`` with
    :math:`M^\star = LR^\top`; in the second case the difference
    :math:`[F, -L][G, R]^\top` is never formed: its norm is :math:`\|R_1R_2^\top\|_F` with
    :math:`R_1, R_2` the triangular factors of thin QR factorizations of
    :math:`[F, -L]` and :math:`[G, R]` (exact to rounding, :math:`O(n(k+r)^2)`, unlike the
    expansion of the squared norm, which cancels below :math:`10^{-8}`).

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[1.0], [0.0]]); L = np.array([[1.0], [1e-9]])
    >>> float(lowrank_error(F, F, (L, L))) == float(lowrank_error(F, F, L @ L.T))
    True
    """
    xp = get_namespace(F, G)
    if isinstance(M_star, tuple | list):
        L, R = M_star
        A = xp.concat([F, -L], axis=1)
        B = xp.concat([G, R], axis=1)
        R1 = xp.linalg.qr(A, mode="reduced")[1]
        R2 = xp.linalg.qr(B, mode="reduced")[1]
        num = xp.linalg.matrix_norm(xp.matmul(R1, xp.matrix_transpose(R2)))
        RL = xp.linalg.qr(L, mode="reduced")[1]
        RR = xp.linalg.qr(R, mode="reduced")[1]
        den = xp.linalg.matrix_norm(xp.matmul(RL, xp.matrix_transpose(RR)))
    else:
        D = xp.matmul(F, xp.matrix_transpose(G)) - M_star
        num = xp.linalg.matrix_norm(D)
        den = xp.linalg.matrix_norm(M_star)
    den_f = float(den)
    return float(num) / den_f if den_f > 0 else float(num)


def sensing_loss(op: SensingOperator, y: Any, F: Any, G: Any = None, *, loss: str = "l2") -> float:
    r"""Value of a sensing loss at :math:`FG^\top` (``G=None``: :math:`FF^\top`).

    ``loss="l2"``: :math:`\tfrac14\|\mathcal A(FF^\top) - y\|^2` (symmetric) or
    :math:`\tfrac12\|\mathcal A(FG^\top) - y\|^2` (asymmetric); ``loss="l1"``:
    :math:`m^{-1/2}\|\mathcal A(FG^\top) - y\|_1`.

    Examples
    --------
    >>> import numpy as np
    >>> from optlab.lowrank.operators import EntrySampling
    >>> op = EntrySampling((2, 2), np.array([0]), np.array([0]), scale=1.0)
    >>> sensing_loss(op, np.array([1.0]), np.array([[2.0], [0.0]]))
    2.25
    """
    check_choice(loss, "loss", ("l2", "l1"))
    xp = op.xp
    r = op.apply_factored(F, G) - y
    if loss == "l1":
        return float(xp.sum(xp.abs(r))) / math.sqrt(op.m)
    c = 0.25 if G is None else 0.5
    return c * float(xp.sum(r * r))


def _sym_adjoint_matmul(op: SensingOperator, r: Any, X: Any) -> Any:
    """``S(A*(r)) X`` with ``S(Z) = (Z + Z^T)/2``."""
    if op.symmetric:
        return op.adjoint_matmul(r, X)
    return 0.5 * (op.adjoint_matmul(r, X) + op.adjoint_rmatmul(r, X))


def _default_step(op: SensingOperator, y: Any, step: Any, factor: float) -> float:
    if step is not None:
        return check_positive(step, "step")
    s1 = operator_norm_estimate(op, y)
    if not s1 > 0:
        raise ValueError("cannot pick a default step: A*(y) is zero (y = 0?); pass step")
    return factor / s1


class _Loop:
    """Stopping tests, recording and failure handling shared by the solvers."""

    def __init__(self, name, *, criterion, tol, max_iter, M_star, ynorm, callback, verbose, record):
        self.mon = Monitor(name, record=record, callback=callback, verbose=verbose)
        self.criterion = criterion
        self.tol = tol
        self.max_iter = max_iter
        self.M_star = M_star
        self.ynorm = ynorm if ynorm > 0 else 1.0
        self.last_error = math.nan

    def observe(self, k: int, F, G, fun: float, rnorm: float, update: float | None, **extra) -> tuple[Status, str] | None:
        """Record iterate ``k``; return ``(status, message)`` when the run must stop."""
        vals = {"fun": fun, "residual": rnorm / self.ynorm}
        if self.M_star is not None:
            err = lowrank_error(F, G, self.M_star)
            vals["error"] = err
            self.last_error = err
        if update is not None:
            vals["update"] = update
        vals.update(extra)
        self.mon.record(k, **vals)
        if not (math.isfinite(fun) and math.isfinite(rnorm)):
            return Status.NUMERICAL_ERROR, f"{self.mon.solver}: non-finite loss at iteration {k}"
        if vals["residual"] > DIVERGENCE_RESIDUAL:
            return Status.DIVERGED, (f"{self.mon.solver}: relative residual {vals['residual']:.3g} at "
                                     f"iteration {k} (step too large?)")
        test = {"residual": vals["residual"], "error": vals.get("error"), "update": update}[self.criterion]
        if test is not None and test <= self.tol:
            return Status.CONVERGED, (f"{self.mon.solver}: converged, {self.criterion} {test:.3g} <= tol "
                                      f"{self.tol:g} at iteration {k}")
        if k >= self.max_iter:
            return Status.MAX_ITER, None
        return None

    def finish(self, x, fun, k, st, msg, **extra) -> Result:
        return self.mon.finish(x=x, fun=fun, nit=k, status=st, message=msg, **extra)


def _common_checks(tol, max_iter, criterion, M_star, callback):
    tol = check_nonnegative(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    criterion = check_choice(criterion, "criterion", _CRITERIA)
    if criterion == "error" and M_star is None:
        raise ValueError("criterion='error' needs M_star")
    check_callable(callback, "callback", optional=True)
    return tol, max_iter, criterion


# --------------------------------------------------------------------------------------
# symmetric gradient descent and ScaledGD(lambda)
# --------------------------------------------------------------------------------------


def _symmetric_run(name, op, y, X0, rank, alpha, step, lam, tol, max_iter, criterion, M_star, seed,
                   callback, verbose, record, default_step_factor):
    op, y, xp = _check_op_y(op, y)
    n1, n2 = op.shape
    if n1 != n2:
        raise ValueError(f"the symmetric parameterization needs a square operator, got shape {op.shape}")
    alpha = check_positive(alpha, "alpha")
    tol, max_iter, criterion = _common_checks(tol, max_iter, criterion, M_star, callback)
    M_star = _check_M_star(M_star, op.shape, xp)
    X = _start_factor(xp, X0, n1, rank, alpha, seed, y, "X0")
    k = X.shape[1]
    if lam is None:
        eta = _default_step(op, y, step, default_step_factor)
    else:
        eta = check_positive(step, "step") if step is not None else 0.5
    eye = xp.eye(k, dtype=X.dtype, device=device(X)) if lam is not None else None
    loop = _Loop(name, criterion=criterion, tol=tol, max_iter=max_iter, M_star=M_star,
                 ynorm=float(xp.linalg.vector_norm(y)), callback=callback, verbose=verbose, record=record)
    it = 0
    update = None
    while True:
        r = op.apply_factored(X) - y
        rn = float(xp.linalg.vector_norm(r))
        fun = 0.25 * rn * rn
        out = loop.observe(it, X, X, fun, rn, update)
        if out is None and loop.mon.stop_requested(X, fun, it):
            out = (Status.CALLBACK, None)
        if out is not None:
            st, msg = out
            return loop.finish(X, fun, it, st, msg, step=eta, lam=lam, rank=k)
        grad = _sym_adjoint_matmul(op, r, X)
        if lam is None:
            D = grad
        else:
            P = xp.matmul(xp.matrix_transpose(X), X) + lam * eye
            D = xp.matrix_transpose(solve(xp, P, xp.matrix_transpose(grad), assume_a="pos"))
        X = X - eta * D
        xn = float(xp.linalg.vector_norm(X))
        update = eta * float(xp.linalg.vector_norm(D)) / xn if xn > 0 else math.inf
        it += 1


def gd_symmetric(
    op: SensingOperator,
    y: Any,
    rank: int | None = None,
    X0: Any = None,
    *,
    alpha: float = 1e-3,
    step: float | None = None,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    criterion: str = "residual",
    M_star: Any = None,
    seed: Any = 0,
    callback: Callable | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Gradient descent on the symmetric factorization :math:`XX^\top` from small random init.

    Minimizes :math:`f(X) = \tfrac14\|\mathcal A(XX^\top) - y\|^2` over
    :math:`X\in\mathbb R^{n\times k}`:
    :math:`X_{t+1} = X_t - \eta\,\mathcal S(\mathcal A^*(\mathcal A(X_tX_t^\top) - y))X_t`.

    Theory (Xiong, Ding & Du 2024, for near-isotropic (RIP) measurements; abstract, with
    the lower bound stated as Theorem 1.1 (informal, entries of :math:`X_0` i.i.d.
    :math:`N(0,\alpha^2)`) and Theorem 3.1 (formal), numbers as cited in the public ICLR
    2024 reviews, body not read): with exact parameterization (``k = r``) the error decays
    as :math:`\exp(-\Omega(T))`; over-parameterized (``k > r``) from small random
    initialization, :math:`\|X_TX_T^\top - M^\star\|_F \ge \Omega(1/T^2)`: the rate is
    sublinear (the redundant directions decay like :math:`x_{t+1} = x_t(1 - \eta x_t^2)`,
    i.e. their contribution to the error like :math:`1/(\eta t)`).

    Parameters
    ----------
    op : SensingOperator
        Square measurement operator (symmetric designs are the theory's setting).
    y : (m,) array
        Measurements, in the operator's namespace.
    rank : int, optional
        Factor width ``k`` (``1 <= k <= n``); taken from ``X0`` when given.
    X0 : (n, k) array, optional
        Start; default i.i.d. :math:`N(0, \alpha^2/n)` entries (module docstring).
    alpha : float
        Initialization scale (> 0).
    step : float, optional
        Step :math:`\eta`; default :math:`0.5/\hat\sigma_1` with :math:`\hat\sigma_1 =
        \|\mathcal A^*(y)\|_2` (power iteration), Tong et al.'s :math:`\eta/\sigma_{\max}`
        with :math:`\eta = 0.5` (the loss's local smoothness is :math:`\approx 2\sigma_1`).
    tol, max_iter, criterion, M_star, seed, callback, verbose, record
        See the module docstring; ``M_star`` dense or factors ``(L, R)``.

    Returns
    -------
    Result
        ``x`` the factor ``X``; history ``fun, residual, update`` (+ ``error``); ``step``.

    Examples
    --------
    >>> import numpy as np
    >>> from optlab.lowrank.operators import GaussianDesign
    >>> U = np.linalg.qr(np.random.default_rng(0).standard_normal((8, 1)))[0]
    >>> op = GaussianDesign(8, 8, 120, symmetric=True, seed=0)
    >>> res = gd_symmetric(op, op.apply(U @ U.T), rank=1, tol=1e-9, M_star=U @ U.T)
    >>> res.success and bool(res.history["error"][-1] < 1e-7)
    True
    """
    return _symmetric_run("gd_symmetric", op, y, X0, rank, alpha, step, None, tol, max_iter, criterion,
                          M_star, seed, callback, verbose, record, 0.5)


def scaled_gd(
    op: SensingOperator,
    y: Any,
    rank: int | None = None,
    X0: Any = None,
    *,
    lam: float,
    alpha: float = 1e-3,
    step: float = 0.5,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    criterion: str = "residual",
    M_star: Any = None,
    seed: Any = 0,
    callback: Callable | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""ScaledGD(:math:`\lambda`): preconditioned gradient descent with damping (Xu et al. 2023).

    .. math::

        X_{t+1} = X_t - \eta\,\nabla f(X_t)\,(X_t^\top X_t + \lambda I)^{-1},\qquad
        \nabla f(X) = \mathcal S(\mathcal A^*(\mathcal A(XX^\top) - y))X,

    on :math:`f(X) = \tfrac14\|\mathcal A(XX^\top) - y\|^2`, from
    :math:`X_0 = \alpha G`, :math:`G_{ij}\sim N(0, 1/n)`, with any width ``k >= r``.

    Theory (Xu, Shen, Chi & Ma, ICML 2023, PMLR 202:38611-38654, main theorem as stated in
    the abstract): under RIP, from a small random initialization and with a fixed damping
    :math:`\lambda`, ScaledGD(:math:`\lambda`) reaches :math:`\varepsilon` relative error
    in :math:`O(\log\kappa\cdot\log(\kappa n) + \log(1/\varepsilon))` iterations
    (vanilla GD: :math:`\mathrm{poly}(\kappa)`); the same iteration count is listed for
    ScaledGD(:math:`\lambda`) in Table 1 of Jia, Feng, Meng & Sun (NeurIPS 2024). The
    theorem's number and its conditions on :math:`\lambda`, :math:`\eta` and
    :math:`\alpha` were **not** recovered (only the abstract and secondary sources were
    reachable): the :math:`\lambda \asymp \sigma_{\min}(M^\star)` scaling below is
    recollection, [mem].

    Parameters
    ----------
    lam : float
        Damping :math:`\lambda > 0`. **No default**: the theorem asks for
        :math:`\lambda \asymp c_\lambda\,\sigma_{\min}(M^\star)` ([mem]: the window,
        :math:`c_\lambda` and the theorem number were not recovered, so no paper value can
        serve as a default); pass e.g.
        ``0.5 * sigma_min`` when :math:`\sigma_{\min}` is known or estimated. A much
        smaller value amplifies the redundant directions (a higher error floor when
        ``k > r``), a much larger one slows the small directions by :math:`\sigma_{\min}/\lambda`.
    step : float
        :math:`\eta` (default 0.5, the constant of the ScaledGD codes of Tong et al.; the
        paper needs :math:`\eta \le c_\eta`, value not recovered).
    alpha : float
        Initialization scale (default 1e-3; the theory asks for
        :math:`\alpha` polynomially small in :math:`1/(\kappa n)`).
    op, y, rank, X0, tol, max_iter, criterion, M_star, seed, callback, verbose, record
        As in :func:`gd_symmetric`.

    Returns
    -------
    Result
        ``x`` the factor ``X``; history ``fun, residual, update`` (+ ``error``).

    Examples
    --------
    >>> import numpy as np
    >>> from optlab.lowrank.operators import GaussianDesign
    >>> U = np.linalg.qr(np.random.default_rng(0).standard_normal((8, 2)))[0]
    >>> M = U @ np.diag([1.0, 1e-2]) @ U.T
    >>> op = GaussianDesign(8, 8, 200, symmetric=True, seed=0)
    >>> res = scaled_gd(op, op.apply(M), rank=2, lam=5e-3, M_star=M, criterion="error", tol=1e-8)
    >>> res.success, res.nit < 200
    (True, True)
    """
    lam = check_positive(lam, "lam")
    return _symmetric_run("scaled_gd", op, y, X0, rank, alpha, step, lam, tol, max_iter, criterion,
                          M_star, seed, callback, verbose, record, 0.5)


# --------------------------------------------------------------------------------------
# asymmetric gradient descent and the one-step modification
# --------------------------------------------------------------------------------------


def _rebalance(xp, F, G, scale: float):
    """``F <- F P``, ``G <- G P^{-T}`` with ``P = sqrt(scale) (F^T F)^{-1/2}``: keeps ``F G^T``,
    makes ``F^T F = scale I``. Computed through ``eigh`` of the ``k x k`` Gram matrix."""
    from optlab._backend import eigh

    w, V = eigh(xp, xp.matmul(xp.matrix_transpose(F), F))
    wmax = float(xp.max(w))
    w = xp.clip(w, min(wmax * 1e-30, 1e-300) if wmax > 0 else 1e-300, None)
    s = math.sqrt(scale)
    P = xp.matmul(V * (s / xp.sqrt(w))[None, :], xp.matrix_transpose(V))
    Pinv_T = xp.matmul(V * (xp.sqrt(w) / s)[None, :], xp.matrix_transpose(V))  # symmetric
    return xp.matmul(F, P), xp.matmul(G, Pinv_T)


def _sqrtm_psd(xp, S):
    from optlab._backend import eigh

    w, V = eigh(xp, S)
    w = xp.clip(w, 0.0, None)
    return xp.matmul(V * xp.sqrt(w)[None, :], xp.matrix_transpose(V))


def gd_asymmetric(
    op: SensingOperator,
    y: Any,
    rank: int | None = None,
    F0: Any = None,
    G0: Any = None,
    *,
    alpha: float = 1e-3,
    init_ratio: float = 1.0 / 3.0,
    step: float | None = None,
    modification: str | None = None,
    modify_at: int | None = None,
    modify_tol: float = 1e-2,
    rebalance_scale: float | None = None,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    criterion: str = "residual",
    M_star: Any = None,
    seed: Any = 0,
    callback: Callable | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Gradient descent on the asymmetric factorization :math:`FG^\top` (+ the one-step fix).

    Minimizes :math:`f(F, G) = \tfrac12\|\mathcal A(FG^\top) - y\|^2` with simultaneous
    steps :math:`F_{t+1} = F_t - \eta\,\mathcal A^*(r_t)G_t`,
    :math:`G_{t+1} = G_t - \eta\,\mathcal A^*(r_t)^\top F_t`, :math:`r_t = \mathcal A(F_tG_t^\top) - y`.

    Theory (Xiong, Ding & Du 2024, abstract; the over-parameterized rate is their Theorem
    1.3, number as cited in the public ICLR 2024 reviews, body not read): exact
    parameterization converges as :math:`\exp(-\Omega(T))`; over-parameterized
    (``k > r``) from a random start of scale :math:`\alpha`, as
    :math:`\exp(-\Omega(\alpha^2T))`: the imbalance
    :math:`F^\top F - G^\top G`, of order :math:`\alpha^2` and nearly conserved by GD, is what
    contracts the redundant directions. Their one-step modification (Sec. 5, eq. (5.1))
    makes the rate independent of :math:`\alpha`.

    **The modification (reconstruction).** Only its place is verified (eq. (5.1) of
    Sec. 5: one extra step, executed once the iterates are sufficiently close to the
    optimum, a neighbourhood that a reviewer notes cannot be checked in practice since
    :math:`\Sigma` is unknown; public ICLR 2024 reviews); its exact form was not
    recovered. ``modification="rebalance"`` applies once the transform
    :math:`F \leftarrow FP`, :math:`G \leftarrow GP^{-\top}` with
    :math:`P = s^{1/2}(F^\top F)^{-1/2}`, which keeps :math:`FG^\top` unchanged and sets
    :math:`F^\top F = sI`: an imbalance of order :math:`s` in every direction, independent
    of :math:`\alpha`. ``s`` (``rebalance_scale``) defaults to :math:`\sigma_1(FG^\top)` at
    that iteration (the scale of :math:`M^\star`; measured: with it the rate after the
    step is about half the exact-parameterization rate, with :math:`s = 2.5\sigma_1` about
    a fifth). It is applied at iteration ``modify_at`` when given, else at the first
    iteration whose relative residual is below ``modify_tol`` (the paper gives no practical
    trigger).

    A symmetric design (``GaussianDesign(..., symmetric=True)``) measures only the
    symmetric part of :math:`FG^\top`; to use the asymmetric parameterization on a
    symmetric (PSD) problem, as Xiong et al. suggest, measure with a general design.

    Parameters
    ----------
    F0, G0 : arrays (n1, k), (n2, k), optional
        Start; default i.i.d. :math:`N(0, \alpha^2/n_1)` and
        :math:`N(0, (\alpha\cdot\text{init\_ratio})^2/n_2)` entries.
    init_ratio : float
        Scale of ``G0`` relative to ``F0`` (default 1/3, Xiong et al.'s "α and α/3", as
        quoted in the public ICLR 2024 reviews).
    step : float, optional
        Default :math:`0.5/\hat\sigma_1` as in :func:`gd_symmetric`.
    modification : {None, "rebalance"}
    modify_at : int, optional
    modify_tol : float
        Residual trigger of the modification (default 1e-2).
    rebalance_scale : float, optional
    op, y, rank, alpha, tol, max_iter, criterion, M_star, seed, callback, verbose, record
        As in :func:`gd_symmetric` (``M_star`` of shape ``op.shape``).

    Returns
    -------
    Result
        ``x`` and ``F`` the factor ``F``, ``G`` the factor ``G``, ``modified_at`` (iteration of
        the modification or None); history ``fun, residual, update, imbalance``
        (:math:`\|F^\top F - G^\top G\|_F`) (+ ``error``).

    Examples
    --------
    >>> import numpy as np
    >>> from optlab.lowrank.operators import GaussianDesign
    >>> rng = np.random.default_rng(0)
    >>> L, R = rng.standard_normal((8, 1)), rng.standard_normal((6, 1))
    >>> op = GaussianDesign(8, 6, 150, seed=0)
    >>> res = gd_asymmetric(op, op.apply(L @ R.T), rank=1, alpha=0.1, tol=1e-9)
    >>> res.success
    True
    """
    op, y, xp = _check_op_y(op, y)
    n1, n2 = op.shape
    alpha = check_positive(alpha, "alpha")
    init_ratio = check_positive(init_ratio, "init_ratio")
    tol, max_iter, criterion = _common_checks(tol, max_iter, criterion, M_star, callback)
    check_choice(modification, "modification", (None, "rebalance"))
    if modify_at is not None:
        modify_at = check_int(modify_at, "modify_at", minimum=0)
    modify_tol = check_positive(modify_tol, "modify_tol")
    M_star = _check_M_star(M_star, op.shape, xp)
    rng = np.random.default_rng(seed)
    F = _start_factor(xp, F0, n1, rank, alpha, rng, y, "F0")
    k = F.shape[1]
    G = _start_factor(xp, G0, n2, k, alpha * init_ratio, rng, y, "G0")
    if G.shape[1] != k:
        raise ValueError(f"F0 and G0 must have the same number of columns, got {k} and {G.shape[1]}")
    eta = _default_step(op, y, step, 0.5)
    if rebalance_scale is not None:
        rebalance_scale = check_positive(rebalance_scale, "rebalance_scale")
    loop = _Loop("gd_asymmetric", criterion=criterion, tol=tol, max_iter=max_iter, M_star=M_star,
                 ynorm=float(xp.linalg.vector_norm(y)), callback=callback, verbose=verbose, record=record)
    modified_at = None
    it = 0
    update = None
    while True:
        r = op.apply_factored(F, G) - y
        rn = float(xp.linalg.vector_norm(r))
        fun = 0.5 * rn * rn
        imb = float(xp.linalg.matrix_norm(xp.matmul(xp.matrix_transpose(F), F)
                                          - xp.matmul(xp.matrix_transpose(G), G)))
        out = loop.observe(it, F, G, fun, rn, update, imbalance=imb)
        if out is None and loop.mon.stop_requested(F, fun, it):
            out = (Status.CALLBACK, None)
        if out is not None:
            st, msg = out
            return loop.finish(F, fun, it, st, msg, F=F, G=G, step=eta, modified_at=modified_at, rank=k)
        if modification == "rebalance" and modified_at is None:
            trigger = (it >= modify_at) if modify_at is not None else (rn / loop.ynorm <= modify_tol)
            if trigger:
                if rebalance_scale is not None:
                    s = rebalance_scale
                else:  # sigma_1(F G^T)^2 = lambda_max((F^T F)(G^T G)), from k x k matrices
                    FtF = xp.matmul(xp.matrix_transpose(F), F)
                    GtG = xp.matmul(xp.matrix_transpose(G), G)
                    s = math.sqrt(max(float(xp.max(xp.linalg.eigvalsh(
                        xp.matmul(xp.matmul(_sqrtm_psd(xp, FtF), GtG), _sqrtm_psd(xp, FtF))))), 0.0))
                F, G = _rebalance(xp, F, G, s)
                modified_at = it
                r = op.apply_factored(F, G) - y
        gF = op.adjoint_matmul(r, G)
        gG = op.adjoint_rmatmul(r, F)
        F, G = F - eta * gF, G - eta * gG
        xn = math.hypot(float(xp.linalg.vector_norm(F)), float(xp.linalg.vector_norm(G)))
        un = eta * math.hypot(float(xp.linalg.vector_norm(gF)), float(xp.linalg.vector_norm(gG)))
        update = un / xn if xn > 0 else math.inf
        it += 1


# --------------------------------------------------------------------------------------
# sub-gradient method on the l1 loss
# --------------------------------------------------------------------------------------


def subgradient_l1(
    op: SensingOperator,
    y: Any,
    rank: int | None = None,
    U0: Any = None,
    *,
    alpha: float = 1e-6,
    step: float = 1.0,
    decay: float = 0.97,
    tol: float = 1e-10,
    max_iter: int = 2_000,
    criterion: str = "update",
    M_star: Any = None,
    seed: Any = 0,
    callback: Callable | None = None,
    verbose: int = 0,
    record: bool = True,
) -> Result:
    r"""Sub-gradient method on the :math:`\ell_1` loss with small init and geometric steps.

    Minimizes the non-smooth, non-convex :math:`f(U) = m^{-1/2}\|\mathcal A(UU^\top) - y\|_1`
    (Ma & Fattahi's :math:`\frac1m\|y - \mathcal A(UU^\top)\|_1` for unnormalized Gaussian
    :math:`A_i`) over :math:`U\in\mathbb R^{d\times r'}`, :math:`r' \ge r`:

    .. math::

        U_{t+1} = U_t - \eta_t Q_t,\quad
        Q_t = m^{-1/2}\big(\mathcal A^*(s_t) + \mathcal A^*(s_t)^\top\big)U_t \in \partial f(U_t),\quad
        s_t = \operatorname{sign}(\mathcal A(U_tU_t^\top) - y),\quad \eta_t = \eta_0\rho^t.

    Theory (Ma & Fattahi, JMLR 24(96), 2023, abstract; the loss is their
    :math:`f_{\ell_1}(U) = \frac1m\|y - \mathcal A(UU^\top)\|_1`,
    :math:`U\in\mathbb R^{d\times r'}`, second display of the introduction of arXiv v1,
    with :math:`y = \mathcal A(X^\star) + s`): with small initialization the method is
    agnostic to over-parameterization (its behaviour and the sample count do not depend on
    :math:`r'`) and converges to the ground truth under outliers of arbitrary magnitude
    (a fraction of the measurements) and Gaussian noise, via the Sign-RIP. The subgradient
    has size :math:`\approx 2\sqrt{2/\pi}\,\|\Delta U\|/\|\Delta\|_F` whatever the error
    :math:`\Delta`, so the step must decay geometrically for linear convergence; its rate
    is then :math:`\rho` once :math:`\eta_t` tracks the error.

    Parameters
    ----------
    step : float
        :math:`\eta_0` (dimensionless: :math:`Q` has the units of :math:`U`). Default 1.0
        (measured here: with ``decay=0.97`` it reaches the truth from :math:`\alpha` down to
        :math:`10^{-8}` under 30% outliers; smaller :math:`\eta_0/(1-\rho)` freezes early).
    decay : float
        :math:`\rho\in(0, 1)` (default 0.97). The geometric schedule is from the notes,
        [mem]: the paper's schedule, constants, initialization scale and allowed outlier
        fraction were not recovered (searched again; only the abstract and introduction
        were reachable), so 0.97 / 1.0 are measured choices, not paper values. :math:`\eta_0`
        and :math:`\rho` must let :math:`\sum_t \eta_t = \eta_0/(1-\rho)` cover the growth
        from :math:`\alpha` (about :math:`\log(1/\alpha)` divided by the Sign-RIP constant),
        else the iterates freeze before reaching :math:`M^\star`.
    criterion : str
        Default ``"update"``: stop when :math:`\eta_t\|Q_t\|_F/\|U_t\|_F \le` ``tol``
        (the residual does not vanish under outliers).
    alpha : float
        Initialization scale (default 1e-6). With :math:`r' > r` the error stalls at a
        floor that shrinks with :math:`\alpha` (measured: about :math:`10^{-3}` for
        :math:`\alpha = 10^{-6}` and :math:`10^{-5}` for :math:`10^{-8}` under 20-30%
        outliers, ``d = 30``, ``r = 2``, ``m = 20 d``); with :math:`r' = r` there is none.
    op, y, rank, U0, tol, max_iter, M_star, seed, callback, verbose, record
        As in :func:`gd_symmetric`.

    Returns
    -------
    Result
        ``x`` the factor ``U``; history ``fun`` (the :math:`\ell_1` loss), ``residual``
        (:math:`\|r\|_2/\|y\|_2`), ``update``, ``step`` (+ ``error``).

    Examples
    --------
    >>> import numpy as np
    >>> from optlab.lowrank.operators import GaussianDesign
    >>> U = np.linalg.qr(np.random.default_rng(0).standard_normal((10, 1)))[0]
    >>> op = GaussianDesign(10, 10, 200, symmetric=True, seed=0)
    >>> y = op.apply(U @ U.T); y[:20] += 10.0          # 10% gross outliers
    >>> res = subgradient_l1(op, y, rank=1, M_star=U @ U.T, max_iter=600)
    >>> bool(res.history["error"][-1] < 1e-6)
    True
    """
    op, y, xp = _check_op_y(op, y)
    n1, n2 = op.shape
    if n1 != n2:
        raise ValueError(f"the symmetric parameterization needs a square operator, got shape {op.shape}")
    alpha = check_positive(alpha, "alpha")
    step = check_positive(step, "step")
    decay = check_positive(decay, "decay")
    if decay > 1:
        raise ValueError(f"decay must be in (0, 1], got {decay!r}")
    tol, max_iter, criterion = _common_checks(tol, max_iter, criterion, M_star, callback)
    M_star = _check_M_star(M_star, op.shape, xp)
    U = _start_factor(xp, U0, n1, rank, alpha, seed, y, "U0")
    k = U.shape[1]
    sqm = math.sqrt(op.m)
    loop = _Loop("subgradient_l1", criterion=criterion, tol=tol, max_iter=max_iter, M_star=M_star,
                 ynorm=float(xp.linalg.vector_norm(y)), callback=callback, verbose=verbose, record=record)
    it = 0
    update = None
    eta = step
    while True:
        r = op.apply_factored(U) - y
        rn = float(xp.linalg.vector_norm(r))
        fun = float(xp.sum(xp.abs(r))) / sqm
        out = loop.observe(it, U, U, fun, rn, update, step=eta)
        if out is None and loop.mon.stop_requested(U, fun, it):
            out = (Status.CALLBACK, None)
        if out is not None:
            st, msg = out
            return loop.finish(U, fun, it, st, msg, rank=k)
        s = xp.sign(r)
        Q = (2.0 / sqm) * _sym_adjoint_matmul(op, s, U)
        U = U - eta * Q
        un = float(xp.linalg.vector_norm(U))
        update = eta * float(xp.linalg.vector_norm(Q)) / un if un > 0 else math.inf
        it += 1
        eta = step * decay**it
