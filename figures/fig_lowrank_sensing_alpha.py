"""Curses of symmetry and initialization: symmetric vs asymmetric vs one-step-modified GD over alpha.

Xiong, Ding & Du (ICLR 2024), abstract: symmetric over-parameterized GD (k > r) has an Omega(1/T^2)
lower bound, exact parameterization (k = r) converges linearly; asymmetric over-parameterized GD
converges as exp(-Omega(alpha^2 T)); a one-step modification (Sec. 5, eq. (5.1); its form is a
reconstruction here: F <- F P, G <- G P^-T with F^T F = sigma_1 I) gives a rate independent of alpha.
Claims shown (theory_checks/test_lowrank_sensing.py): lowrank.sensing.symmetric_overparam_sublinear,
lowrank.sensing.symmetric_exact_linear, lowrank.sensing.asymmetric_rate_alpha2,
lowrank.sensing.modified_rate_alpha_free.

Instances: Gaussian sensing, r = 2, kappa = 2, eta = 0.2; symmetric: n = 20, m = 8 n r, alpha = 0.1,
k in {2, 4}; asymmetric (general design, k = 4): n = 16, m = 5 n r (--quick) or n = 30, m = 8 n r,
alpha in {0.6, 0.45} / {0.6, 0.45, 0.3, 0.2}; modified: alpha in {0.3, 0.1} / {0.3, 0.1, 0.03}.
Left: relative error vs T on log-log axes with a 1/T^2 reference line (the lower bound's order) and
a 1/T line. Right: the same on a linear T axis (linear convergence = straight lines), with the
fitted -log(rate)/alpha^2 of the asymmetric runs.
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


def run_one(kind: str, alpha: float, k: int, quick: bool) -> dict:
    from theory_checks import _lowrank_sensing as S

    if kind == "symmetric":
        r = S.symmetric_run(k, alpha=alpha, T=2000 if quick else 8000)
    else:
        size = dict(n=16, c=5.0, target=1e-7) if quick else dict(n=30, c=8.0, target=1e-10)
        r = S.asymmetric_run(alpha, k=k, modification="rebalance" if kind == "modified" else None,
                             max_iter=60_000, **size)
    r.pop("modification", None)
    return r


def compute(args):
    from optlab.sweep import sweep

    q = bool(args.quick)
    asym = [0.6, 0.45] if q else [0.6, 0.45, 0.3, 0.2]
    mod = [0.3, 0.1] if q else [0.3, 0.1, 0.03]
    grid = ([{"kind": "symmetric", "alpha": 0.1, "k": k, "quick": q} for k in (2, 4)]
            + [{"kind": "asymmetric", "alpha": a, "k": 4, "quick": q} for a in asym]
            + [{"kind": "modified", "alpha": a, "k": 4, "quick": q} for a in mod])
    recs = sweep(run_one, grid, seeds=None, desc="alpha", **sweep_options(args))
    return recs, {"quick": q}


def plot(paths) -> None:
    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 5.2), constrained_layout=True)
    blues, greens = plt.get_cmap("Blues"), plt.get_cmap("Greens")
    asym = sorted([r for r in records if r["kind"] == "asymmetric"], key=lambda r: -r["alpha"])
    mod = sorted([r for r in records if r["kind"] == "modified"], key=lambda r: -r["alpha"])
    for r in records:
        if r["kind"] != "symmetric":
            continue
        t, e = np.asarray(r["iters"]), np.asarray(r["error"])
        style = dict(color="k" if r["k"] > r["r"] else "0.55", lw=2.0)
        txt = (f"symmetric k = {r['k']} > r: order {r['order']:.2f}" if r["k"] > r["r"]
               else f"symmetric k = r = {r['k']}")
        for a in (ax, ax2):
            a.plot(t[t > 0], e[t > 0], label=txt, **style)
        if r["k"] > r["r"]:
            tt = np.geomspace(30, t[-1], 20)
            c2 = np.interp(300, t, e) * 300**2
            ax.plot(tt, c2 * tt**-2.0, ":", color="tab:red", lw=1.5, label="$\\propto 1/T^2$ (lower bound's order)")
            c1 = np.interp(300, t, e) * 300
            ax.plot(tt, c1 / tt, ":", color="0.4", lw=1.2, label="$\\propto 1/T$")
    for i, r in enumerate(asym):
        col = blues(0.45 + 0.5 * i / max(len(asym) - 1, 1))
        t, e = np.asarray(r["iters"]), np.asarray(r["error"])
        lab = f"asymmetric $\\alpha$={r['alpha']:g}: $-\\log q/\\alpha^2$={r['neg_log_rate'] / r['alpha'] ** 2:.3g}"
        for a in (ax, ax2):
            a.plot(t[t > 0], e[t > 0], color=col, label=lab)
    for i, r in enumerate(mod):
        col = greens(0.5 + 0.45 * i / max(len(mod) - 1, 1))
        t, e = np.asarray(r["iters"]), np.asarray(r["error"])
        lab = f"modified $\\alpha$={r['alpha']:g} (step at t={r['modified_at']}): $-\\log q$={r['neg_log_rate']:.3g}"
        for a in (ax, ax2):
            a.plot(t[t > 0], e[t > 0], "--", color=col, label=lab)
    ax.set_xscale("log")
    for a in (ax, ax2):
        a.set_yscale("log")
        a.set_xlabel("iteration T")
        a.set_ylabel("relative error $\\|\\widehat M_T - M^*\\|_F/\\|M^*\\|_F$")
        a.set_ylim(1e-11, 3)
    ax.set_title("log-log axes", fontsize=10)
    ax2.set_title("linear T axis (straight line = linear rate)", fontsize=10)
    ax2.set_xlim(0, max(r["iters"][-1] for r in records))
    ax.legend(fontsize=7, loc="lower left")
    fig.suptitle("Xiong, Ding & Du (2024): symmetric vs asymmetric vs one-step-modified GD over the "
                 "initialization scale $\\alpha$", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=[
                   "lowrank.sensing.symmetric_overparam_sublinear",
                   "lowrank.sensing.symmetric_exact_linear",
                   "lowrank.sensing.asymmetric_rate_alpha2",
                   "lowrank.sensing.modified_rate_alpha_free",
               ])


if __name__ == "__main__":
    main()
