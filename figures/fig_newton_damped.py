"""Damped Newton with the RN step size: the global O(k^-3) phase on the arctan-Huber instance.

Hanzely, Abdukhakimov & Takac (2024), arXiv:2405.18926, Theorem 4 (from secondary sources,
unverified): f(x_k) - f* = O(k^-3) for the RN step alpha_k = 1/(1 + theta_k),
theta_k = (9 M)^(1/3) (g_k*)^(2/3) (q = 4). Claim shown (checked in
theory_checks/test_newton_damped.py): newton.damped.global_k3.

Instance: f(x) = x atan x - log(1 + x^2)/2 + mu x^2/2, mu = 1e-5, x0 = 1e3, M = 2/mu^2 (certified).
Left: f(x_k) - f* against k (log-log) for RN, with the claim's window 10 <= |x_k| <= 100 shaded
and a k^-3 line through it; the parameter-free variants GRLS and UN of the same paper for
comparison (they need no constant and leave the damped regime at once). Right: the step sizes
alpha_k (RN: alpha_k ~ 1/theta_k in the global phase, -> 1 in the local phase).
"""

from __future__ import annotations

import numpy as np
from _common import (
    load_data,
    run_figure,
    savefig,
    setup_matplotlib,
    sweep_options,
)

MU, X0 = 1e-5, 1e3


def run_one(stepsize: str) -> dict:
    from optlab.newton import damped_newton
    from theory_checks import _newton as N

    if stepsize == "rn":
        r = N.damped_global_phase(MU, X0, full_run=True)
        k, gap, alpha = np.array(r["k"]), np.array(r["gap"]), np.array(r["alpha"])
        extra = {"window": r["window"], "nit": r["nit"]}
    else:
        p = N.atan_huber(MU, X0)
        res = damped_newton(p.value, p.grad, p.hess, p.x0, stepsize=stepsize, tol=1e-10, max_iter=100_000)
        k = np.asarray(res.history["iter"], dtype=float)
        gap = np.asarray(res.history["fun"], dtype=float)
        alpha = np.asarray(res.history["alpha"], dtype=float)
        extra = {"nit": int(res.nit)}
    keep = np.unique(np.r_[0, np.geomspace(1, max(k.size - 1, 1), 600).astype(int)])
    keep = keep[keep < k.size]
    return {"k": k[keep].tolist(), "gap": gap[keep].tolist(), "alpha": alpha[keep].tolist(), **extra}


def compute(args) -> tuple[list[dict], dict]:
    from optlab.sweep import sweep

    recs = sweep(run_one, {"stepsize": ["rn", "grls", "un"]}, seeds=None, desc="damped",
                 **sweep_options(args))
    return recs, {"mu": MU, "x0": X0, "quick": bool(args.quick)}


LABELS = {"rn": "RN (M = 2/mu^2, q = 4)", "grls": "GRLS (line search)", "un": "UN (backtracking)"}
COLORS = {"rn": "tab:blue", "grls": "tab:orange", "un": "tab:green"}


def plot(paths) -> None:
    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 5.2), constrained_layout=True)
    for r in records:
        s = r["stepsize"]
        k, gap, alpha = np.asarray(r["k"]), np.asarray(r["gap"]), np.asarray(r["alpha"])
        pos = (k >= 1) & (gap > 0)
        ax.loglog(k[pos], gap[pos], color=COLORS[s], label=f"{LABELS[s]}: {r['nit']} iterations")
        ok = (k >= 1) & np.isfinite(alpha)
        ax2.loglog(k[ok], alpha[ok], color=COLORS[s], label=LABELS[s])
        if s == "rn" and r.get("window"):
            w = r["window"]
            ka, kb = w["k"]
            ax.axvspan(ka, kb, color="tab:blue", alpha=0.1)
            mid = np.sqrt(ka * kb)
            gm = float(np.interp(mid, k, gap))
            kk = np.geomspace(ka / 3, kb * 3, 50)
            ax.loglog([], [], "k--", lw=1, label=r"$\propto k^{-3}$ (offset for visibility)")
            ax.loglog(kk, 3 * gm * (kk / mid) ** -3.0, "k--", lw=1)
            ax.text(0.03, 0.45, f"shaded: window 10 <= |x_k| <= 100\nfitted slope -{w['p']:.2f} "
                    f"(claim: <= -2.7)\nrate-law exponent {w.get('p_rate_law', float('nan')):.2f}",
                    fontsize=8.5, transform=ax.transAxes)
    ax.set_xlabel("iteration k")
    ax.set_ylabel(r"$f(x_k) - f^*$")
    ax.set_ylim(1e-10, 1e4)
    ax.set_title(f"arctan-Huber, mu = {meta['mu']:g}, x0 = {meta['x0']:g}", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    ax2.set_xlabel("iteration k")
    ax2.set_ylabel(r"step size $\alpha_k$")
    ax2.set_title("step sizes", fontsize=10)
    ax2.legend(fontsize=8)
    fig.suptitle("Damped Newton with the RN step size: global O(k^-3) phase (Hanzely, Abdukhakimov & "
                 "Takac 2024, Thm 4, unverified)", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["newton.damped.global_k3"])


if __name__ == "__main__":
    main()
