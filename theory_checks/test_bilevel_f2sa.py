r"""Claims: F2SA iteration complexity and penalty bias (``optlab.bilevel.f2sa``).

Source: Kwon, Kwon, Wright & Nowak, *A Fully First-Order Method for Stochastic Bilevel
Optimization*, ICML 2023 (arXiv 2301.10945): abstract and the corollary of the main theorem (its
text was not available; the rates are the abstract's): ``E||grad F||^2 <= eps`` after
``O(eps^-3/2)`` iterations without noise, ``O(eps^-5/2)`` with noise in the upper level
only, ``O(eps^-7/2)`` with noise in both levels; the penalty lemma (numbering unverified): the penalty surrogate's
gradient is within ``O(1/lambda)`` of ``grad F``.

Instance (``_bilevel.F2SA_INSTANCE``): the quadratic bilevel problem ``dim_x = 5``,
``dim_y = 10``, lower spectrum in ``[0.2, 1]``, seed 0; ``T = 2`` inner steps, the paper
schedule (``f2sa_schedule``: ``lambda_k = lam0 (k+1)^(a-c)``, ``alpha_k lambda_k =
gamma_k / 2``, ``gamma_0 = 1/L_g``) with ``lam0 = 30``, ``xi = 10`` (deterministic,
upper noise), ``lam0 = 15``, ``xi = 6`` (both levels). Noise: unbiased Gaussian
perturbations of the data (``noise_f = 0.5``; both levels ``0.2``), batch 1.

**Measured.** ``K(eps)`` = first iteration where the measure drops below ``eps``, on 5
log-spaced ``eps`` over one decade fixed below, and the exponent ``p`` of
``K ~ eps^-p`` (``optlab.rates.scaling_exponent``). Measure: deterministic, the last
iterate's ``||grad F(x_k)||^2``; stochastic, the running average over iterates of the
seed-averaged ``||grad F(x_k)||^2`` (what the theorem bounds). Claim: ``p <= p_paper``
with 15% slack (``upper_bound``). At laptop scale the stochastic runs are transient
dominated, so the measured ``p`` is well below the bound (the bound is not tight here);
the deterministic run is bias-limited and its ``p`` approaches 3/2
(``||grad F(x_k)|| ~ 1/lambda_k ~ k^-1/3``). A solver with a constant ``lambda`` has a
bias floor and fails these claims (checked by hand: ``K = NaN``).

Windows: deterministic ``eps in [2e-2, 2e-3]`` (fast, 15,000 iterations) and
``[5e-3, 5e-4]`` (full, 40,000); upper noise ``[5, 0.5]`` (fast: 4,000 iterations,
3 seeds; full: 8,000, 6 seeds); both levels ``[10, 1]`` (full only: 10,000 iterations,
4 seeds).

**Penalty bias** (``bilevel.f2sa.penalty_bias``): ``||grad L*_lambda(x) - grad F(x)||``
in closed form at ``x = linspace(-1, 1, 5)`` for ``lambda = 10^2 .. 10^5``: log-log slope
``-1 +- 0.1`` (``order``).
"""

from __future__ import annotations

import numpy as np
import pytest

from optlab.claims import Claim, register
from optlab.rates import scaling_exponent

from . import _bilevel as B

KKWN = "Kwon, Kwon, Wright & Nowak (2023), A Fully First-Order Method for Stochastic Bilevel Optimization"


def _claim(setting, p):
    return register(Claim(
        id=f"bilevel.f2sa.complexity_{setting}", component="bilevel", paper=KKWN,
        place="abstract (corollary unread; rates from the abstract)",
        statement=f"F2SA reaches E||grad F||^2 <= eps in O(eps^-{p:g}) iterations ({setting.replace('_', ' ')})",
        kind="upper_bound", expected=p, tolerance=0.15,
        quantity="fitted p in K(eps) ~ eps^-p over one decade of eps (quadratic 5x10)"))


DET = _claim("deterministic", 1.5)
UPPER = _claim("upper_noise", 2.5)
BOTH = _claim("stochastic", 3.5)

BIAS = register(Claim(
    id="bilevel.f2sa.penalty_bias", component="bilevel", paper=KKWN, place="penalty-gap lemma (numbering unverified)",
    statement="||grad L*_lambda(x) - grad F(x)|| = O(1/lambda)",
    kind="order", expected=-1.0, tolerance=0.1,
    quantity="log-log slope of the bias vs lambda over 1e2..1e5 (closed form)"))


def _complexity(claim, setting, n_iter, eps_hi, eps_lo, seeds, tier, **kw):
    g2 = B.f2sa_curve(setting, n_iter, seeds=seeds, **kw)
    measure = g2 if setting == "deterministic" else np.cumsum(g2) / np.arange(1, len(g2) + 1)
    eps = np.geomspace(eps_hi, eps_lo, 5)
    p, K = B.complexity_exponent(measure, eps)
    v = claim.verify(p, tier=tier, details={"eps": eps.tolist(), "K": K.tolist(), "n_iter": n_iter,
                                            "seeds": list(seeds), **kw})
    assert v.passed, v.message


def test_f2sa_deterministic_fast():
    _complexity(DET, "deterministic", 15000, 2e-2, 2e-3, (0,), "fast", lam0=30.0, xi=10.0)


def test_f2sa_upper_noise_fast():
    _complexity(UPPER, "upper_noise", 4000, 5.0, 0.5, (0, 1, 2), "fast", noise_f=0.5, lam0=30.0, xi=10.0)


def test_f2sa_penalty_bias():
    lams = np.geomspace(1e2, 1e5, 7)
    bias = B.penalty_bias(lams)
    slope = scaling_exponent(lams, bias).value
    v = BIAS.verify(slope, tier="fast", details={"lambda": lams.tolist(), "bias": bias.tolist()})
    assert v.passed, v.message


@pytest.mark.slow
def test_f2sa_deterministic_full():
    _complexity(DET, "deterministic", 40000, 5e-3, 5e-4, (0,), "full", lam0=30.0, xi=10.0)


@pytest.mark.slow
def test_f2sa_upper_noise_full():
    _complexity(UPPER, "upper_noise", 8000, 5.0, 0.5, tuple(range(6)), "full", noise_f=0.5, lam0=30.0, xi=10.0)


@pytest.mark.slow
def test_f2sa_both_levels_full():
    _complexity(BOTH, "stochastic", 10000, 10.0, 1.0, (0, 1, 2, 3), "full", noise_f=0.2, noise_g=0.2,
                lam0=15.0, xi=6.0)
