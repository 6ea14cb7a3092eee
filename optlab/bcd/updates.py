r"""Block updates (Nutini, Laradji & Schmidt, JMLR 2022, Sec. 4-6).

Every update returns the step ``d`` on the selected block and its *guaranteed decrease*
(the decrease of the model the step minimizes, which the descent lemma turns into a
lower bound on ``F(x) - F(x + U_b d)``):

=========  ====================================================================  ==========================
update     step                                                                  guaranteed decrease
=========  ====================================================================  ==========================
lb         ``x_b <- prox(x_b - g_b / L_b)`` (gradient / proximal gradient,       ``||g_b||^2 / (2 L_b)``
           ``L_b = lambda_max`` of the block Hessian bound)                      (smooth case)
diag       ``x_b <- prox(x_b - D_b^{-1} g_b)``, ``D_b = |b| diag(L_i)``          ``||g_b||^2_{D_b^{-1}} / 2``
la         ``lb`` with a Lipschitz line search (double ``L_b`` until the bound    the accepted bound
           holds, keep it for the next visit)
hb/exact   ``x_b <- x_b - H_bb^{-1} g_b`` (matrix update; exact block            ``g_b^T H_bb^{-1} g_b / 2``
           minimization for quadratics; forest blocks by message passing)
newton     Newton direction with Armijo backtracking (quadratic interpolation)    the accepted decrease
pg         projected / proximal gradient (= ``lb`` with a nonsmooth part)
pn         proximal / projected Newton: exact block QP on the second-order       the accepted decrease
           model (``scipy.optimize.nnls`` for lower bounds, ``lsq_linear``
           BVLS for boxes; coordinate descent to 1e-13 for signed L1), then
           Armijo backtracking
tmp        two-metric projection (bound constraints, ``x >= 0``): scaled          the accepted decrease
           gradient on the active set, Newton on the working set, projected
           backtracking
=========  ====================================================================  ==========================
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

__all__ = ["UPDATES"]

UPDATES = ("lb", "diag", "la", "hb", "exact", "newton", "pg", "pn", "tmp")

ARMIJO = 1e-10  # sufficient-decrease constant of the reference code's line_search.py


def _lmax(H):
    k = H.shape[0]
    if k == 1:
        return float(H[0, 0])
    return float(sla.eigvalsh(H, subset_by_index=[k - 1, k - 1])[0])


def _solve_spd(H, g):
    try:
        c = sla.cho_factor(H, check_finite=False)
        return sla.cho_solve(c, g, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        return np.linalg.lstsq(H, g, rcond=1e-12)[0]


def _pen_change(pen, xb, d):
    return pen.value_block(xb + d) - pen.value_block(xb) if pen.lam else 0.0


def _box_qp(H, q, lo, hi, lam, z0=None):
    """argmin_z z^T H z / 2 + q^T z + lam ||z||_1 s.t. lo <= z <= hi (small dense block)."""
    k = q.size
    if lam == 0 or np.all(lo >= 0):
        qq = q + lam  # with z >= 0, lam |z| is linear
        lo2 = np.maximum(lo, 0.0) if lam else lo
        if np.all(np.isinf(lo2)) and np.all(np.isinf(hi)):
            return _solve_spd(H, -qq)
        from scipy.optimize import lsq_linear, nnls

        Hr = H + 1e-12 * max(np.trace(H) / k, 1e-300) * np.eye(k)
        Lc = np.linalg.cholesky(Hr)
        if np.all(np.isfinite(lo2)) and np.all(np.isinf(hi)):
            # z = lo + w, w >= 0: Lawson-Hanson NNLS on ||Lc^T w + Lc^-1 (q + H lo)||^2 (compiled)
            rhs = -sla.solve_triangular(Lc, qq + Hr @ lo2, lower=True)
            try:
                return lo2 + nnls(Lc.T, rhs, maxiter=50 * k)[0]
            except RuntimeError:  # iteration limit: fall back to BVLS
                pass
        rhs = -sla.solve_triangular(Lc, qq, lower=True)
        res = lsq_linear(Lc.T, rhs, bounds=(lo2, hi), method="bvls", tol=1e-14, lsmr_tol=None)
        return res.x
    # signed L1 (optionally boxed): cyclic coordinate descent on the small QP
    z = np.zeros(k)
    hd = np.maximum(np.diag(H), 1e-300)
    Hz = np.zeros(k)
    for _ in range(2000):
        zmax = 0.0
        for i in range(k):
            v = z[i] - (q[i] + Hz[i]) / hd[i]
            t = lam / hd[i]
            zi = np.sign(v) * max(abs(v) - t, 0.0)
            zi = min(max(zi, lo[i]), hi[i])
            dz = zi - z[i]
            if dz != 0.0:
                Hz += H[:, i] * dz
                z[i] = zi
                zmax = max(zmax, abs(dz))
        if zmax <= 1e-13 * max(1.0, np.abs(z).max()):
            break
    return z


class Updater:
    """Stateful update rule (keeps line-search constants and block factorizations)."""

    def __init__(self, name, ctx):
        self.name = name
        self.ctx = ctx
        self.Lstore = {}

    def __call__(self, st, b, j):
        name = self.name
        ctx = self.ctx
        pen = ctx.pen
        if name in ("lb", "pg"):
            return self._lb(st, b, j)
        if name == "diag":
            return self._prox_metric(st, b, b.size * ctx.L[b])
        if name == "la":
            return self._la(st, b, j)
        if name in ("hb", "exact"):
            if pen.active:
                return self._pn(st, b)
            return self._exact(st, b, j)
        if name == "newton":
            if pen.active:
                return self._pn(st, b)
            return self._newton(st, b)
        if name == "pn":
            return self._pn(st, b)
        if name == "tmp":
            return self._tmp(st, b)
        raise AssertionError(name)

    # -- gradient-type steps -------------------------------------------------------------------
    def _Lb(self, st, b, j):
        ctx = self.ctx
        if j >= 0 and ctx.Lb is not None:
            return float(ctx.Lb[j])
        if b.size == 1:
            return float(ctx.L[b[0]])
        return _lmax(ctx.obj.hess_bound_block(st, b))

    def _prox_step(self, st, b, Lvec):
        ctx = self.ctx
        gb = ctx.obj.grad_block(st, b)
        xb = st.x[b]
        d = ctx.pen.prox(xb - gb / Lvec, 1.0 / Lvec, b) - xb
        dec = -(gb @ d + 0.5 * (Lvec * d) @ d) - _pen_change(ctx.pen, xb, d)
        return gb, xb, d, float(dec)

    def _prox_metric(self, st, b, Lvec):
        _, _, d, dec = self._prox_step(st, b, Lvec)
        return d, dec

    def _lb(self, st, b, j):
        Lb = self._Lb(st, b, j)
        _, _, d, dec = self._prox_step(st, b, np.full(b.size, Lb))
        return d, dec

    def _la(self, st, b, j):
        ctx = self.ctx
        key = j if j >= 0 else None
        L0 = self.Lstore.get(key) if key is not None else None
        if L0 is None:
            L0 = float(np.max(ctx.L[b]))  # a lower bound on lambda_max(H_bb)
        Lb = L0
        for _ in range(60):
            gb, xb, d, dec = self._prox_step(st, b, np.full(b.size, Lb))
            if not np.any(d):
                break
            actual = -(ctx.obj.delta(st, b, d) + _pen_change(ctx.pen, xb, d))
            if actual >= dec * (1 - 1e-12) - 1e-14 * abs(ctx.fval):
                break
            Lb *= 2.0
        if key is not None:
            self.Lstore[key] = Lb
        return d, dec

    # -- second-order steps --------------------------------------------------------------------
    def _exact(self, st, b, j):
        ctx = self.ctx
        gb = ctx.obj.grad_block(st, b)
        fs = ctx.forest_solver(st, b, j)
        if fs is not None:
            d = -fs.solve(gb)  # compiled leaf-to-root elimination (message_passing.TreeFactor)
            st.ops += fs.ops
            return d, 0.5 * float(-gb @ d)
        H = ctx.obj.hess_block(st, b)
        if j >= 0 and ctx.cho is not None:
            d = -sla.cho_solve(ctx.cho[j], gb, check_finite=False)
        else:
            d = -_solve_spd(H, gb)
        st.ops += b.size**3 // 3 + b.size**2
        if ctx.obj.quadratic:
            return d, 0.5 * float(-gb @ d)
        return self._backtrack(st, b, gb, d)

    def _newton(self, st, b):
        ctx = self.ctx
        gb = ctx.obj.grad_block(st, b)
        H = ctx.obj.hess_block(st, b)
        d = -_solve_spd(H, gb)
        st.ops += b.size**3 // 3 + b.size**2
        return self._backtrack(st, b, gb, d)

    def _backtrack(self, st, b, gb, d, *, proj=None):
        """Armijo backtracking (quadratic interpolation, safeguarded to [0.1, 0.5] alpha)."""
        ctx = self.ctx
        pen = ctx.pen
        xb = st.x[b]
        slope = float(gb @ d)
        if proj is None:
            slope += _pen_change(pen, xb, d)  # convexity: directional bound of the nonsmooth part
        alpha = 1.0
        noise = 64 * np.finfo(float).eps * max(abs(ctx.fval), 1.0)  # rounding of the F difference
        for _ in range(50):
            step = d * alpha if proj is None else proj(alpha) - xb
            phi = ctx.obj.delta(st, b, step) + _pen_change(pen, xb, step)
            bound = ARMIJO * (alpha * slope if proj is None else float(gb @ step) + _pen_change(pen, xb, step))
            if phi <= bound + noise:
                return step, float(-phi)
            denom = 2.0 * (phi - alpha * slope)
            a_new = -slope * alpha * alpha / denom if denom > 0 else 0.5 * alpha
            alpha = float(min(max(a_new, 0.1 * alpha), 0.5 * alpha))
        return np.zeros_like(d), 0.0

    def _pn(self, st, b):
        ctx = self.ctx
        pen = ctx.pen
        gb = ctx.obj.grad_block(st, b)
        H = ctx.obj.hess_block(st, b)
        xb = st.x[b]
        q = gb - H @ xb
        z = _box_qp(H, q, pen.lower[b], pen.upper[b], pen.lam, xb)
        st.ops += b.size**3
        d = z - xb
        if not np.any(d):
            return d, 0.0
        if ctx.obj.quadratic:
            phi = ctx.obj.delta(st, b, d) + _pen_change(pen, xb, d)
            return d, float(-phi)
        return self._backtrack(st, b, gb, d)

    def _tmp(self, st, b):
        """Two-metric projection (Gafni & Bertsekas) for x >= lower (plus lam sum x on x >= 0)."""
        ctx = self.ctx
        pen = ctx.pen
        gb = ctx.obj.grad_block(st, b)
        xb = st.x[b]
        lo = pen.lower[b]
        gl = gb + pen.lam if pen.lam else gb
        if pen.lam and not np.all(lo >= 0):
            raise ValueError("update='tmp' needs lower >= 0 with an l1 term (use 'pn' or 'pg')")
        w = np.linalg.norm(xb - np.maximum(xb - gl, lo))
        eps = min(1e-4, w)
        act = (xb - lo <= eps) & (gl > 0)
        d = np.zeros_like(xb)
        Wk = ~act
        if np.any(act):
            d[act] = -gl[act] / ctx.L[b][act]
        if np.any(Wk):
            H = ctx.obj.hess_block(st, b)
            d[Wk] = -_solve_spd(H[np.ix_(Wk, Wk)], gl[Wk])
            st.ops += int(Wk.sum()) ** 3 // 3
        if not np.any(d):
            return d, 0.0

        def proj(alpha):
            return np.clip(xb + alpha * d, lo, pen.upper[b])

        return self._backtrack(st, b, gb, d, proj=proj)
