r"""Claims: BO-REP under unbounded smoothness (``optlab.bilevel.bo_rep``).

Source: Hao, Gong & Liu, *Bilevel Optimization under Unbounded Smoothness: A New
Algorithm and Convergence Analysis*, ICLR 2024: abstract and main theorem (number unverified; the algorithm
box and the theorem's constants were not available to us): ``O~(eps^-4)`` iterations to an
eps-stationary point, stochastic oracles, upper level ``(L0, L1)``-smooth.

Instance: ``problems.bilevel.relaxed_smooth_bilevel`` (``f = sum cosh(x_j) + ||y - b||^2/2``,
not L-smooth in ``x``; quadratic lower level, spectrum ``[0.5, 2]``; ``x0 = 3``), Gaussian
oracle noise 0.5, batch 1; period ``I = 2``, ``N = 3`` lower steps.

1. ``bilevel.borep.rate``: with the horizon-tuned normalized-momentum parameters
   (``borep_theory_params``: ``eta = 3 K^-3/4``, ``1 - beta = K^-1/2``) the average
   ``(1/K) sum ||grad F(x_k)||`` (mean over seeds) decays like ``K^-1/4`` (``eps^-4``).
   Measured: log-log slope over ``K = 100 .. 3000`` (fast, 3 seeds) or ``100 .. 10^4``
   (full, 5 seeds). Claim: slope ``<= -1/4`` with 20% slack (``upper_bound``, i.e.
   ``<= -0.2``).
2. ``bilevel.borep.periodic``: deterministic oracles, ``eta = 0.005``: every-step lower
   updates (``I = 1``) and periodic ones (``I = 3``) both reach ``||grad F|| <= 0.3`` at
   the same point (``||x_periodic - x_every|| <= 0.01`` asserted) and the oracle cost ratio
   every/periodic is ``>= 1`` (``comparison``).
"""

from __future__ import annotations

import numpy as np
import pytest

from optlab.claims import Claim, register
from optlab.rates import scaling_exponent

from . import _bilevel as B

HGL = "Hao, Gong & Liu (2024), Bilevel Optimization under Unbounded Smoothness (BO-REP)"

RATE = register(Claim(
    id="bilevel.borep.rate", component="bilevel", paper=HGL, place="main theorem / abstract (number unverified)",
    statement="O~(eps^-4) iterations to an eps-stationary point: avg ||grad F|| = O~(K^-1/4)",
    kind="upper_bound", expected=-0.25, tolerance=0.2,
    quantity="log-log slope of (1/K) sum_k ||grad F(x_k)|| vs K (relaxed-smooth instance, noise 0.5)"))

PERIODIC = register(Claim(
    id="bilevel.borep.periodic", component="bilevel", paper=HGL, place="algorithm (periodic updates; abstract)",
    statement="periodic lower-level updates reach the same point as every-step updates at lower oracle cost",
    kind="comparison", expected=1.0, tolerance=0.0,
    quantity="oracle calls every-step / periodic to ||grad F|| <= 0.3 (same point)"))


def _rate(Ks, seeds, tier):
    avg = B.borep_avg_gradnorm(Ks, seeds=seeds)
    slope = scaling_exponent(np.asarray(Ks, dtype=float), avg).value
    v = RATE.verify(slope, tier=tier, details={"K": list(Ks), "avg_grad_norm": avg.tolist(), "seeds": list(seeds)})
    assert v.passed, v.message


def test_borep_rate_fast():
    _rate([100, 300, 1000, 3000], (0, 1, 2), "fast")


@pytest.mark.slow
def test_borep_rate_full():
    _rate([100, 300, 1000, 3000, 10000], (0, 1, 2, 3, 4), "full")


def test_borep_periodic_updates():
    rows = B.borep_periodic_vs_every()
    assert rows["every_step"]["converged"] and rows["periodic"]["converged"]
    assert np.linalg.norm(np.subtract(rows["every_step"]["x"], rows["periodic"]["x"])) <= 0.01
    ratio = rows["every_step"]["n_oracle"] / rows["periodic"]["n_oracle"]
    v = PERIODIC.verify(ratio, tier="fast", details=rows)
    assert v.passed, v.message
