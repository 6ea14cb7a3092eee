"""Bilevel toys beyond the lower-level singleton: BDA, sl-BAMM, MEHA, LV-HBA against AID.

Papers: BDA (Liu, Mu, Yuan, Zeng & Zhang, ICML 2020: its counter-example), sl-BAMM (Liu, Liu,
Yao, Zeng & Zhang, ICML 2023: merely convex toy), MEHA (Liu et al., ICML 2024: nonconvex lower
level), LV-HBA (Yao, Yu, Zeng & Zhang, ICLR 2024: coupled-constraint toy). Claims shown (checked
in theory_checks/test_bilevel_toy.py): bilevel.toy.*_nonsingleton_reach,
bilevel.toy.{bda,slbamm}_beats_aid_nonsingleton, bilevel.toy.aid_wrong_point,
bilevel.toy.lvhba_constrained_reach, bilevel.toy.meha_nonconvex_reach.

Panels: (a) trajectories in the (x, y2) plane on the 1-D non-singleton toy
f = (x - y2)^2/2 + (y1 - 1)^2/2, g = y1^2/2 - x y1 (every point with y1 = x solves the lower
level; the optimistic solution is (1, 1)); AID and ITD stop at (0.505, 0.01). (b) distance to
(x*, y*) against iterations on the same toy with n = 100. (c) LV-HBA on its coupled-constraint
toy (n = 100): relative x error, with the official script's parameters and with gamma = 1, c0 = 1,
p = 0.45. (d) MEHA on the nonconvex-lower-level sine toy: error and c_k * error (the penalty
bias is O(1/c_k)).
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

METHODS = ["bda", "slbamm", "meha", "lvhba", "aid"]
LABELS = {"bda": "BDA", "slbamm": "sl-BAMM", "meha": "MEHA", "lvhba": "LV-HBA",
          "aid": "AID (min-norm solve)", "slbamm_code": "sl-BAMM (code schedule)"}  # fmt: skip
COLORS = {"bda": "tab:blue", "slbamm": "tab:orange", "meha": "tab:green", "lvhba": "tab:purple",
          "aid": "tab:red", "slbamm_code": "tab:brown"}  # fmt: skip


def run_one(case: str, quick: bool) -> dict:
    from theory_checks import _bilevel_toy as B

    kind, _, method = case.partition(":")
    if kind == "traj":
        return {"kind": kind, "method": method, **B.trajectory(method)}
    if kind == "dist":
        n = 10 if quick else 100
        r = B.run(method, "nonsingleton", n, keep=200)
        return {"kind": kind, "method": method, "n": n, "iter": r["hist"]["iter"],
                "error": r["hist"]["error"], "final": r["error"], "n_grad": r["n_grad"],
                "n_hvp": r["n_hvp"]}  # fmt: skip
    if kind == "lvhba":
        n = 10 if quick else 100
        opts = {"max_iter": 2000 if quick else 10000}
        if method == "code":
            opts = {"max_iter": 1500, "step": 0.008, "theta_step": 0.01, "gamma1": 10.0, "gamma2": 10.0,
                    "c0": 0.025, "p": 0.3}  # fmt: skip
        r = B.run("lvhba", "constrained", n, keep=200, **opts)
        rel = (np.asarray(r["hist"]["x_error"]) / r["x_star_norm"]).tolist()
        return {"kind": kind, "method": method, "n": n, "iter": r["hist"]["iter"], "rel": rel,
                "final": r["rel_x_error"]}  # fmt: skip
    if kind == "meha":
        n = 4 if quick else 10
        r = B.run("meha", "sine", n, keep=200, max_iter=2000 if quick else 10000)
        return {"kind": kind, "method": "meha", "n": n, "iter": r["hist"]["iter"], "error": r["hist"]["error"],
                "c": r["hist"]["c"], "final": r["error"]}  # fmt: skip
    raise ValueError(case)


def compute(args) -> tuple[list[dict], dict]:
    from optlab.sweep import sweep

    cases = ([f"traj:{m}" for m in METHODS] + [f"dist:{m}" for m in METHODS]
             + ["lvhba:tuned", "lvhba:code", "meha:sine"])  # fmt: skip
    if not args.quick:
        cases.append("dist:slbamm_code")
    recs = sweep(run_one, {"case": cases, "quick": [bool(args.quick)]}, seeds=None, desc="bilevel_toy",
                 **sweep_options(args))  # fmt: skip
    return recs, {"quick": bool(args.quick)}


def plot(paths) -> None:
    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.8), constrained_layout=True)
    ax, ax2, ax3, ax4 = axes
    for r in records:
        m = r["method"]
        if r["kind"] == "traj":
            x, y2 = np.asarray(r["x"]), np.asarray(r["y2"])
            ax.plot(x, y2, ".-", ms=2, lw=1, color=COLORS[m], label=LABELS[m])
            ax.plot(x[-1], y2[-1], "o", color=COLORS[m], ms=6)
        elif r["kind"] == "dist":
            k, e = np.asarray(r["iter"]), np.maximum(np.asarray(r["error"]), 1e-16)
            ax2.semilogy(k, e, color=COLORS[m], label=f"{LABELS[m]}: {r['final']:.2g}")
        elif r["kind"] == "lvhba":
            k, rel = np.asarray(r["iter"]), np.asarray(r["rel"])
            lab = ("official script parameters" if m == "code"
                   else "gamma1 = gamma2 = 1, c0 = 1, p = 0.45")  # fmt: skip
            ax3.loglog(np.maximum(k, 1), rel, label=f"{lab}: {r['final']:.2g}")
        elif r["kind"] == "meha":
            k, e, c = np.asarray(r["iter"]), np.asarray(r["error"]), np.asarray(r["c"])
            ax4.loglog(np.maximum(k, 1), e, color="tab:green", label=f"||(x, y) - (x*, y*)||: {r['final']:.2g}")
            ax4.loglog(np.maximum(k, 1), c * e, "--", color="tab:gray", label="c_k * error")
    ax.plot([1], [1], "k*", ms=14, label="optimistic solution (1, 1)")
    ax.plot([0.505], [0.01], "kx", ms=10, label="AID / ITD limit (0.505, 0.01)")
    ax.set_xlabel("x")
    ax.set_ylabel("y2")
    ax.set_title("(a) non-singleton toy, n = 1: trajectories", fontsize=10)
    ax.legend(fontsize=7.5)
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("||(x, y) - (x*, y*)||")
    ax2.set_title("(b) non-singleton toy: distance to the solution", fontsize=10)
    ax2.legend(fontsize=7.5)
    ax3.set_xlabel("iteration")
    ax3.set_ylabel("||x - x*|| / ||x*||")
    ax3.set_title("(c) LV-HBA, coupled-constraint toy", fontsize=10)
    ax3.legend(fontsize=7.5)
    ax4.set_xlabel("iteration")
    ax4.set_title("(d) MEHA, nonconvex lower level (sine toy)", fontsize=10)
    ax4.legend(fontsize=7.5)
    fig.suptitle("Single-loop bilevel methods on toys with known solutions"
                 + (" (quick)" if meta.get("quick") else ""), fontsize=11)  # fmt: skip
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=[
                   "bilevel.toy.bda_nonsingleton_reach",
                   "bilevel.toy.slbamm_nonsingleton_reach",
                   "bilevel.toy.meha_nonsingleton_reach",
                   "bilevel.toy.bda_beats_aid_nonsingleton",
                   "bilevel.toy.slbamm_beats_aid_nonsingleton",
                   "bilevel.toy.aid_wrong_point",
                   "bilevel.toy.lvhba_constrained_reach",
                   "bilevel.toy.meha_nonconvex_reach",
               ])


if __name__ == "__main__":
    main()
