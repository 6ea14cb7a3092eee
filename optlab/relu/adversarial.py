r"""Convex adversarial training of a two-layer ReLU network against
:math:`\ell_\infty` perturbations :math:`\|\delta\|_\infty \le \epsilon` (Bai, Gautam, Gai &
Sojoudi, *Practical convex formulation of robust one-hidden-layer neural network training*,
ACC 2022, arXiv:2105.12237; Bai, Gautam & Sojoudi 2023, Sec. 4). Reconstruction from
``../shared/papers/anchor_relu_bilevel.md`` A5; the papers' exact statements were not retrieved.

**Robust pattern constraints.** Requiring the activation pattern of every training point
to survive every perturbation gives, with :math:`s_{ik} = 2d_{ik} - 1`,
:math:`\min_{\|\delta\|_\infty \le \epsilon} s_{ik}(x_k + \delta)^\top v_i
= s_{ik} x_k^\top v_i - \epsilon\|v_i\|_1`, i.e. the convex constraints
:math:`(2D_i - I) X v_i \ge \epsilon \|v_i\|_1 \mathbb{1}` (same for :math:`w_i`).

**Robust losses.** With the pattern fixed the output is affine in :math:`\delta`:
:math:`\hat y_k(\delta) = \hat y_k + \delta^\top a_k`, :math:`a_k = \sum_i d_{ik}(v_i - w_i)`,
whose worst case over the box moves it by :math:`\epsilon\|a_k\|_1`:

* hinge: :math:`\sum_k (1 - y_k\hat y_k + \epsilon\|a_k\|_1)_+`;
* squared: :math:`\frac12\sum_k (|\hat y_k - y_k| + \epsilon\|a_k\|_1)^2`;
* logistic: :math:`\sum_k \log(1 + e^{-y_k\hat y_k + \epsilon\|a_k\|_1})`.

For the recovered network (:mod:`optlab.relu.recovery`) these are exactly the worst-case
training losses over the box, so the optimum is a *certified* robust training objective and
:func:`certified_accuracy` counts the training points whose worst-case margin is positive.
With ``bias=True`` the last column of ``X`` is a constant and is not perturbed.

:func:`fgsm` and :func:`pgd` attack any network ``(U, alpha)`` (Goodfellow et al. 2015;
Madry et al. 2018); :func:`train_network_pgd` is the PGD adversarial-training baseline.

Examples
--------
>>> import numpy as np
>>> from optlab.relu import sample_patterns, solve_robust_cvxpy, certified_accuracy
>>> rng = np.random.default_rng(0)
>>> X = np.c_[rng.standard_normal((30, 2)), np.ones(30)]; y = np.sign(X[:, 0] + 0.1)
>>> D = sample_patterns(X, 8, seed=0)
>>> res = solve_robust_cvxpy(X, y, D, beta=0.01, epsilon=0.05, loss="hinge", bias=True)
>>> 0.5 < certified_accuracy(X, y, D, res.V, res.W, 0.05, bias=True) <= 1.0
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optlab._backend import get_namespace, to_numpy
from optlab._validate import check_array, check_choice, check_int, check_nonnegative, check_positive
from optlab.result import Result

from .formulation import _solve_cvxpy_checked, check_problem, convex_predict
from .recovery import network_forward

__all__ = [
    "robust_objective",
    "solve_robust_cvxpy",
    "robust_violation",
    "certified_accuracy",
    "fgsm",
    "pgd",
    "attack_accuracy",
    "train_network_pgd",
]


def _free(d: int, bias: bool) -> slice:
    return slice(0, d - 1) if bias else slice(0, d)


def robust_objective(X, y, D, V, W, beta, epsilon, *, loss="hinge", bias=False) -> float:
    """The robust convex objective (module docstring) at ``(V, W)`` (host float)."""
    xp = get_namespace(X, V)
    fr = _free(X.shape[1], bias)
    yhat = convex_predict(X, D, V, W)
    A = D @ (V - W)  # (n, d)
    pert = epsilon * xp.sum(xp.abs(A[:, fr]), axis=1)
    if loss == "squared":
        e = xp.abs(yhat - y) + pert
        data = 0.5 * float(xp.sum(e * e))
    elif loss == "hinge":
        data = float(xp.sum(xp.maximum(1.0 - y * yhat + pert, 0.0)))
    else:
        m = -y * yhat + pert
        data = float(xp.sum(xp.logaddexp(xp.zeros_like(m), m)))
    reg = float(xp.sum(xp.linalg.vector_norm(V, axis=1)) + xp.sum(xp.linalg.vector_norm(W, axis=1)))
    return data + float(beta) * reg


def robust_violation(X, D, V, W, epsilon, *, bias=False) -> float:
    r"""Largest violation of :math:`(2D_i - I)Xv_i \ge \epsilon\|v_i\|_1` (and for ``W``)."""
    xp = get_namespace(X, V)
    fr = _free(X.shape[1], bias)
    S = 2.0 * D - 1.0
    out = 0.0
    for B in (V, W):
        l1 = xp.sum(xp.abs(B[:, fr]), axis=1)  # (P,)
        G = S * (X @ xp.matrix_transpose(B)) - epsilon * l1[None, :]
        out = max(out, float(xp.max(xp.maximum(-G, 0.0))))
    return out


def solve_robust_cvxpy(
    X: Any,
    y: Any,
    D: Any,
    beta: float,
    epsilon: float,
    *,
    loss: str = "hinge",
    bias: bool = False,
    solver: str = "CLARABEL",
    tol: float | None = None,
    verbose: int = 0,
    **solver_options: Any,
) -> Result:
    r"""Solve the robust convex program (module docstring) with CVXPY/Clarabel.

    Parameters
    ----------
    X, y, D, beta
        As in :func:`optlab.relu.solve_cvxpy` (``y`` in ``{-1, +1}`` for hinge/logistic).
    epsilon : float
        Radius of the :math:`\ell_\infty` ball (``>= 0``; 0 gives the standard program).
    loss : {"hinge", "squared", "logistic"}
    bias : bool
        The last column of ``X`` is a constant bias feature (not perturbed).

    Returns
    -------
    Result
        As :func:`~optlab.relu.solve_cvxpy`; ``fun`` is the robust objective and
        ``violation`` the standard cone violation; ``robust_violation`` added.
    """
    X, y, D, beta = check_problem(X, y, D, beta, loss=loss)
    epsilon = check_nonnegative(epsilon, "epsilon")
    res = _solve_cvxpy_checked(X, y, D, beta, loss=loss, solver=solver, tol=tol, verbose=verbose,
                               epsilon=epsilon, bias=bool(bias), **solver_options)
    if res.get("V") is not None:
        res["robust_violation"] = robust_violation(X, D, res.V, res.W, epsilon, bias=bias)
    return res


def certified_accuracy(X, y, D, V, W, epsilon, *, bias=False, tol=1e-6) -> float:
    r"""Fraction of training points certified robust: worst-case margin
    :math:`y_k\hat y_k - \epsilon\|a_k\|_1 > \text{tol}` (a solver-accuracy margin: points
    with margin 0 up to rounding are not counted) *and* every pattern robustly preserved at
    that point (up to ``tol``); valid for the training rows that define ``D``."""
    xp = get_namespace(X, V)
    fr = _free(X.shape[1], bias)
    yhat = convex_predict(X, D, V, W)
    A = D @ (V - W)
    margin = y * yhat - epsilon * xp.sum(xp.abs(A[:, fr]), axis=1)
    S = 2.0 * D - 1.0
    ok = margin > tol
    for B in (V, W):
        l1 = xp.sum(xp.abs(B[:, fr]), axis=1)
        G = S * (X @ xp.matrix_transpose(B)) - epsilon * l1[None, :]
        ok = ok & xp.all(G >= -tol * (1.0 + l1[None, :]), axis=1)
    return float(xp.mean(xp.astype(ok, X.dtype)))


def _input_grad(Xp, U, alpha):
    """Gradient of the network output with respect to each input row (NumPy)."""
    act = (Xp @ U.T > 0).astype(Xp.dtype)  # (n, m)
    return (act * alpha[None, :]) @ U


def _mask(d, bias):
    m = np.ones(d)
    if bias:
        m[-1] = 0.0
    return m


def fgsm(X, y, U, alpha, epsilon, *, bias=False):
    r"""Fast gradient sign attack on the margin :math:`y f(x)`:
    :math:`x - \epsilon\,\mathrm{sign}(y\nabla_x f(x))` (bias coordinate untouched)."""
    Xn, yn, Un, an = (to_numpy(t) for t in (X, y, U, alpha))
    epsilon = check_nonnegative(epsilon, "epsilon")
    g = _input_grad(Xn, Un, an) * yn[:, None]
    return Xn - epsilon * np.sign(g) * _mask(Xn.shape[1], bias)


def pgd(X, y, U, alpha, epsilon, *, steps=40, step_size=None, bias=False, seed=0, restarts=1):
    r"""Projected gradient (sign) attack on the margin within the :math:`\ell_\infty` ball
    (Madry et al. 2018): ``steps`` iterations of step ``step_size`` (default
    :math:`2.5\epsilon/\text{steps}`), random start, best of ``restarts``."""
    Xn, yn, Un, an = (to_numpy(t) for t in (X, y, U, alpha))
    epsilon = check_nonnegative(epsilon, "epsilon")
    steps = check_int(steps, "steps", minimum=1)
    eta = 2.5 * epsilon / steps if step_size is None else check_positive(step_size, "step_size")
    mask = _mask(Xn.shape[1], bias)
    rng = np.random.default_rng(seed)
    best = Xn.copy()
    best_m = yn * (np.maximum(Xn @ Un.T, 0.0) @ an)
    for _ in range(restarts):
        delta = rng.uniform(-epsilon, epsilon, Xn.shape) * mask
        for _ in range(steps):
            g = _input_grad(Xn + delta, Un, an) * yn[:, None]
            delta = np.clip(delta - eta * np.sign(g) * mask, -epsilon, epsilon)
        Xa = Xn + delta
        m = yn * (np.maximum(Xa @ Un.T, 0.0) @ an)
        worse = m < best_m
        best[worse] = Xa[worse]
        best_m = np.minimum(best_m, m)
    return best


def attack_accuracy(X, y, U, alpha, epsilon, *, attack="pgd", bias=False, **kw) -> float:
    """Accuracy of the network ``(U, alpha)`` on ``(X, y)`` under an attack
    (``"none"``, ``"fgsm"``, ``"pgd"``)."""
    check_choice(attack, "attack", ("none", "fgsm", "pgd"))
    Xn, yn = to_numpy(X), to_numpy(y)
    if attack == "fgsm":
        Xn = fgsm(Xn, yn, U, alpha, epsilon, bias=bias)
    elif attack == "pgd":
        Xn = pgd(Xn, yn, U, alpha, epsilon, bias=bias, **kw)
    pred = to_numpy(network_forward(Xn, to_numpy(U), to_numpy(alpha)))
    return float(np.mean(np.sign(pred) == yn))


def train_network_pgd(X, y, m, beta, epsilon, *, loss="hinge", step=1e-2, max_iter=500, pgd_steps=10,
                      bias=False, seed=0):
    r"""PGD adversarial training of the non-convex network (Madry et al. 2018), full batch,
    Adam: each iteration attacks the current network (``pgd_steps`` sign steps) and takes an
    Adam step on the loss at the attacked points plus the weight decay. Returns ``(U, alpha)``."""
    from .recovery import _loss_grad

    Xn = to_numpy(check_array(X, "X", ndim=2))
    yn = to_numpy(check_array(y, "y", shape=(Xn.shape[0],)))
    n, d = Xn.shape
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((m, d)) * np.sqrt(2.0 / d)
    a = rng.standard_normal(m) / np.sqrt(m)
    mU, ma, vU, va = (np.zeros_like(U), np.zeros_like(a), np.zeros_like(U), np.zeros_like(a))
    for k in range(1, max_iter + 1):
        Xa = pgd(Xn, yn, U, a, epsilon, steps=pgd_steps, bias=bias, seed=k) if epsilon > 0 else Xn
        Z = Xa @ U.T
        Hh = np.maximum(Z, 0.0)
        _, g = _loss_grad(Hh @ a, yn, loss)
        ga = Hh.T @ g + beta * a
        gU = ((g[:, None] * (Z > 0)) * a[None, :]).T @ Xa + beta * U
        mU, ma = 0.9 * mU + 0.1 * gU, 0.9 * ma + 0.1 * ga
        vU, va = 0.999 * vU + 0.001 * gU * gU, 0.999 * va + 0.001 * ga * ga
        c1, c2 = 1 - 0.9 ** k, 1 - 0.999 ** k
        U = U - step * (mU / c1) / (np.sqrt(vU / c2) + 1e-8)
        a = a - step * (ma / c1) / (np.sqrt(va / c2) + 1e-8)
    return U, a
