r"""Claims: hypergradients by implicit (AID) and iterative (ITD) differentiation
(``optlab.bilevel.hypergrad``).

Sources: Lorraine, Vicol & Duvenaud, *Optimizing Millions of Hyperparameters by Implicit
Differentiation*, AISTATS 2020 (IFT hypergradient, eq. (4); truncated Neumann series,
eq. (9) / Algorithm 3); Grazzi, Franceschi, Pontil & Salzo, *On the Iteration Complexity of
Hypergradient Computation*, ICML 2020 (ITD error linear in T at the inner rate,
Theorem 2; for a quadratic lower level the rate is exactly ``q = 1 - alpha mu_g``).

1. ``bilevel.hypergrad.exact``: with an exact lower-level solution and enough CG
   iterations / Neumann terms / unrolled steps, AID-CG, AID-Neumann and ITD equal the
   closed-form hypergradient to relative error <= 1e-8 (``upper_bound``). Instances: the
   quadratic (5 x 20, kappa = 10), ridge on scikit-learn diabetes (scalar weight) and
   breast cancer (30 per-feature weights); the full tier adds a 20 x 200 quadratic and
   per-feature diabetes. The Neumann/ITD length is the ``K`` with ``q^K <= 1e-14``.
2. ``bilevel.hypergrad.itd_rate``: ITD from ``y_0 = 0`` with step ``1/L_g``: the error
   ``||grad_T - grad F||`` decays linearly in ``T``; the fitted factor
   (``optlab.rates.linear_rate`` over ``T = 0, 20, ..., 280`` down to 1e-13) is at most
   ``q = 1 - mu_g/L_g`` within 2% (``upper_bound``, measured/q).
3. ``bilevel.hypergrad.neumann_bound``: ``||v_K - v*|| <= q^(K+1) ||v*||`` at every ``K``
   (the exact identity ``v* - v_K = (I - alpha H)^(K+1) v*``): ``max_K`` ratio <= 1
   (``upper_bound``, slack 1e-8) and the fitted factor equals ``q`` within 2% (``tight``).
"""

from __future__ import annotations

import numpy as np
import pytest

from optlab.claims import Claim, register
from problems.bilevel import quadratic_bilevel, ridge_bilevel

from . import _bilevel as B

LVD = "Lorraine, Vicol & Duvenaud (2020), Optimizing Millions of Hyperparameters by Implicit Differentiation"
GFPS = "Grazzi, Franceschi, Pontil & Salzo (2020), On the Iteration Complexity of Hypergradient Computation"

EXACT = register(Claim(
    id="bilevel.hypergrad.exact", component="bilevel", paper=LVD,
    place="implicit function theorem (eq. numbers recalled, unverified)",
    statement="AID (CG, Neumann) and ITD equal the closed-form hypergradient when the inner problems are solved",
    kind="upper_bound", expected=1e-8, tolerance=0.0,
    quantity="max relative error over methods and instances (quadratic, ridge diabetes/breast_cancer)"))

ITD_RATE = register(Claim(
    id="bilevel.hypergrad.itd_rate", component="bilevel", paper=GFPS, place="ITD error bound, strongly convex inner (theorem number recalled)",
    statement="ITD error decays linearly in T at the inner method's rate q = 1 - alpha mu_g",
    kind="upper_bound", expected=1.0, tolerance=0.02,
    quantity="fitted linear factor of ||ITD_T - grad F|| vs T divided by q (worst instance)"))

NEU_BOUND = register(Claim(
    id="bilevel.hypergrad.neumann_bound", component="bilevel", paper=LVD, place="Neumann approximation (eq. (9), Alg. 3 as recalled)",
    statement="truncated Neumann series: ||v_K - v*|| <= (1 - alpha mu_g)^(K+1) ||v*||",
    kind="upper_bound", expected=1.0, tolerance=1e-8,
    quantity="max_K ||v_K - v*|| / ((1 - alpha mu)^(K+1) ||v*||)"))

NEU_RATE = register(Claim(
    id="bilevel.hypergrad.neumann_rate", component="bilevel", paper=LVD, place="Neumann approximation (eq. (9), Alg. 3 as recalled)",
    statement="the Neumann truncation error decays geometrically with factor 1 - alpha mu_g",
    kind="tight", expected=1.0, tolerance=0.02,
    quantity="fitted linear factor of ||v_K - v*|| vs K divided by q"))


def _rate_instances(full):
    out = [("quadratic(5,20)", quadratic_bilevel(5, 20, mu_g=0.1, L_g=1.0, seed=0), np.linspace(-1, 1, 5)),
           ("ridge(diabetes, per-feature)", ridge_bilevel("diabetes", per_feature=True), np.full(10, -1.0))]
    if full:
        out.append(("quadratic(20,200)", quadratic_bilevel(20, 200, mu_g=0.05, L_g=1.0, seed=1), np.ones(20)))
    return out


def _check(tier):
    full = tier == "full"
    r = B.hypergrad_exactness(full)
    v = EXACT.verify(r["worst"], tier=tier, details=r["rows"])
    assert v.passed, v.message
    itd_rows, bound_rows, rate_rows = {}, {}, {}
    for name, p, x in _rate_instances(full):
        q0 = B.itd_error_curve(p, x, [0])["q"]
        Ts = np.arange(0, int(np.log(1e-13) / np.log(q0)) + 1, max(1, int(0.05 / (1 - q0))))
        c = B.itd_error_curve(p, x, Ts)
        itd_rows[name] = {"q": c["q"], "fitted": B.fitted_rate(c["T"], c["error"]),
                          "errors": c["error"].tolist()[:: max(1, len(Ts) // 6)]}
        n = B.neumann_error_curve(p, x, Ts)
        bound_rows[name] = float(np.max(n["v_error"] / n["bound"]))
        rate_rows[name] = {"q": n["q"], "fitted": B.fitted_rate(n["K"], n["v_error"])}
    worst_itd = max(d["fitted"] / d["q"] for d in itd_rows.values())
    v = ITD_RATE.verify(worst_itd, tier=tier, details=itd_rows)
    assert v.passed, v.message
    v = NEU_BOUND.verify(max(bound_rows.values()), tier=tier, details=bound_rows)
    assert v.passed, v.message
    ratios = {k: d["fitted"] / d["q"] for k, d in rate_rows.items()}
    worst = max(ratios.values(), key=lambda t: abs(t - 1))
    v = NEU_RATE.verify(worst, tier=tier, details=rate_rows)
    assert v.passed, v.message


def test_hypergrad_claims_fast():
    _check("fast")


@pytest.mark.slow
def test_hypergrad_claims_full():
    _check("full")
