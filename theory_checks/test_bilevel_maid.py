r"""Claims: MAID, adaptively inexact bilevel descent (``optlab.bilevel.maid``).

Source: Salehi, Mukherjee, Roberts & Ehrhardt, *An adaptively inexact first-order method
for bilevel optimization with application to hyperparameter learning*, SIMODS (arXiv
2308.10098): abstract and main theorem (number unverified; convergence to a stationary point; accuracies
chosen dynamically; robust to the initial accuracies and step size).

Instance: ``quadratic_bilevel(5, 20, mu_g=0.1, L_g=1)`` (closed-form ``grad F``),
``tol = 1e-3`` on the certified bound ``||p|| + omega``; official defaults otherwise.

1. ``bilevel.maid.stationary``: from every ``eps0 = delta0 in {1e-1, 1e-2, 1e-3}`` and
   ``step0 in {1e-2, 1e-1}`` MAID stops with the exact ``||grad F|| <= tol``:
   ``max`` of ``||grad F(x_final)|| / tol <= 1`` (``upper_bound``). (``step0 = 1`` fails on this instance,
   ``L_F = 9.9``: a failed round does not shrink the starting step, as in the authors'
   code, and ``j + 10 <= 12`` trials with ``rho = 0.9`` reach only ``0.28 step0``; the
   accuracies are tightened until ``eps <= eps_min`` and the solver reports STAGNATION.
   Before a fully failed backtracking was made non-terminal, as in the authors' code,
   ``eps0 = 1e-3, step0 = 1e-2`` also stopped early.)
2. ``bilevel.maid.fewer_lower_iterations``: lower-level iterations to reach the exact
   ``||grad F|| <= 1e-3``, cheapest baseline divided by MAID's: ``>= 1`` (``comparison``).
   Baselines run the same code (same gradient-descent lower solver with the same warm
   starts, the same CG warm start, line search and stopping rule) with ``adaptive=False``:
   constant ``eps = delta in {1e-3, ..., 1e-10}`` and 15 HOAG-style a-priori schedules
   (``eps0 (k+1)^-q``, ``q = 2, 3, 4``, and ``eps0 r^k``, ``r = 0.7, 0.9``, for
   ``eps0 = 1e-1, 1e-3, 1e-5``); the cheapest one *in hindsight* that reaches the target.
   **The claim FAILS here** (measured 0.65 after the warm-start fix, 0.57 before): MAID
   needs 17,569 lower iterations (40 outer iterations, 357 backtracking trials, 28 failed
   rounds); the cheapest baseline, ``1e-3 (k+1)^-4``, 11,389; constant ``1e-9``, 12,295.
   16 of the 23 baselines do not reach the target within MAID's lower-level cost (each
   baseline is stopped once it has spent it; the inexact line search stalls while their
   accuracy is too loose, a constant one for good), which is the paper's argument for
   adaptivity; but the hindsight-tuned ones are cheaper. Why MAID spends more: on this instance ``F`` is
   strongly convex, so ``||p||`` decreases linearly (x0.82 per iteration) and the accuracy
   the line search needs, ``eps ~ step ||p||^2 / (2 ||grad_y f||)``, decreases like
   ``||p||^2`` (x0.66); the success factor ``nu = 1.05`` then overshoots and about two of
   every three iterations lose a backtracking round of ``j + 10`` lower solves before
   ``eps`` is halved (28 failed rounds = ~280 of the 357 trials). With a linearly
   convergent lower solver, over-solving costs only ``log(1/eps)`` steps, so the
   hindsight schedules win. With the settings of the authors' own quadratic script
   (``rho = 0.5, nu = 1.25, step0 = 0.01``) the ratio is lower still (0.32: MAID 16,296,
   42 failed rounds; best baseline 5,288). What does hold: from the same starting accuracy
   (``eps0 = 1e-1 ... 1e-3``) MAID reaches the target where the fixed schedule stalls. The
   baselines share every warm start with MAID (lower solve, CG, backtracking trials), so
   the gap is not a handicap of the comparison. The test records the verdict and is marked ``xfail`` when it
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
    quantity="lower-level iterations to ||grad F|| <= 1e-3: cheapest (in hindsight) fixed or a-priori schedule / MAID"))


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
    base = {k: d["n_inner"] for k, d in rows.items() if k != "maid" and math.isfinite(d["n_inner"])}
    ratio = min(base.values()) / rows["maid"]["n_inner"] if base else math.inf
    rows["summary"] = {"cheapest_baseline": min(base, key=base.get) if base else None,
                       "baselines_reaching_target": len(base), "baselines": len(rows) - 1}
    v = FEWER.verify(ratio, tier="full", details=rows)
    if not v.passed:
        pytest.xfail(v.message)
    assert np.isfinite(ratio)
