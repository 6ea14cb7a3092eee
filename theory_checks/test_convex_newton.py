r"""Claim: Newton's method (``optlab.convex.newton``) converges quadratically near the solution.

Nesterov (2004), Introductory Lectures on Convex Optimization, Section 1.2.4 (local
convergence of Newton's method; Theorem 1.2.5 in the solver's docstring, number not
confirmed from the sources reachable here): if :math:`\nabla^2 f` is :math:`M`-Lipschitz
and :math:`\nabla^2 f(x_\star) \succeq \ell I`, then near :math:`x_\star`
:math:`\|x_{k+1} - x_\star\| \le \frac{M\|x_k - x_\star\|^2}{2(\ell - M\|x_k - x_\star\|)}`:
Q-order 2. Boyd & Vandenberghe (2004), Section 9.5.3, give the same quadratic phase for
the damped method, which takes unit steps there.

Instances: L2-regularized logistic regression (smooth, strongly convex, Lipschitz
Hessian) on real data (breast cancer, LIBSVM mushrooms) and synthetic data. Measured:
``optlab.rates.convergence_order`` on :math:`e_k = \|x_k - x_\star\|` (iterates from the
callback; :math:`x_\star` is polished to ~1e-16 gradient norm) over the last 4 errors
above the floor :math:`10^{-13}(1 + \|x_\star\|)`, i.e. the local region (``tail=4``: 3
pairs, the classical three-point estimate averaged). Band ``2 +- 0.2``: the estimate of
:math:`p` in :math:`e_{k+1} \approx C_k e_k^p` is biased by the drift of :math:`C_k` (of
order :math:`\log(C_{k+1}/C_k)/\log e_k`, a few percent here: measured 1.97-1.99); the
band excludes superlinear-but-not-quadratic behaviour (quasi-Newton, order ~1.3-1.6) and
linear convergence (1).
"""

from __future__ import annotations

import numpy as np
import pytest

from optlab.claims import Claim, register
from optlab.convex import newton
from optlab.rates import convergence_order
from problems import logistic_breast_cancer, logistic_mushrooms, logistic_regression

NEWTON_ORDER = register(Claim(
    id="convex.newton.quadratic_order",
    component="convex",
    paper="Nesterov (2004), Introductory Lectures on Convex Optimization; Boyd & Vandenberghe (2004)",
    place="Nesterov Section 1.2.4, local convergence of Newton's method (theorem number unverified); "
          "B&V Section 9.5.3",
    statement="Newton's method converges with Q-order 2 once in the local region",
    kind="order",
    expected=2.0,
    tolerance=0.2,
    quantity="convergence_order(||x_k - x*||, tail=4) farthest from 2 over the instances",
))


def _orders(problems_) -> dict:
    out = {}
    for p in problems_:
        xs: list[np.ndarray] = []
        res = newton(p.value, p.grad, p.hess, p.x0, tol=1e-30, max_iter=50,
                     callback=lambda r, xs=xs: xs.append(np.array(r.x)))
        if not xs or not np.array_equal(xs[-1], np.asarray(res.x)):
            xs.append(np.asarray(res.x))  # the callback is not called at the converged iterate
        e = np.array([np.linalg.norm(x - p.x_star) for x in xs])
        fit = convergence_order(e, floor=1e-13 * (1.0 + float(np.linalg.norm(p.x_star))), tail=4)
        out[f"{p.name} seed={p.seed}"] = {"order": fit.value, "superlinear": bool(fit.extra["superlinear"]),
                       "nit": int(res.nit), "errors": e.tolist(), "unit_steps": bool(
                           np.all(res.history["step"][1:] == 1.0))}
    return out


def _verify(r: dict, tier: str):
    m = max((v["order"] for v in r.values()), key=lambda o: abs(o - 2.0))
    return NEWTON_ORDER.verify(m, tier=tier, details=r)


def test_newton_quadratic_order():
    r = _orders([logistic_breast_cancer(), logistic_mushrooms(), logistic_regression(1000, 50, seed=0)])
    assert all(v["superlinear"] for v in r.values()), r
    v = _verify(r, "fast")
    assert v.passed, v.message


@pytest.mark.slow
def test_newton_quadratic_order_full():
    probs = [logistic_breast_cancer(lam=lam) for lam in (1e-4, 1e-3, 1e-2)]
    probs += [logistic_mushrooms(lam=lam) for lam in (1e-4, 1e-3)]
    probs += [logistic_regression(2000, 100, seed=s) for s in (0, 1, 2)]
    r = _orders(probs)
    assert all(v["superlinear"] for v in r.values()), r
    v = _verify(r, "full")
    assert v.passed, v.message
