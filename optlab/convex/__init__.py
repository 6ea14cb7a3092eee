"""Reference first- and second-order solvers for convex problems.

Each solver lives in its own private module and is re-exported here; all return
an :class:`optlab.Result` with a per-iteration ``history``.
"""

from ._accelerated import accelerated_gradient
from ._gradient_descent import gradient_descent
from ._newton import newton
from ._projected import projected_gradient
from ._prox import (
    project_l2_ball,
    prox_box,
    prox_group_l2,
    prox_l1,
    prox_nonnegative,
)
from ._proximal import proximal_gradient
from ._sgd import sgd

__all__ = [
    "gradient_descent",
    "accelerated_gradient",
    "proximal_gradient",
    "projected_gradient",
    "newton",
    "sgd",
    "prox_l1",
    "project_l2_ball",
    "prox_box",
    "prox_nonnegative",
    "prox_group_l2",
]
