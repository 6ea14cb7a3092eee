r"""The problem definitions, derived symbolically: ``problems/`` oracles vs sympy.

Claim ``convex.problems.symbolic_derivatives``: for each problem family the
numerical ``value``, ``grad`` and ``hess`` of ``problems/`` agree with the exact
derivatives, computed by sympy, of the *formula* that defines the problem:

- least squares  :math:`f(x) = \frac{1}{2n}\|Ax - b\|^2`;
- ridge          :math:`f(x) = \frac{1}{2n}\|Ax - b\|^2 + \frac{\lambda}{2}\|x\|^2`;
- logistic       :math:`f(x) = \frac1n\sum_i \log(1 + e^{-y_i a_i^\top x}) + \frac{\lambda}{2}\|x\|^2`;
- Huber (Drori & Teboulle 2014, worst case of GD after ``N`` steps), with
  :math:`\eta = R/(2N+1)`: :math:`f(x) = \frac L2\|x\|^2` if :math:`\|x\| \le \eta`,
  else :math:`L\eta\|x\| - \frac{L\eta^2}{2}`;
- quadratic      :math:`f(x) = \frac12 x^\top Q x - b^\top x`;
- softmax        :math:`f(W) = \frac1n\sum_i [\log\sum_k e^{w_k^\top a_i} - w_{c_i}^\top a_i]
  + \frac{\lambda}{2}\|W\|_F^2` with ``x = W.ravel()`` (``K = 3`` classes, ``p = 2``);
- non-convex logistic :math:`f(x) = \frac1n\sum_i \log(1 + e^{-y_i a_i^\top x})
  + \alpha\sum_j \frac{x_j^2}{1 + x_j^2} + \frac{\lambda}{2}\|x\|^2`.

The data (``A``, ``b``, ``y``, ``Q``) are turned into exact rationals, the
derivatives are exact, and they are evaluated at random rational points (the
same float64 points the numerical code sees) with 30 significant digits.

Measured: the largest relative discrepancy
``||numeric - symbolic||_inf / ||symbolic||_inf`` over the value, the gradient and
the Hessian at every point. Kind ``upper_bound`` with expected ``1e-10`` and
tolerance ``0``: float64 evaluation of a correct formula is accurate to a few
units of rounding (~1e-15 for these small, well-scaled instances), while a wrong
factor, sign or missing term gives a discrepancy of order 1. The points avoid the
Huber kink ``||x|| = eta`` and include points on both pieces. A few seconds in all
(``d = 3``, softmax ``d = 6``; ``n <= 8``).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import problems as P
from optlab.claims import Claim, register

CLAIM = register(
    Claim(
        id="convex.problems.symbolic_derivatives",
        component="convex",
        paper=(
            "problem definitions: least squares, ridge, L2 logistic regression, "
            "Huber worst case (Drori & Teboulle 2014), quadratic, softmax regression, "
            "logistic with the non-convex regularizer sum x^2/(1+x^2)"
        ),
        place="problems/ (value, grad, hess)",
        statement="grad and hess are the exact derivatives of value's defining formula",
        kind="upper_bound",
        expected=1e-10,
        tolerance=0.0,
        quantity="max relative discrepancy |numeric - sympy|_inf / |sympy|_inf (value, grad, Hessian)",
    )
)

D = 3
DIGITS = 30


def _q(a: float) -> sp.Rational:
    """The exact rational value of a float64."""
    return sp.Rational(float(a))


def _least_squares_expr(x, A, b, lam=0):
    n = A.shape[0]
    res = [sum(_q(A[i, j]) * x[j] for j in range(len(x))) - _q(b[i]) for i in range(n)]
    reg = sp.Rational(lam) / 2 * sum(xi**2 for xi in x) if lam else 0
    return sum(r**2 for r in res) / (2 * n) + reg


def _logistic_expr(x, A, y, lam):
    n = A.shape[0]
    terms = [
        sp.log(1 + sp.exp(-_q(y[i]) * sum(_q(A[i, j]) * x[j] for j in range(len(x)))))
        for i in range(n)
    ]
    return sum(terms) / n + _q(lam) / 2 * sum(xi**2 for xi in x)


def _huber_expr(x, L, R, N):
    L, R = _q(L), _q(R)
    eta = R / (2 * N + 1)
    r2 = sum(xi**2 for xi in x)
    r = sp.sqrt(r2)
    return sp.Piecewise((L / 2 * r2, r2 <= eta**2), (L * eta * r - L * eta**2 / 2, True))


def _quadratic_expr(x, Q, b):
    d = len(x)
    quad = sum(_q(Q[i, j]) * x[i] * x[j] for i in range(d) for j in range(d)) / 2
    return quad - sum(_q(b[i]) * x[i] for i in range(d))


def _softmax_expr(x, A, labels, K, lam):
    n, p = A.shape
    W = [[x[k * p + j] for j in range(p)] for k in range(K)]
    terms = []
    for i in range(n):
        z = [sum(_q(A[i, j]) * W[k][j] for j in range(p)) for k in range(K)]
        terms.append(sp.log(sum(sp.exp(zk) for zk in z)) - z[int(labels[i])])
    return sum(terms) / n + _q(lam) / 2 * sum(xi**2 for xi in x)


def _nonconvex_logistic_expr(x, A, y, alpha, lam):
    reg = _q(alpha) * sum(xi**2 / (1 + xi**2) for xi in x)
    return _logistic_expr(x, A, y, lam) + reg


def _cases():
    ls = P.least_squares(6, D, seed=11)
    rd = P.ridge(6, D, 0.3, seed=12)
    lg = P.logistic_regression(8, D, lam=0.05, seed=13, use_cache=False)
    hb = P.huber_worst_case(2, L=1.5, R=1.0, d=D)
    qd = P.quadratic(D, L=2.0, mu=0.2, seed=14)
    sm = P.softmax_regression(6, 2, 3, lam=0.05, seed=15, use_cache=False)
    nc = P.nonconvex_logistic_regression(
        8, D, alpha=0.1, lam=0.01, seed=16, n_starts=4, use_cache=False
    )
    return {
        "least_squares": (ls, lambda x: _least_squares_expr(x, ls.data["A"], ls.data["b"])),
        "ridge": (
            rd,
            lambda x: _least_squares_expr(x, rd.data["A"], rd.data["b"], _q(rd.params["lam"])),
        ),
        "logistic": (
            lg,
            lambda x: _logistic_expr(x, lg.data["A"], lg.data["y"], lg.params["lam"]),
        ),
        "huber": (hb, lambda x: _huber_expr(x, 1.5, 1.0, 2)),
        "quadratic": (qd, lambda x: _quadratic_expr(x, qd.data["Q"], qd.data["b"])),
        "softmax": (
            sm,
            lambda x: _softmax_expr(
                x, sm.data["A"], sm.data["labels"], sm.params["K"], sm.params["lam"]
            ),
        ),
        "nonconvex_logistic": (
            nc,
            lambda x: _nonconvex_logistic_expr(
                x, nc.data["A"], nc.data["y"], nc.params["alpha"], nc.params["lam"]
            ),
        ),
    }


def _points(p, rng) -> list[np.ndarray]:
    pts = [p.x_star + rng.standard_normal(p.dim) for _ in range(2)]
    if "eta" in p.params:  # both Huber pieces, away from the kink
        eta = p.params["eta"]
        pts = [
            0.5 * eta * np.array([0.6, -0.3, 0.5]),
            3.0 * eta * np.array([0.2, 0.9, -0.4]),
            np.array([0.7, -0.2, 0.1]),
        ]
    return pts


def _rel(num, sym) -> float:
    num = np.asarray(num, dtype=np.float64)
    sym = np.asarray(sym, dtype=np.float64)
    return float(np.max(np.abs(num - sym)) / max(np.max(np.abs(sym)), np.finfo(float).tiny))


FAMILIES = [
    "least_squares",
    "ridge",
    "logistic",
    "huber",
    "quadratic",
    "softmax",
    "nonconvex_logistic",
]


@pytest.mark.parametrize("family", FAMILIES)
def test_symbolic_derivatives(family):
    p, build = _cases()[family]
    xs = sp.symbols(f"x0:{p.dim}", real=True)
    f = build(list(xs))
    grad = [sp.diff(f, xi) for xi in xs]
    hess = [[sp.diff(gi, xj) for xj in xs] for gi in grad]
    rng = np.random.default_rng(2024)
    worst = 0.0
    parts = {}
    for x in _points(p, rng):
        sub = {xi: _q(v) for xi, v in zip(xs, x, strict=True)}

        def ev(e, sub=sub):
            return float(sp.N(e.subs(sub), DIGITS))

        f_sym = ev(f)
        g_sym = np.array([ev(gi) for gi in grad])
        H_sym = np.array([[ev(h) for h in row] for row in hess])
        errs = {
            "value": _rel(p.value(x), f_sym),
            "grad": _rel(p.grad(x), g_sym),
            "hess": _rel(p.hess(x), H_sym),
        }
        for k, v in errs.items():
            parts[k] = max(parts.get(k, 0.0), v)
        worst = max(worst, *errs.values())
    verdict = CLAIM.verify(worst, tier="fast", details={"problem": p.name, "d": p.dim, **parts})
    assert verdict.passed, verdict.message
