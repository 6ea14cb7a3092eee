r"""Claims: parallel speed-up of the blockwise variance-reduced multi-block method
(``optlab.bilevel.mbbo``).

Source: Hu, Zhong, Yang et al., *Blockwise Stochastic Variance-Reduced Methods with Parallel
Speedup for Multi-Block Bilevel Optimization*, ICML 2023, abstract (published form, see
``shared/papers/seeds.md`` section 0): iteration complexity
``O(m eps^-3 1(I<m) / (I sqrt(I)) + m eps^-3 / (I sqrt(B)))``. Our solver is a
reconstruction from the abstract (see its docstring), so these claims test the
reconstruction's speed-up, not the paper's constants.

Instance: ``multiblock_bilevel(m=16, dim_x=5, dim_block=5, noise=0.3)``; fixed parameters
``step = 0.05, beta = beta_x = 0.5, inner_step = 0.2``; ``K`` = iterations to the exact
``||grad F|| <= 0.04`` (median over 3 seeds, fast; 5 seeds, full).

1. ``bilevel.mbbo.blocks``: ``B = 4``, ``I = 4, 8, 16``: slope of ``log K`` vs ``log I``
   ``<= -1`` with 30% slack (theory between -1 and -3/2) (``upper_bound``).
2. ``bilevel.mbbo.samples``: ``I = 4``, ``B = 1, 4, 16``: slope of ``log K`` vs ``log B``
   ``<= -1/2`` with 50% slack (theory -1/2 on the variance term) (``upper_bound``).
"""

from __future__ import annotations

import pytest

from optlab.claims import Claim, register
from optlab.rates import scaling_exponent

from . import _bilevel as B

HU = "Hu et al. (2023), Blockwise Stochastic Variance-Reduced Methods ... Multi-Block Bilevel Optimization"

BLOCKS = register(Claim(
    id="bilevel.mbbo.blocks", component="bilevel", paper=HU, place="abstract (main theorem)",
    statement="iterations ~ m eps^-3 / (I sqrt(I)) for I < m: parallel speed-up in the sampled blocks I",
    kind="upper_bound", expected=-1.0, tolerance=0.3,
    quantity="log-log slope of iterations to ||grad F|| <= 0.04 vs I (B = 4, m = 16)"))

SAMPLES = register(Claim(
    id="bilevel.mbbo.samples", component="bilevel", paper=HU, place="abstract (main theorem)",
    statement="iterations ~ m eps^-3 / (I sqrt(B)): speed-up in the samples per block B",
    kind="upper_bound", expected=-0.5, tolerance=0.5,
    quantity="log-log slope of iterations to ||grad F|| <= 0.04 vs B (I = 4, m = 16)"))


def _check(seeds, tier):
    Is = [4, 8, 16]
    K_I = B.mbbo_iterations(Is, [4, 4, 4], seeds=seeds)
    v = BLOCKS.verify(scaling_exponent(Is, K_I).value, tier=tier, details={"I": Is, "K": K_I.tolist()})
    assert v.passed, v.message
    Bs = [1, 4, 16]
    K_B = B.mbbo_iterations([4, 4, 4], Bs, seeds=seeds)
    v = SAMPLES.verify(scaling_exponent(Bs, K_B).value, tier=tier, details={"B": Bs, "K": K_B.tolist()})
    assert v.passed, v.message


def test_mbbo_speedup_fast():
    _check((0, 1, 2), "fast")


@pytest.mark.slow
def test_mbbo_speedup_full():
    _check((0, 1, 2, 3, 4), "full")
