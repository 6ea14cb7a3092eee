r"""Claims: MAID, adaptively inexact bilevel descent (``optlab.bilevel.maid``).

Source: Salehi, Mukherjee, Roberts & Ehrhardt, *An adaptively inexact first-order method
for bilevel optimization with application to hyperparameter learning*, SIMODS (arXiv
2308.10098): abstract and main theorem (number unverified; convergence to a stationary point; accuracies
chosen dynamically; robust to the initial accuracies and step size).

Instance: ``quadratic_bilevel(5, 20, mu_g=0.1, L_g=1)`` (closed-form ``grad F``),
``tol = 1e-3`` on the certified bound ``||p|| + omega``; official defaults otherwise.

1. ``bilevel.maid.stationary``: from every ``eps0 = delta0 in {1e-1, 1e-2, 1e-3}`` and
   ``step0 in {1e-2, 1e-1}`` MAID stops with the exact ``||grad F|| <= tol``:
   ``max`` of ``||grad F(x_final)|| / tol <= 1`` (``upper_bound``). (``step0 = 1`` fails at
   the first iteration on this instance: the line search's at most 3 rounds of
   ``j + 10`` trials with ``rho = 0.9`` cannot shrink the step enough; reported by the
   solver as STAGNATION.)
2. ``bilevel.maid.fewer_lower_iterations``: lower-level iterations to reach the exact
   ``||grad F|| <= 1e-3``, best fixed-accuracy schedule (same algorithm, accuracy fixed at
   ``eps in {1e-3, ..., 1e-10}``, the cheapest one that reaches the target) divided by
   MAID's: ``>= 1`` (``comparison``). **Measured 0.57 on this instance: the claim FAILS
   here** (fixed ``eps = 1e-9`` reaches the target with 13,147 lower iterations, MAID with
   23,255). Looser fixed accuracies stall (the inexact line search cannot certify
   descent). MAID spends its extra lower-level work in backtracking rounds that fail
   because ``eps`` is still too loose for the ``eta^2`` test. With a linearly convergent
   lower solver, a tight accuracy costs only ``log(1/eps)`` steps, so the fixed schedule
   tuned in hindsight wins. The test records the verdict and is marked ``xfail`` when it
   fails, so that the report shows it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optlab.bilevel.maid import maid
from optlab.claims import Claim, register
from problems.bilevel import quadratic_bilevel

from . import _bilevel as B

SMRE = "Salehi, Mukherjee, Roberts & Ehrhardt (2024), An adaptively inexact first-order method for bilevel optimization"

STAT = register(Claim(
    id="bilevel.maid.stationary", component="bilevel", paper=SMRE, place="main convergence theorem / abstract (number unverified)",
    statement="MAID converges to a stationary point with accuracies it chooses, robust to eps0 and step0",
    kind="upper_bound", expected=1.0, tolerance=0.0,
    quantity="max over eps0, step0 of ||grad F(x_final)|| / tol"))

FEWER = register(Claim(
    id="bilevel.maid.fewer_lower_iterations", component="bilevel", paper=SMRE, place="experiments (as stated in the brief; not read)",
    statement="MAID needs fewer lower-level iterations than a fixed-accuracy schedule reaching the same ||grad F||",
    kind="comparison", expected=1.0, tolerance=0.0,
    quantity="lower-level iterations: cheapest fixed-accuracy schedule / MAID, to ||grad F|| <= 1e-3"))


def _problem():
    return quadratic_bilevel(5, 20, mu_g=0.1, L_g=1.0, seed=0)


def test_maid_stationary():
    p = _problem()
    tol = 1e-3
    rows = {}
    for e0 in (1e-1, 1e-2, 1e-3):
        for s0 in (1e-2, 1e-1):
            r = maid(p, max_iter=300, tol=tol, eps0=e0, delta0=e0, step0=s0)
            rows[f"eps0={e0:g},step0={s0:g}"] = {"ratio": p.hypergrad_norm(r.x) / tol, "nit": r.nit,
                                                  "n_inner": r.n_inner, "status": r.message}
    v = STAT.verify(max(d["ratio"] for d in rows.values()), tier="fast", details=rows)
    assert v.passed, v.message


@pytest.mark.slow
def test_maid_fewer_lower_iterations():
    rows = B.maid_vs_fixed(_problem(), 1e-3)
    fixed = [d["n_inner"] for k, d in rows.items() if k != "maid" and math.isfinite(d["n_inner"])]
    ratio = min(fixed) / rows["maid"]["n_inner"] if fixed else math.inf
    v = FEWER.verify(ratio, tier="full", details=rows)
    if not v.passed:
        pytest.xfail(v.message)
    assert np.isfinite(ratio)
