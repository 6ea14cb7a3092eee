r"""Claims of Liu, Puigcerver & Blondel (ICLR 2023), *Sparsity-Constrained Optimal Transport*
(``optlab.ot.sparse_ot``: semi-dual with the squared 2-norm regularizer, L-BFGS).

From the abstract (the seeds file; the paper's text was not read):

1. ``ot.sparse.cardinality``: "explicit cardinality constraints on the transportation plan":
   every column of the returned plan has at most k nonzeros. Measured: max over k in
   {1, 2, 3, 5} of max_j nnz(t_j) / k, ``<= 1`` (``upper_bound``).
2. ``ot.sparse.k1_lp``: "unregularized OT (recovered in the limit case k = 1)": with k = 1,
   the transport cost of the plan equals the exact LP value (POT ``ot.emd2``) on uniform
   square instances (assignment), relative difference ``<= 1e-9``.
3. ``ot.sparse.large_k_quadratic``: "quadratically-regularized OT (recovered when k is large
   enough)": with k = n, the plan equals the solution of
   :math:`\min \langle T, M\rangle + \frac{\mathrm{reg}}2\|T\|^2` on the transport polytope
   computed by cvxpy with Clarabel; ``max|T - T_QOT| <= 1e-6 max T_QOT``.
4. ``ot.sparse.speed_vs_k``: "the smoothness of the objectives increases as k increases,
   giving rise to a trade-off between convergence speed and sparsity": L-BFGS iterations
   until the semi-dual is within 1e-8 (relative) of its best value, k = 2 over k = n; claim
   ``>= 1`` (``comparison``; the paper gives no rate). Instance: uniform n = 60, reg = 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from optlab.claims import Claim, register
from optlab.ot import sparse_ot
from problems.ot import random_assignment

LPB = "Liu, Puigcerver & Blondel (2023), Sparsity-Constrained Optimal Transport, ICLR 2023, arXiv:2209.15466"

CARD = register(Claim(
    id="ot.sparse.cardinality", component="ot", paper=LPB, place="Abstract, eq. (1)",
    statement="the transport plan has at most k nonzeros per column", kind="upper_bound",
    expected=1.0, tolerance=0.0, quantity="max over k of max_j nnz(t_j) / k",
))
K1 = register(Claim(
    id="ot.sparse.k1_lp", component="ot", paper=LPB, place="Abstract (limit case k = 1)",
    statement="k = 1 recovers unregularized OT", kind="upper_bound", expected=1e-9, tolerance=0.0,
    quantity="max over instances of |<T, M> - OT_LP| / OT_LP (uniform square instances)",
))
QOT = register(Claim(
    id="ot.sparse.large_k_quadratic", component="ot", paper=LPB, place="Abstract (k large enough)",
    statement="large k recovers quadratically regularized OT", kind="upper_bound", expected=1e-6,
    tolerance=0.0, quantity="max|T - T_QOT| / max T_QOT, T_QOT from cvxpy + Clarabel",
))
SPEED = register(Claim(
    id="ot.sparse.speed_vs_k", component="ot", paper=LPB, place="Abstract (smoothness increases with k)",
    statement="convergence is faster for larger k (smoother semi-dual)", kind="comparison",
    expected=1.0, tolerance=0.0,
    quantity="L-BFGS iterations to 1e-8 relative semi-dual suboptimality, k = 2 over k = n",
))


def test_cardinality_and_k1():
    import ot

    worst_card, worst_lp, det = 0.0, 0.0, {}
    for n in (30, 60):
        p = random_assignment(n, seed=n)
        for k in (1, 2, 3, 5):
            r = sparse_ot(p.a, p.b, p.M, 1.0, k, tol=1e-10, max_iter=2000)
            worst_card = max(worst_card, float(np.count_nonzero(r.plan, axis=0).max()) / k)
            if k == 1:
                exact = float(ot.emd2(p.a, p.b, p.M))
                worst_lp = max(worst_lp, abs(r.cost - exact) / exact)
                det[f"n={n}"] = {"cost": r.cost, "lp": exact, "nit": int(r.nit)}
    v1 = CARD.verify(worst_card, tier="fast", details={"k": [1, 2, 3, 5]})
    v2 = K1.verify(worst_lp, tier="fast", details=det)
    assert v1.passed, v1.message
    assert v2.passed, v2.message


def test_large_k_quadratic():
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(0)
    n, m, reg = 15, 12, 0.2
    a = rng.random(n) + 0.2
    a /= a.sum()
    b = rng.random(m) + 0.2
    b /= b.sum()
    M = rng.random((n, m))
    r = sparse_ot(a, b, M, reg, n, tol=1e-11)
    T = cp.Variable((n, m), nonneg=True)
    cp.Problem(cp.Minimize(cp.sum(cp.multiply(T, M)) + reg / 2 * cp.sum_squares(T)),
               [cp.sum(T, axis=1) == a, cp.sum(T, axis=0) == b]).solve(
        solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    d = float(np.abs(r.plan - T.value).max() / T.value.max())
    v = QOT.verify(d, tier="fast", details={"nit": int(r.nit), "success": bool(r.success)})
    assert v.passed, v.message


def test_speed_vs_k():
    p = random_assignment(60, seed=1)
    its = {}
    for k in (2, 4, 60):
        r = sparse_ot(p.a, p.b, p.M, 1.0, k, tol=0.0, max_iter=3000, polish=0)
        d = r.history["potential"]
        best = float(np.nanmax(d))
        its[k] = int(np.argmax(d >= best - 1e-8 * abs(best)))
    v = SPEED.verify(its[2] / max(its[60], 1), tier="fast", details={"iterations": its})
    assert v.passed, v.message
