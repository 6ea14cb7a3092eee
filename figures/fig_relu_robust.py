"""Convex adversarial training: robust test accuracy vs epsilon against standard convex training and PGD training.

Bai, Gautam, Gai & Sojoudi (ACC 2022, arXiv:2105.12237) and Bai, Gautam & Sojoudi (2023, Sec. 4),
reconstructed in ``optlab.relu.adversarial``: l-infinity robust cone constraints
(2D_i - I) X v_i >= eps ||v_i||_1 and the robust hinge loss. Claims shown (checked in
theory_checks/test_relu_claims.py): relu.adv.robust_ge_standard, relu.adv.vs_pgd_training.

Instance: scikit-learn breast cancer, first 12 features + bias, 250 training rows (the rest
for testing), P = 60 sampled patterns, beta = 1e-2 (--quick: 8 features, 120 rows, P = 30).
For each training radius eps: the standard convex model (eps = 0 program), the robust convex
model trained at eps, and the non-convex network of the same width (2P) trained by PGD
adversarial training at eps; each attacked on the test rows by PGD (40 sign steps) at the
same eps. The dotted line is the robust model's certified training accuracy. At large eps the
robust program collapses to the zero network (marked with x): its "accuracy" is then the sign
of solver round-off, not a classifier.
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

MODELS = (("standard convex", "tab:blue"), ("robust convex", "tab:orange"), ("PGD-trained net", "tab:green"))


def run_one(eps: float, quick: bool) -> dict:
    from theory_checks import _relu as R

    kw = {"n_train": 120, "n_features": 8, "P": 30} if quick else {"n_train": 250, "n_features": 12, "P": 60}
    r = R.adversarial(eps=eps, pgd_train=True, **kw)
    out = {"eps": eps, "certified_train": r["certified_train"], "active": r["robust_active_blocks"],
           "robust_fun": r["robust_fun"], "zero_model_fun": r["zero_model_fun"]}
    for m, _ in MODELS:
        out[m] = r[m]
    return out


def compute(args) -> tuple[list[dict], dict]:
    from optlab.sweep import sweep

    eps = [0.01, 0.05] if args.quick else [0.005, 0.01, 0.02, 0.05, 0.1]
    recs = sweep(run_one, {"eps": eps, "quick": [bool(args.quick)]}, seeds=None, desc="relu_robust",
                 **sweep_options(args))
    return recs, {"quick": bool(args.quick)}


def plot(paths) -> None:
    records, meta = load_data(paths.data)
    records = sorted(records, key=lambda r: r["eps"])
    plt = setup_matplotlib()
    fig, ax = plt.subplots(1, 1, figsize=(7.5, 5.2), constrained_layout=True)
    eps = np.asarray([r["eps"] for r in records])
    for m, c in MODELS:
        acc = np.asarray([r[m]["pgd"] for r in records])
        ax.semilogx(eps, acc, "o-", color=c, label=f"{m}: PGD test accuracy")
    cert = np.asarray([r["certified_train"] for r in records])
    ax.semilogx(eps, cert, ":", color="tab:orange", label="robust convex: certified train accuracy")
    dead = np.asarray([r["active"] == 0 for r in records])
    if dead.any():
        ax.semilogx(eps[dead], [r["robust convex"]["pgd"] for r, d in zip(records, dead, strict=True) if d], "kx",
                    ms=10, label="robust program = zero network")
    ax.set_xlabel(r"$\ell_\infty$ radius $\epsilon$ (training and attack)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0.0, 1.02)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("breast cancer: convex adversarial training vs standard convex and PGD training", fontsize=10)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=["relu.adv.robust_ge_standard", "relu.adv.vs_pgd_training"])


if __name__ == "__main__":
    main()
