r"""Claims: active-set identification of greedy proximal BCD, then finite termination
(quadratic, exact block QP) and superlinear convergence (Newton blocks).

Source: Nutini, Laradji & Schmidt (2022), JMLR 23(131), arXiv:1712.08859, Sec. 6 (active-set
complexity) and Sec. 7 (superlinear convergence); section numbers unverified, see below. Under nondegeneracy, proximal BCD with
greedy rules identifies the optimal manifold (here ``supp(x*)``) after finitely many
iterations; afterwards, updates on blocks holding the support with exact block solves
terminate on a quadratic, and Newton block updates converge superlinearly. The paper's
explicit identification bound depends on constants (delta, the linear rate) we could not check
against the text: **it is not evaluated**; only finiteness is.

Verification status (issue 4): the paper body was not retrievable through the search tool
(every stored copy of arXiv:1712.08859 -- kk6lht.com markdown, SPIQA raw TeX, Hugging Face --
answered only with its opening: title, abstract, start of Sec. 1), so the section numbers
below are **unverified** (recalled, not read); the qualitative statements are checked against
the abstract, quoted in each claim's ``place``.

1. ``bcd.active.identification`` (comparison): data set A + L1 recipe (fast: 200 x 2000,
   lam = 2e4; full: 1000 x 10000, lam = 5e4), x >= 0, GS-q rule for the nonsmooth problem
   (``gsq-nn``), proximal-gradient update, tau = 50: the iteration ``K`` after which
   ``supp(x_k) = supp(x*)`` for good is finite (``K < nit``) and the support holds at every
   later iterate. Measured: fraction of iterates ``k >= K`` with the right support, required
   ``>= 1`` (``x*`` from scikit-learn ``Lasso(positive=True)``, tol 1e-14).
2. ``bcd.active.finite_termination`` (upper_bound): same instance, proximal Newton (exact
   block QP), tau = 50 >= nnz(x*): iterations after identification until
   ``F - F* <= 1e-13 |F*|`` (the rounding floor of F). Required ``<= 1``.
3. ``bcd.active.newton_superlinear`` (comparison): L1 (x >= 0) logistic regression, 300 x 600
   (``_bcd.logistic_l1_instance``, nnz(x*) = 69), gsq-nn with proximal Newton blocks of
   tau = 100 (Armijo backtracking); ``F*`` from scipy L-BFGS-B with bounds. Q-order of
   ``F - F*`` (``optlab.rates.convergence_order``) from two iterations before identification
   to the floor ``1e-13 |F*|``; required ``>= 1.5`` (superlinear; Newton's order is 2).
"""

from __future__ import annotations

import numpy as np
import pytest

from optlab.claims import Claim, register

from . import _bcd as B

IDENT = register(Claim(
    id="bcd.active.identification", component="bcd", paper=B.PAPER,
    place="Sec. 6 (number unverified); abstract: \"optimal active manifold identification ... bounds "
          "on the active-set complexity\" (bound itself not evaluated)",
    statement="greedy proximal BCD identifies supp(x*) after finitely many iterations (and keeps it)",
    kind="comparison", expected=1.0, tolerance=0.0,
    quantity="fraction of iterates after the identification iteration K (< nit) with supp = supp(x*)",
))
FINITE = register(Claim(
    id="bcd.active.finite_termination", component="bcd", paper=B.PAPER,
    place="Sec. 7 (number unverified); abstract: \"in some cases finite termination at an optimal "
          "solution\"",
    statement="after identification, exact (QP) block updates with tau >= nnz(x*) terminate",
    kind="upper_bound", expected=1.0, tolerance=0.0,
    quantity="iterations from identification to F - F* <= 1e-13 |F*|",
))
SUPER = register(Claim(
    id="bcd.active.newton_superlinear", component="bcd", paper=B.PAPER,
    place="Sec. 7 (number unverified); abstract: \"superlinear convergence for certain problems with "
          "sparse solutions\"",
    statement="after identification, proximal Newton blocks holding the support converge superlinearly",
    kind="comparison", expected=1.5, tolerance=0.0,
    quantity="Q-order of F(x_k) - F* after identification",
))


def _ident(fast, tier):
    p = B.al1_instance(fast)
    r = B.identification(p)
    ok = r["k_identified"] < r["nit"]
    m = r["held_after"] if ok else 0.0
    return IDENT.verify(m, tier=tier, details={
        "instance": p.name, "nnz_star": int(np.count_nonzero(p.x_star)), "K": r["k_identified"],
        "nit": r["nit"], "final_gap": float(r["gap"][-1])})


def _finite(fast, tier):
    p = B.al1_instance(fast)
    r = B.finite_termination(p)
    m = r["after"] if r["success"] and r["k_identified"] >= 0 else float("inf")
    return FINITE.verify(m, tier=tier, details={
        "instance": p.name, "nnz_star": int(np.count_nonzero(p.x_star)), **{k: v for k, v in r.items() if k != "gap"},
        "gaps": [float(g) for g in r["gap"]]})


def test_identification_fast():
    v = _ident(True, "fast")
    assert v.passed, v.message


def test_finite_termination_fast():
    v = _finite(True, "fast")
    assert v.passed, v.message


def test_newton_superlinear():
    r = B.newton_superlinear()
    v = SUPER.verify(r["order"], tier="fast", details={k: r[k] for k in ("k_identified", "nnz", "block_size",
                                                                          "tail", "superlinear")})
    assert v.passed, v.message


@pytest.mark.slow
def test_identification_full():
    v = _ident(False, "full")
    assert v.passed, v.message


@pytest.mark.slow
def test_finite_termination_full():
    v = _finite(False, "full")
    assert v.passed, v.message
