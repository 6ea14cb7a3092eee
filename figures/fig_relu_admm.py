"""Convex two-layer ReLU training: ADMM convergence against CVXPY, and accuracy vs iterations against Adam/SGD.

Bai, Gautam & Sojoudi (2023), Algorithm 3.1 (ADMM on the sampled-pattern convex program,
squared loss), with the Woodbury u-update of ``optlab.relu.relu_admm``. Claims shown (checked
in theory_checks/test_relu_claims.py): relu.admm.agreement (ADMM = CVXPY), relu.admm.linear_rate.

Left: relative objective gap |f(v_k) - f*| / f* (f* from CVXPY/Clarabel on the same program)
and the primal / dual residuals against wall-clock time, for the default penalty (rho = 1) and
over-relaxation 1.9 (Boyd et al. 2011, Sec. 3.4.3); CVXPY/Clarabel's solve time is
the vertical line. Instance: synthetic teacher data as in benchmarks/bench_relu.py
(n = 500, d = 20, P = 50; --quick: n = 200, d = 10, P = 20).
Right: training and test accuracy against iterations on scikit-learn digits, even vs odd
(n_train ~ 1260, d = 65, P = 50 sampled patterns; --quick: P = 20): the network recovered
from the ADMM iterate (+-1 targets, squared loss) against the non-convex network of the same
width (2P neurons) trained full-batch by Adam and by SGD on the same objective.
"""

from __future__ import annotations

import time

import numpy as np
from _common import (
    load_data,
    run_figure,
    savefig,
    setup_matplotlib,
    sweep_options,
)

BETA_CONV = 0.1
BETA_ACC = 1e-3


def _instance(n, d, P, seed=0):
    from optlab.relu import sample_patterns

    rng = np.random.default_rng(seed)
    X = np.c_[rng.standard_normal((n, d - 1)) / np.sqrt(d), np.ones(n)]
    w = rng.standard_normal((3, d))
    y = np.maximum(X @ w.T, 0) @ np.array([1.0, -1.0, 0.5]) + 0.1 * rng.standard_normal(n)
    return X, y, sample_patterns(X, P, seed=1)


def run_convergence(n: int, d: int, P: int, max_iter: int) -> dict:
    from optlab.relu import relu_admm, solve_cvxpy

    X, y, D = _instance(n, d, P)
    t0 = time.perf_counter()
    ref = solve_cvxpy(X, y, D, BETA_CONV)
    t_cvx = time.perf_counter() - t0
    out = {"kind": "convergence", "n": n, "d": d, "P": int(D.shape[1]), "t_cvxpy": t_cvx, "f_star": ref.fun,
           "runs": {}}
    for label, kw in (("rho = 1 (default)", {"rho": 1.0}), ("rho = 1, relax 1.9", {"rho": 1.0, "relax": 1.9})):
        r = relu_admm(X, y, D, BETA_CONV, max_iter=max_iter, tol=1e-12, f_star=ref.fun, **kw)
        h = r.history
        t = r.setup_time + np.asarray(h["time"])
        keep = np.unique(np.r_[np.linspace(0, t.size - 1, 400).astype(int)])
        out["runs"][label] = {"time": t[keep].tolist(), "gap": np.abs(np.asarray(h["gap"]))[keep].tolist(),
                              "primal_res": np.asarray(h["primal_res"])[keep].tolist(),
                              "dual_res": np.asarray(h["dual_res"])[keep].tolist(), "rho": float(r.rho),
                              "nit": int(r.nit)}
    return out


def run_accuracy(P: int, admm_iter: int, sgd_iter: int) -> dict:
    from optlab.relu import (
        network_forward,
        recover_network,
        relu_admm,
        sample_patterns,
        train_network,
    )
    from problems.relu import relu_digits

    data = relu_digits(positive=(0, 2, 4, 6, 8), negative=(1, 3, 5, 7, 9), seed=0)
    X, y = data.X, data.y
    D = sample_patterns(X, P, seed=0)
    every = max(admm_iter // 40, 1)
    ks, tr, te = [], [], []

    def cb(r):
        if r.nit % every == 0:
            Pn = D.shape[1]
            U, a = recover_network(r.x[:Pn], r.x[Pn:])
            ks.append(int(r.nit))
            tr.append(float(np.mean(np.sign(network_forward(X, U, a)) == y)))
            te.append(float(np.mean(np.sign(network_forward(data.X_test, U, a)) == data.y_test)))
        return False

    relu_admm(X, y, D, BETA_ACC, rho=1.0, relax=1.9, max_iter=admm_iter, tol=1e-12, callback=cb, record=False)
    out = {"kind": "accuracy", "P": int(D.shape[1]), "n": int(X.shape[0]), "d": int(X.shape[1]),
           "admm": {"iter": ks, "train": tr, "test": te}}
    for opt, step in (("adam", 1e-2), ("sgd", 1e-4)):
        s = train_network(X, y, 2 * int(D.shape[1]), BETA_ACC, optimizer=opt, step=step, max_iter=sgd_iter,
                          record_every=max(sgd_iter // 40, 1), X_test=data.X_test, y_test=data.y_test, seed=0)
        out[opt] = {"iter": np.asarray(s.history["iter"]).tolist(), "train": np.asarray(s.history["train_acc"]).tolist(),
                    "test": np.asarray(s.history["test_acc"]).tolist()}
    return out


def run_one(part: str, quick: bool) -> dict:
    if part == "convergence":
        return run_convergence(*((200, 10, 20, 1500) if quick else (500, 20, 50, 4000)))
    return run_accuracy(*((20, 200, 1000) if quick else (50, 1000, 5000)))


def compute(args) -> tuple[list[dict], dict]:
    from optlab.sweep import sweep

    recs = sweep(run_one, {"part": ["convergence", "accuracy"], "quick": [bool(args.quick)]}, seeds=None,
                 desc="relu_admm", **sweep_options(args))
    return recs, {"quick": bool(args.quick)}


def plot(paths) -> None:
    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 5.2), constrained_layout=True)
    for r in records:
        if r["kind"] == "convergence":
            for (label, run), c in zip(r["runs"].items(), ("tab:blue", "tab:orange"), strict=True):
                t = np.asarray(run["time"])
                ax.semilogy(t, np.maximum(run["gap"], 1e-16), color=c, lw=2,
                            label=f"{label} (rho={run['rho']:.3g}): objective gap")
                ax.semilogy(t, run["primal_res"], color=c, ls="--", lw=1, label="  primal residual")
                ax.semilogy(t, run["dual_res"], color=c, ls=":", lw=1, label="  dual residual")
            ax.axvline(r["t_cvxpy"], color="k", lw=1.2)
            ax.text(r["t_cvxpy"], 1e-7, " CVXPY/Clarabel", fontsize=8.5, rotation=90, va="bottom")
            ax.axhline(1e-4, color="gray", lw=0.8, ls="-.")
            ax.set_title(f"ADMM, synthetic n={r['n']}, d={r['d']}, P={r['P']}, beta={BETA_CONV:g}", fontsize=10)
        else:
            for key, c, lab in (("admm", "tab:blue", "convex ADMM (recovered net)"), ("adam", "tab:green", "Adam"),
                                ("sgd", "tab:red", "SGD")):
                h = r[key]
                it = np.maximum(np.asarray(h["iter"], dtype=float), 1)
                ax2.semilogx(it, h["train"], color=c, lw=1.8, label=f"{lab}: train")
                ax2.semilogx(it, h["test"], color=c, lw=1.2, ls="--", label=f"{lab}: test")
            ax2.set_title(f"digits even vs odd, n={r['n']}, d={r['d']}, P={r['P']} (width 2P), "
                          f"beta={BETA_ACC:g}", fontsize=10)
    ax.set_xlabel("wall-clock time (s, includes the factorisation)")
    ax.set_ylabel("relative gap / residual")
    ax.legend(fontsize=7.5, loc="upper right")
    ax2.set_xlabel("iteration (ADMM iteration or full-batch gradient step)")
    ax2.set_ylabel("accuracy")
    ax2.set_ylim(0.5, 1.01)
    ax2.legend(fontsize=8, loc="lower right")
    fig.suptitle("Convex ReLU training: ADMM (Bai, Gautam & Sojoudi 2023, Alg. 3.1) vs CVXPY and vs "
                 "back-propagation", fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["relu.admm.agreement", "relu.admm.linear_rate"])


if __name__ == "__main__":
    main()
