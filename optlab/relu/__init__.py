"""Convex training of two-layer ReLU networks (Pilanci & Ergen 2020; Bai, Gautam & Sojoudi 2023).

* :mod:`~optlab.relu.arrangements`: activation patterns, exact enumeration and sampling;
* :mod:`~optlab.relu.formulation`: the convex program, its objective and the CVXPY reference;
* :mod:`~optlab.relu.admm`: the paper's ADMM with a Woodbury u-update (squared loss);
* :mod:`~optlab.relu.scp`: the "sampled convex programs" (random-feature, unconstrained) method;
* :mod:`~optlab.relu.adversarial`: convex adversarial training against l-infinity perturbations;
* :mod:`~optlab.relu.recovery`: the ReLU network from a convex solution, and its objective;
* :mod:`~optlab.relu.estimators`: scikit-learn style ``ConvexReLUClassifier`` / ``ConvexReLURegressor``.
"""

from .admm import AdmmFactor, iteration_flops, relu_admm
from .arrangements import enumerate_patterns, max_patterns, sample_patterns, unique_patterns
from .formulation import (
    LOSSES,
    check_problem,
    constraint_violation,
    convex_objective,
    convex_predict,
    loss_value,
    solve_cvxpy,
)
from .recovery import network_forward, network_objective, recover_network, train_network

__all__ = [
    "AdmmFactor",
    "iteration_flops",
    "relu_admm",
    "enumerate_patterns",
    "max_patterns",
    "sample_patterns",
    "unique_patterns",
    "LOSSES",
    "check_problem",
    "constraint_violation",
    "convex_objective",
    "convex_predict",
    "loss_value",
    "solve_cvxpy",
    "network_forward",
    "network_objective",
    "recover_network",
    "train_network",
]

from .scp import dual_violation, relu_scp, scenario_bound, scp_features  # noqa: E402

__all__ += ["dual_violation", "relu_scp", "scenario_bound", "scp_features"]
from .adversarial import (  # noqa: E402
    attack_accuracy,
    certified_accuracy,
    fgsm,
    pgd,
    robust_objective,
    robust_violation,
    solve_robust_cvxpy,
    train_network_pgd,
)

__all__ += ["attack_accuracy", "certified_accuracy", "fgsm", "pgd", "robust_objective", "robust_violation",
            "solve_robust_cvxpy", "train_network_pgd"]
from .estimators import ConvexReLUClassifier, ConvexReLURegressor  # noqa: E402

__all__ += ["ConvexReLUClassifier", "ConvexReLURegressor"]
