r"""Claim: the gradient and Hessian of the Lyapunov potential used by the OT solvers equal
the symbolic ones (sympy), on a 2 x 3 instance.

Tang et al. (2024), arXiv:2401.12253, Section 3 (variational form): Sinkhorn is block
coordinate ascent on the concave potential
:math:`D(f, g) = \langle a, f\rangle + \langle b, g\rangle - \mathrm{reg}\sum_{ij}
e^{(f_i + g_j - M_{ij})/\mathrm{reg}}` (POT's scaling; the paper's :math:`\eta = 1/\mathrm{reg}`),
with :math:`\nabla D = (a - P1, b - P^\top 1)` and :math:`-\mathrm{reg}\,\nabla^2 D =
[[\mathrm{diag}(P1), P], [P^\top, \mathrm{diag}(P^\top 1)]]`. Checked: (i) the marginals the
code computes (``optlab.ot.sinkhorn._Stepper`` on the stabilized kernel) against the symbolic
gradient; (ii) the code's potential value (``Result.fun``) against the symbolic ``D``;
(iii) the Schur-complement operator of the Newton system (``newton_schur_system`` with every
entry kept and no shift) against the Schur complement of the symbolic Hessian, column by
column. Measured: the largest relative deviation; claim: ``<= 1e-12`` (``upper_bound``).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from optlab._backend import get_namespace
from optlab.claims import Claim, register
from optlab.ot import sinkhorn
from optlab.ot._common import Kernel
from optlab.ot.sinkhorn import _Stepper
from optlab.ot.sns import newton_schur_system

from ._ot import TANG

SYM = register(Claim(
    id="ot.potential.symbolic",
    component="ot",
    paper=TANG,
    place="Section 3 (Lyapunov potential, its gradient and Hessian)",
    statement="grad D = (a - P1, b - P^T1); -reg Hess D = [[diag(P1), P], [P^T, diag(P^T1)]]",
    kind="upper_bound",
    expected=1e-12,
    tolerance=0.0,
    quantity="max relative deviation code vs sympy (gradient, potential value, Schur complement)",
))


def _rel(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(np.abs(x - y).max() / max(np.abs(y).max(), 1e-300))


def test_potential_gradient_hessian_symbolic():
    rng = np.random.default_rng(0)
    n, m, reg = 2, 3, 0.3
    a = rng.random(n) + 0.2
    a /= a.sum()
    b = rng.random(m) + 0.2
    b /= b.sum()
    M = rng.random((n, m))
    f = sp.symbols(f"f0:{n}")
    g = sp.symbols(f"g0:{m}")
    D = sum(a[i] * f[i] for i in range(n)) + sum(b[j] * g[j] for j in range(m)) - reg * sum(
        sp.exp((f[i] + g[j] - M[i, j]) / reg) for i in range(n) for j in range(m))
    z = list(f) + list(g)
    grad = [sp.diff(D, v) for v in z]
    hess = sp.hessian(D, z)
    # a point: the potentials after 3 Sinkhorn iterations (not optimal, gradient nonzero)
    res = sinkhorn(a, b, M, reg, tol=0.0, max_iter=3)
    f0, g0 = res.potentials
    subs = {**{f[i]: f0[i] for i in range(n)}, **{g[j]: g0[j] for j in range(m)}}
    grad_s = np.array([float(e.evalf(30, subs=subs)) for e in grad])
    hess_s = np.array(hess.evalf(30, subs=subs), dtype=float)
    D_s = float(D.evalf(30, subs=subs))
    # code: marginals on the stabilized kernel at (f0, g0)
    xp = get_namespace(a)
    kern = Kernel(xp, a, b, M, reg, u0=f0 / reg, v0=g0 / reg)
    kern.absorb()
    st = _Stepper(kern)
    grad_c = np.concatenate([a - st.r, b - st.c])
    devs = {"gradient": _rel(grad_c, grad_s), "potential": abs(res.fun - D_s) / abs(D_s)}
    # Schur complement: H = -reg Hess = [[A, B], [B^T, C]] -> S = C - B^T A^-1 B
    H = -reg * hess_s
    A, B, C = H[:n, :n], H[:n, n:], H[n:, n:]
    S_sym = C - B.T @ np.linalg.solve(A, B)
    P = kern.plan()
    rows, cols = np.nonzero(np.ones((n, m)))
    S_mv, _, _, _, _ = newton_schur_system(xp, rows, cols, P[rows, cols], st.r, st.c, sigma=0.0)
    S_code = np.column_stack([S_mv(np.eye(m)[:, j]) for j in range(m)])
    devs["schur_complement"] = _rel(S_code, S_sym)
    devs["hessian_blocks"] = max(_rel(np.diag(A), st.r), _rel(B, P), _rel(np.diag(C), st.c))
    v = SYM.verify(max(devs.values()), tier="fast", details=devs)
    assert v.passed, v.message
