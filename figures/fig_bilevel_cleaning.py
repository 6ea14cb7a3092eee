"""MNIST data hyper-cleaning: clean test accuracy and upper-level loss vs time and vs oracle calls.

F2SA's experiment (Kwon et al., ICML 2023, Section 5: corruption probability p = 0.1 / 0.3;
model and sizes of the paper unverified). Here: the MNIST test images (../shared/data),
split into 4,000 training images with labels corrupted with probability p = 0.3, 1,000 clean
validation and 5,000 clean test images; 4x4 pooled pixels + bias, linear softmax model
(500 weights), per-sample weights sigmoid(x_i), lower-level L2 weight 1e-2. Methods
(mini-batches of 256 at both levels): F2SA (paper schedule, with and without momentum,
gradients only), BO-REP (normalized momentum, periodic lower updates), stochastic AID with
CG (10 CG steps, warm started; StocBiO-like) and ITD (3 unrolled steps), both with 3 inner
steps per outer step. Oracle calls = gradients + Hessian/Jacobian-vector products.
--quick: 1,000 / 500 / 1,000 images and fewer iterations. No claim is asserted from this
figure (benchmarks/bench_bilevel.py reports time to the best accuracy).
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


def run_one(method: str, quick: bool) -> dict:
    from theory_checks import _bilevel as B

    return B.run_cleaning(method, 150 if quick else 1500, quick=quick, eval_every=10 if quick else 50)


def compute(args):
    from optlab.sweep import sweep
    from theory_checks._bilevel import CLEANING_METHODS

    recs = sweep(run_one, {"method": list(CLEANING_METHODS), "quick": [bool(args.quick)]}, seeds=None,
                 desc="hyper-cleaning", **sweep_options(args))
    return recs, {"quick": bool(args.quick)}


def plot(paths) -> None:
    records, meta = load_data(paths.data)
    plt = setup_matplotlib()
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5), constrained_layout=True)
    for r in records:
        t, c = np.asarray(r["time"]), np.asarray(r["oracle_calls"])
        acc, loss = np.asarray(r["test_accuracy"]), np.asarray(r["val_loss"])
        lab = f"{r['method']} (best {acc.max():.3f})"
        axes[0, 0].plot(t, acc, label=lab)
        axes[0, 1].plot(c, acc, label=lab)
        axes[1, 0].semilogy(t, loss, label=r["method"])
        axes[1, 1].semilogy(c, loss, label=r["method"])
    for ax in axes[0]:
        ax.set_ylabel("clean test accuracy")
        ax.set_ylim(0.5, 0.95)
        ax.legend(fontsize=8)
    for ax in axes[1]:
        ax.set_ylabel("upper-level (validation) loss f(x, y)")
    for ax in axes[:, 0]:
        ax.set_xlabel("time (s)")
    for ax in axes[:, 1]:
        ax.set_xlabel("oracle calls (gradients + HVPs/JVPs)")
        ax.set_xscale("log")
    fig.suptitle("MNIST hyper-cleaning, corruption p = 0.3" + (" (quick)" if meta.get("quick") else ""), fontsize=11)
    savefig(fig, paths)


def main(argv=None) -> None:
    run_figure(__doc__, __file__, compute, plot, argv=argv,
               claims=[])


if __name__ == "__main__":
    main()
