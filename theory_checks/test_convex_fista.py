r"""Claims: ISTA / FISTA (``optlab.convex.proximal_gradient``) on the lasso.

Beck & Teboulle (2009), constant step :math:`1/L`, iterates numbered from :math:`x_0`
(optlab's indexing, see the solver's docstring):

- Theorem 4.4 (FISTA): :math:`F(x_k) - F_\star \le 2L\|x_0 - x_\star\|^2/(k+1)^2`;
- Theorem 3.1 (ISTA): :math:`F(x_k) - F_\star \le L\|x_0 - x_\star\|^2/(2k)`.

Instances: ``problems.lasso`` (Gaussian designs, over- and under-determined, the latter
with :math:`\mu = 0`) and the lasso on scikit-learn's diabetes data (real design,
``_convex.lasso_diabetes``). :math:`x_\star` is Clarabel's solution polished on its
support (exact to rounding), so the measured figure is
:math:`\max_k (F(x_k) - F_\star)/\text{bound}_k` over every iterate, slack 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest

from optlab.claims import Claim, register
from optlab.convex import proximal_gradient
from problems import lasso

from . import _convex as C

BT = "Beck & Teboulle (2009), A Fast Iterative Shrinkage-Thresholding Algorithm, SIAM J. Imaging Sci. 2(1)"

FISTA_BOUND = register(Claim(
    id="convex.fista.lasso_bound",
    component="convex",
    paper=BT,
    place="Theorem 4.4",
    statement="FISTA (constant step 1/L): F(x_k) - F* <= 2 L ||x0 - x*||^2 / (k+1)^2 for every k >= 1",
    kind="upper_bound",
    expected=1.0,
    tolerance=1e-9,
    quantity="max over lasso instances and k of (F(x_k) - F*) / (2 L ||x0 - x*||^2 / (k+1)^2)",
))
ISTA_BOUND = register(Claim(
    id="convex.ista.lasso_bound",
    component="convex",
    paper=BT,
    place="Theorem 3.1",
    statement="ISTA (constant step 1/L): F(x_k) - F* <= L ||x0 - x*||^2 / (2k) for every k >= 1",
    kind="upper_bound",
    expected=1.0,
    tolerance=1e-9,
    quantity="max over lasso instances and k of (F(x_k) - F*) / (L ||x0 - x*||^2 / (2k))",
))


def _ratios(problems_, n_iter: int) -> dict:
    out = {}
    for p in problems_:
        R2 = float(np.sum((p.x0 - p.x_star) ** 2))
        k = np.arange(1, n_iter + 1)
        row = {}
        for accelerated in (True, False):
            res = proximal_gradient(p.value, p.grad, p.prox, p.x0, L=p.L, g=p.g,
                                    accelerated=accelerated, tol=C.NO_STOP, max_iter=n_iter)
            gap = C.gaps(res, p.f_star, n_iter)[1:]
            bound = 2 * p.L * R2 / (k + 1) ** 2 if accelerated else p.L * R2 / (2 * k)
            row["fista" if accelerated else "ista"] = float(np.max(gap / bound))
        row["polished"] = bool(p.params.get("polished", False))
        out[p.name] = row
    return out


def _verify(r: dict, tier: str):
    out = []
    for claim, key in ((FISTA_BOUND, "fista"), (ISTA_BOUND, "ista")):
        out.append(claim.verify(max(v[key] for v in r.values()), tier=tier,
                                details={n: v[key] for n, v in r.items()}))
    return out


def test_fista_lasso_bound():
    probs = [lasso(200, 50, seed=0), lasso(60, 150, seed=1), C.lasso_diabetes(0.05)]
    assert all(p.params["polished"] for p in probs), "lasso reference solutions must be polished"
    for v in _verify(_ratios(probs, 300), "fast"):
        assert v.passed, v.message


@pytest.mark.slow
def test_fista_lasso_bound_full():
    probs = [lasso(500, 100, seed=0), lasso(100, 400, seed=1), lasso(200, 200, seed=2, lam=None),
             C.lasso_diabetes(0.01), C.lasso_diabetes(0.05), C.lasso_diabetes(0.3)]
    for v in _verify(_ratios(probs, 3000), "full"):
        assert v.passed, v.message
