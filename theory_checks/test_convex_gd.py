r"""Claims: gradient descent (``optlab.convex.gradient_descent``) on smooth convex problems.

Sources (iterates numbered from :math:`x_0`, ``k`` = number of steps):

- Garrigos & Gower (2023), arXiv:2301.11235, Section 3: step :math:`\gamma \le 1/L` on a
  convex :math:`L`-smooth :math:`f` gives :math:`f(x_k) - f_\star \le
  \|x_0 - x_\star\|^2/(2\gamma k)`, i.e. :math:`L\|x_0-x_\star\|^2/(2k)` for
  :math:`\gamma = 1/L`. (The theorem number, 3.4 in the solver's docstring, could not
  be confirmed from the sources reachable here.)
- Bubeck (2015), arXiv:1405.4980v2: Theorem 3.3 (p. 267), :math:`f(x_t) - f_\star \le
  2\beta\|x_1 - x_\star\|^2/(t-1)`, i.e. :math:`2L\|x_0 - x_\star\|^2/k` in our indexing;
  Theorem 3.10, step :math:`1/\beta` on an :math:`\alpha`-strongly convex
  :math:`\beta`-smooth :math:`f`: :math:`\|x_{t+1} - x_\star\|^2 \le e^{-t/\kappa}
  \|x_1 - x_\star\|^2`.
- Nesterov (2004), Theorem 2.1.15: step :math:`2/(L+\mu)` gives
  :math:`\|x_{k+1} - x_\star\| \le \frac{\kappa-1}{\kappa+1}\|x_k - x_\star\|` at every
  step (the proof is per step), tight on the quadratic with eigenvalues
  :math:`\mu, L` (``problems.strongly_convex_worst_quadratic``).

Measured figures: ``max_k gap_k / bound_k`` over every iterate of every instance
(``upper_bound``, slack 1e-9 relative to absorb rounding of :math:`f_\star`); the
per-step contraction :math:`\max_k \|x_{k+1}-x_\star\|/\|x_k-x_\star\|` and the fitted
linear rate (``optlab.rates.linear_rate``) against :math:`q = (\kappa-1)/(\kappa+1)`
(slack 1e-6: on least squares, whose ``mu`` and ``L`` are the exact extreme eigenvalues,
the per-step ratio tends to :math:`q` itself, so only rounding separates them; distances
below ``FLOOR (1 + ||x*||)`` are left out);
on the worst quadratic the fitted rate must equal :math:`q` (``tight``, 1e-6).
The OLS slope of :math:`\log d_k` against :math:`k` is a positive weighted average of
the per-step log-ratios, so a per-step contraction :math:`\le q` also bounds the fitted
rate by :math:`q` (no extra band is needed).
"""

from __future__ import annotations

import numpy as np
import pytest

from optlab.claims import Claim, register
from optlab.rates import linear_rate
from problems import (
    huber_worst_case,
    least_squares,
    logistic_breast_cancer,
    logistic_mushrooms,
    logistic_regression,
    nesterov_worst_case,
    ridge,
    strongly_convex_worst_quadratic,
)

from . import _convex as C

#: distances below FLOOR * (1 + ||x*||) are at the rounding level and carry no rate
FLOOR = 1e-7

GG = "Garrigos & Gower (2023), Handbook of Convergence Theorems for (Stochastic) Gradient Methods, arXiv:2301.11235"
BUBECK = "Bubeck (2015), Convex Optimization: Algorithms and Complexity, arXiv:1405.4980v2"
NES = "Nesterov (2004), Introductory Lectures on Convex Optimization"

SMOOTH_GG = register(Claim(
    id="convex.gd.smooth_convex_bound",
    component="convex",
    paper=GG,
    place="Section 3, GD on convex L-smooth f (theorem number unverified)",
    statement="GD with step 1/L: f(x_k) - f* <= L ||x0 - x*||^2 / (2k) for every k >= 1",
    kind="upper_bound",
    expected=1.0,
    tolerance=1e-9,
    quantity="max over instances and k of (f(x_k) - f*) / (L ||x0 - x*||^2 / (2k))",
))
SMOOTH_BUBECK = register(Claim(
    id="convex.gd.smooth_convex_bound_bubeck",
    component="convex",
    paper=BUBECK,
    place="Theorem 3.3",
    statement="GD with step 1/beta: f(x_t) - f* <= 2 beta ||x_1 - x*||^2 / (t - 1), t >= 2 "
              "(= 2 L ||x0 - x*||^2 / k after k steps)",
    kind="upper_bound",
    expected=1.0,
    tolerance=1e-9,
    quantity="max over instances and k of (f(x_k) - f*) / (2 L ||x0 - x*||^2 / k)",
))
SC_BUBECK = register(Claim(
    id="convex.gd.strongly_convex_contraction",
    component="convex",
    paper=BUBECK,
    place="Theorem 3.10",
    statement="GD with step 1/beta on alpha-strongly convex beta-smooth f: "
              "||x_k - x*||^2 <= exp(-k/kappa) ||x0 - x*||^2",
    kind="upper_bound",
    expected=1.0,
    tolerance=1e-9,
    quantity="max over instances and k >= 1 of (||x_k - x*||/||x0 - x*||)^2 / exp(-k mu/L)",
))
SC_STEP = register(Claim(
    id="convex.gd.strongly_convex_per_step",
    component="convex",
    paper=NES,
    place="Theorem 2.1.15",
    statement="GD with step 2/(L+mu): ||x_{k+1} - x*|| <= (kappa-1)/(kappa+1) ||x_k - x*|| at every step",
    kind="upper_bound",
    expected=1.0,
    tolerance=1e-6,
    quantity="max over instances and k of (||x_{k+1} - x*|| / ||x_k - x*||) / q, q = (kappa-1)/(kappa+1)",
))
SC_FITTED = register(Claim(
    id="convex.gd.strongly_convex_fitted_rate",
    component="convex",
    paper=NES,
    place="Theorem 2.1.15",
    statement="GD with step 2/(L+mu) converges linearly at least as fast as q = (kappa-1)/(kappa+1)",
    kind="upper_bound",
    expected=1.0,
    tolerance=1e-6,
    quantity="max over instances of linear_rate(||x_k - x*||) / q",
))
SC_TIGHT = register(Claim(
    id="convex.gd.strongly_convex_rate_tight",
    component="convex",
    paper=NES,
    place="Theorem 2.1.15 (tight on diag(mu, L))",
    statement="on the quadratic with eigenvalues mu and L, GD with step 2/(L+mu) contracts by exactly "
              "(kappa-1)/(kappa+1) per step",
    kind="tight",
    expected=1.0,
    tolerance=1e-6,
    quantity="linear_rate(||x_k - x*||) / q on strongly_convex_worst_quadratic",
))


# ----------------------------------------------------------------------------- measurements
def _smooth_ratios(problems_: list, n_iter: int) -> dict:
    """max_k gap_k / bound_k for both bounds, per instance."""
    out = {}
    for p in problems_:
        g = C.gaps(C.run_gd(p, n_iter), p.f_star, n_iter)
        R2 = float(np.sum((p.x0 - p.x_star) ** 2))
        k = np.arange(1, n_iter + 1)
        out[p.name] = {
            "gg": float(np.max(g[1:] / (p.L * R2 / (2 * k)))),
            "bubeck": float(np.max(g[1:] / (2 * p.L * R2 / k))),
            "final_gap": float(g[-1]),
        }
    return out


def _sc_ratios(problems_: list, n_iter: int) -> dict:
    out = {}
    for p in problems_:
        kappa = p.L / p.mu
        q = (kappa - 1) / (kappa + 1)
        # ratios of distances need distances well above the rounding level of x_k
        # (~1e-16 ||x*||): keep d_k > FLOOR (1 + ||x*||), ratio errors then < 1e-8
        floor = FLOOR * (1.0 + float(np.linalg.norm(p.x_star)))
        d1 = C.distances_gd(p, n_iter)  # step 1/L
        k = np.arange(n_iter + 1)
        above = (d1 > floor) & (k >= 1)
        bub = float(np.max((d1[above] / d1[0]) ** 2 / np.exp(-k[above] * p.mu / p.L)))
        d2 = C.distances_gd(p, n_iter, step=2.0 / (p.L + p.mu))
        ok = d2[:-1] > floor
        step = float(np.max((d2[1:][ok] / d2[:-1][ok]) / q))
        fit = linear_rate(d2, floor=floor)
        out[p.name] = {"kappa": kappa, "q": q, "bubeck": bub, "per_step": step,
                       "fitted": fit.value / q, "fit_r2": fit.r2, "fit_window": list(fit.window)}
    return out


def _verify_smooth(ratios: dict, tier: str):
    vs = []
    for claim, key in ((SMOOTH_GG, "gg"), (SMOOTH_BUBECK, "bubeck")):
        m = max(r[key] for r in ratios.values())
        vs.append(claim.verify(m, tier=tier, details={n: r[key] for n, r in ratios.items()}))
    return vs


def _verify_sc(ratios: dict, tier: str):
    vs = []
    for claim, key in ((SC_BUBECK, "bubeck"), (SC_STEP, "per_step"), (SC_FITTED, "fitted")):
        m = max(r[key] for r in ratios.values())
        vs.append(claim.verify(m, tier=tier, details={n: r[key] for n, r in ratios.items()}))
    return vs


def _tight(n_iter: int, L: float, mu: float, tier: str):
    p = strongly_convex_worst_quadratic(L=L, mu=mu)
    q = (L - mu) / (L + mu)
    d = C.distances_gd(p, n_iter, step=2.0 / (L + mu))
    fit = linear_rate(d)
    return SC_TIGHT.verify(fit.value / q, tier=tier,
                           details={"L": L, "mu": mu, "q": q, "fitted": fit.value, "r2": fit.r2,
                                    "window": list(fit.window)})


# ----------------------------------------------------------------------------- fast tier
@pytest.fixture(scope="module")
def fast_smooth():
    probs = [
        least_squares(200, 50, seed=0),
        least_squares(50, 100, seed=1),  # rank deficient: convex, not strongly convex
        logistic_breast_cancer(),
        logistic_mushrooms(),
        huber_worst_case(50),
    ]
    return _smooth_ratios(probs, 300)


def test_gd_smooth_convex_bound(fast_smooth):
    for v in _verify_smooth(fast_smooth, "fast"):
        assert v.passed, v.message


def test_gd_strongly_convex():
    probs = [least_squares(200, 50, seed=0), ridge(100, 30, lam=0.1, seed=0),
             logistic_breast_cancer(lam=0.1), strongly_convex_worst_quadratic(L=1.0, mu=0.05)]
    for v in _verify_sc(_sc_ratios(probs, 200), "fast"):
        assert v.passed, v.message


def test_gd_strongly_convex_tight():
    v = _tight(100, 1.0, 0.1, "fast")
    assert v.passed, v.message


# ----------------------------------------------------------------------------- full tier
@pytest.mark.slow
def test_gd_smooth_convex_bound_full():
    probs = [
        least_squares(500, 100, seed=0),
        least_squares(100, 300, seed=1),
        ridge(300, 50, lam=1e-3, seed=2),
        logistic_regression(1000, 50, seed=0),
        logistic_breast_cancer(),
        logistic_mushrooms(),
        nesterov_worst_case(201),
        *[huber_worst_case(N) for N in (10, 100, 1000)],
    ]
    for v in _verify_smooth(_smooth_ratios(probs, 3000), "full"):
        assert v.passed, v.message


@pytest.mark.slow
def test_gd_strongly_convex_full():
    probs = [least_squares(500, 100, seed=0), ridge(300, 50, lam=0.05, seed=2),
             logistic_regression(1000, 50, lam=0.05, seed=0), logistic_breast_cancer(lam=0.01),
             logistic_mushrooms(lam=0.01),
             *[strongly_convex_worst_quadratic(L=1.0, mu=mu) for mu in (0.5, 0.1, 0.01)]]
    for v in _verify_sc(_sc_ratios(probs, 2000), "full"):
        assert v.passed, v.message
    worst = None
    for mu in (0.5, 0.1, 0.01):
        v = _tight(int(40 / mu), 1.0, mu, "full")
        if worst is None or abs(v.measured - 1) > abs(worst.measured - 1):
            worst = v
    assert worst.passed, worst.message

