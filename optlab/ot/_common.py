r"""Shared pieces of the entropic OT solvers: input checks, the stabilized kernel, metrics.

Conventions (POT's): the entropic problem is

.. math::

    \min_{P \ge 0,\ P 1 = a,\ P^\top 1 = b}\ \langle P, M\rangle
        + \mathrm{reg} \sum_{ij} P_{ij} (\log P_{ij} - 1),

whose dual is the concave *Lyapunov potential* of Tang et al. (2024)

.. math::

    D(f, g) = \langle a, f\rangle + \langle b, g\rangle - \mathrm{reg} \sum_{ij}
        e^{(f_i + g_j - M_{ij})/\mathrm{reg}},
    \qquad P_{ij}(f, g) = e^{(f_i + g_j - M_{ij})/\mathrm{reg}},

with :math:`\nabla_f D = a - P1`, :math:`\nabla_g D = b - P^\top 1` (the marginal
violations) and :math:`\nabla^2 D = -\frac1{\mathrm{reg}}
\begin{pmatrix} \mathrm{diag}(P1) & P \\ P^\top & \mathrm{diag}(P^\top 1)\end{pmatrix}`.
The SNS paper writes :math:`\eta = 1/\mathrm{reg}` and potentials :math:`x = f + \mathrm{reg}/2`,
:math:`y = g + \mathrm{reg}/2` (its plan is :math:`e^{\eta(-C + x 1^\top + 1 y^\top) - 1}`).

The solvers keep the *scaled* potentials :math:`u = f/\mathrm{reg}`,
:math:`v = g/\mathrm{reg}` in the stabilized ("absorbed") form of Schmitzer (2019):
:math:`u = u_0 + \log\alpha`, :math:`v = v_0 + \log\beta` with a kernel
:math:`G = e^{K + u_0 \oplus v_0}`, :math:`K = -M/\mathrm{reg}`, so that
:math:`P = \mathrm{diag}(\alpha)\, G\, \mathrm{diag}(\beta)`. Marginals and the potential
then cost matrix-vector products with ``G``; one pass of exponentials (an *absorption*,
:math:`u_0 \leftarrow u`, :math:`v_0 \leftarrow v`, :math:`\alpha = \beta = 1`) is
needed only when a scaling leaves :math:`[e^{-\tau}, e^{\tau}]`. Entries of ``G`` that
underflow stand for plan entries below :math:`5\cdot 10^{-324} e^{2\tau}`, so nothing
of significance is lost; a sum that underflows triggers an exact max-shifted
log-sum-exp step instead.

References
----------
.. [S19] B. Schmitzer, "Stabilized sparse scaling algorithms for entropy regularized
   transport problems", SIAM J. Sci. Comput. 41(3), 2019.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optlab._backend import get_namespace, is_numpy_namespace
from optlab._validate import check_array, check_positive

#: absorb the scalings into the kernel when |log alpha| or |log beta| exceeds this
TAU = 30.0
#: a marginal sum below this (or non-finite) is recomputed with an exact log-sum-exp
TINY = 1e-290


def validate_ot(a: Any, b: Any, M: Any, reg: Any, *, mass_rtol: float = 1e-6):
    """Check ``(a, b, M, reg)``; return ``(xp, a, b, M, reg)`` in one floating dtype.

    Raises ``ValueError`` naming the argument for: non-1-D weights, ``M`` not of shape
    ``(len(a), len(b))``, NaN/inf anywhere, negative weights, zero total mass, masses
    that differ by more than ``mass_rtol`` (relative), ``reg <= 0``.
    """
    reg = check_positive(reg, "reg")
    a = check_array(a, "a", ndim=1)
    b = check_array(b, "b", ndim=1)
    M = check_array(M, "M", ndim=2)
    xp = get_namespace(a, b, M)
    n, m = a.shape[0], b.shape[0]
    if tuple(M.shape) != (n, m):
        raise ValueError(f"M must have shape (len(a), len(b)) = ({n}, {m}), got {tuple(M.shape)}")
    if bool(xp.any(a < 0)):
        raise ValueError("a must be nonnegative (found negative weights)")
    if bool(xp.any(b < 0)):
        raise ValueError("b must be nonnegative (found negative weights)")
    sa, sb = float(xp.sum(a)), float(xp.sum(b))
    if not sa > 0:
        raise ValueError("a must have positive total mass")
    if not sb > 0:
        raise ValueError("b must have positive total mass")
    if abs(sa - sb) > mass_rtol * max(sa, sb):
        raise ValueError(
            f"a and b must have the same total mass (balanced OT): sum(a) = {sa!r}, "
            f"sum(b) = {sb!r} differ by more than mass_rtol = {mass_rtol:g} (relative)"
        )
    dt = xp.result_type(a.dtype, b.dtype, M.dtype)
    a, b, M = xp.astype(a, dt), xp.astype(b, dt), xp.astype(M, dt)
    return xp, a, b, M, reg


def _safe_log(xp, x):
    """log x with log 0 = -inf and no warning."""
    tiny = xp.asarray(0.0, dtype=x.dtype)
    pos = x > tiny
    return xp.where(pos, xp.log(xp.where(pos, x, xp.ones_like(x))), xp.full_like(x, -math.inf))


def _dot_pos(xp, w, z):
    """sum_i w_i z_i over w_i > 0 (so that 0 * (-inf) does not give NaN)."""
    return xp.sum(xp.where(w > 0, w * xp.where(w > 0, z, xp.zeros_like(z)), xp.zeros_like(w)))


class Kernel:
    r"""The stabilized representation :math:`P = \mathrm{diag}(\alpha) G \mathrm{diag}(\beta)`.

    Holds ``K = -M/reg`` (one dense copy), ``G = exp(K + u0 (+) v0)`` and the scalings.
    ``n_exp`` counts the dense exponential passes (absorptions and exact log-sum-exp steps),
    ``n_matvec`` the dense matrix-vector products with ``G``.
    """

    def __init__(self, xp, a, b, M, reg: float, u0=None, v0=None, tau: float = TAU):
        self.xp = xp
        self.np = is_numpy_namespace(xp)
        self.a, self.b = a, b
        self.loga, self.logb = _safe_log(xp, a), _safe_log(xp, b)
        self.apos, self.bpos = a > 0, b > 0
        self.all_pos = bool(xp.all(self.apos)) and bool(xp.all(self.bpos))
        self._lo, self._hi = math.exp(-float(tau)), math.exp(float(tau))
        self.reg = reg
        self.tau = float(tau)
        self.K = M * (-1.0 / reg)
        n, m = M.shape
        self.shape = (n, m)
        self.u0 = xp.zeros_like(a) if u0 is None else u0
        self.v0 = xp.zeros_like(b) if v0 is None else v0
        self.G = None
        self.alpha = xp.ones_like(a)
        self.beta = xp.ones_like(b)
        self.n_exp = 0
        self.n_matvec = 0
        self.n_absorb = 0

    # ------------------------------------------------------------------ dense passes
    def _exp_kernel(self) -> None:
        xp = self.xp
        if self.np:
            G = self.G if self.G is not None else np.empty(self.shape, dtype=self.K.dtype)
            np.add(self.K, self.u0[:, None], out=G)
            G += self.v0[None, :]
            np.exp(G, out=G)
            self.G = G
        else:
            self.G = xp.exp(self.K + self.u0[:, None] + self.v0[None, :])
        self.n_exp += 1

    def exp_at(self, u0, v0):
        """A fresh kernel ``exp(K + u0 (+) v0)`` (new array; one exp pass)."""
        xp = self.xp
        self.n_exp += 1
        if self.np:
            G = np.add(self.K, u0[:, None])
            G += v0[None, :]
            return np.exp(G, out=G)
        return xp.exp(self.K + u0[:, None] + v0[None, :])

    def phi(self, u, v, mass):
        """Scaled potential <a, u> + <b, v> - mass (0-d array)."""
        xp = self.xp
        if self.all_pos:
            return xp.sum(self.a * u) + xp.sum(self.b * v) - mass
        return _dot_pos(xp, self.a, u) + _dot_pos(xp, self.b, v) - mass

    def absorb(self) -> None:
        """Move the scalings into ``u0, v0`` and recompute ``G`` (one exp pass)."""
        xp = self.xp
        self.u0 = self.u0 + _safe_log(xp, self.alpha)
        self.v0 = self.v0 + _safe_log(xp, self.beta)
        self.alpha = xp.ones_like(self.alpha)
        self.beta = xp.ones_like(self.beta)
        self._exp_kernel()
        self.n_absorb += 1

    def _lse(self, axis: int):
        """Exact max-shifted log-sum-exp of ``K + u0 (+) v0`` along ``axis`` (one exp pass)."""
        xp = self.xp
        T = self.K + self.u0[:, None] + self.v0[None, :]
        mx = xp.max(T, axis=axis)
        mx = xp.where(xp.isfinite(mx), mx, xp.zeros_like(mx))
        S = xp.exp(T - (mx[None, :] if axis == 0 else mx[:, None]))
        self.n_exp += 1
        return mx + _safe_log(xp, xp.sum(S, axis=axis))

    def exact_col_update(self) -> None:
        """v <- log b - LSE_i(K + u), exactly, then a fresh kernel (columns sum to b)."""
        xp = self.xp
        self.u0 = self.u0 + _safe_log(xp, self.alpha)
        self.alpha = xp.ones_like(self.alpha)
        v = self.logb - self._lse(0)
        self.v0 = xp.where(self.bpos, v, xp.full_like(v, -math.inf))
        self.beta = xp.ones_like(self.beta)
        self._exp_kernel()

    def exact_row_update(self) -> None:
        """u <- log a - LSE_j(K + v), exactly, then a fresh kernel (rows sum to a)."""
        xp = self.xp
        self.v0 = self.v0 + _safe_log(xp, self.beta)
        self.beta = xp.ones_like(self.beta)
        u = self.loga - self._lse(1)
        self.u0 = xp.where(self.apos, u, xp.full_like(u, -math.inf))
        self.alpha = xp.ones_like(self.alpha)
        self._exp_kernel()

    # ------------------------------------------------------------------ products
    def Gv(self, v):
        self.n_matvec += 1
        return self.G @ v

    def GTv(self, u):
        self.n_matvec += 1
        return u @ self.G

    def log(self, x):
        """log of positive scalings (log 0 = -inf where a weight is zero)."""
        return self.xp.log(x) if self.all_pos else _safe_log(self.xp, x)

    def out_of_range(self) -> bool:
        """Whether a scaling left [e^-tau, e^tau] (zero scalings of zero weights are fine)."""
        xp = self.xp
        if self.all_pos:
            al, be = self.alpha, self.beta
            return not (
                float(xp.max(al)) <= self._hi and float(xp.min(al)) >= self._lo
                and float(xp.max(be)) <= self._hi and float(xp.min(be)) >= self._lo
            )
        la = xp.abs(_safe_log(xp, xp.where(self.apos, self.alpha, xp.ones_like(self.alpha))))
        lb = xp.abs(_safe_log(xp, xp.where(self.bpos, self.beta, xp.ones_like(self.beta))))
        return bool(xp.max(la) > self.tau) or bool(xp.max(lb) > self.tau)

    # ------------------------------------------------------------------ outputs
    def potentials_scaled(self):
        return self.u0 + self.log(self.alpha), self.v0 + self.log(self.beta)

    def plan(self, out=None):
        """The dense plan (NumPy: into ``out`` when given)."""
        if self.np:
            if out is None:
                P = self.G * self.alpha[:, None]
            else:
                P = np.multiply(self.G, self.alpha[:, None], out=out)
            P *= self.beta[None, :]
            return P
        return self.alpha[:, None] * self.G * self.beta[None, :]

    def potential_value(self, total_mass) -> float:
        """D(f, g) = reg (<a, u> + <b, v> - sum P) at the current iterate (host float)."""
        xp = self.xp
        u, v = self.potentials_scaled()
        if self.all_pos:
            val = xp.sum(self.a * u) + xp.sum(self.b * v) - total_mass
        else:
            val = _dot_pos(xp, self.a, u) + _dot_pos(xp, self.b, v) - total_mass
        return self.reg * float(val)


def marginal_error(xp, P, a, b) -> float:
    """``||P 1 - a||_1 + ||P^T 1 - b||_1`` (the error every OT solver here records)."""
    return float(xp.sum(xp.abs(xp.sum(P, axis=1) - a)) + xp.sum(xp.abs(xp.sum(P, axis=0) - b)))


def transport_cost(xp, P, M) -> float:
    """``<P, M>`` (POT's ``sinkhorn2`` value)."""
    return float(xp.sum(P * M))
