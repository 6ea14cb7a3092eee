"""Block coordinate descent (Nutini, Laradji & Schmidt, JMLR 2022): partitions, selection rules,
updates, message passing on forest blocks, and a scikit-learn-shaped Lasso.

One driver, :func:`bcd`, composed from three independent choices (``partition``, ``rule``,
``update``) over a structured objective (:class:`Quadratic`, :class:`LeastSquares`,
:class:`Logistic`) that keeps its gradient up to date incrementally, so that greedy rules
cost ``O(n)`` per iteration on top of the update. :func:`lasso` solves scikit-learn's Lasso
objective with greedy proximal BCD and reports the duality gap.
"""

from ._objectives import LeastSquares, Logistic, Penalty, Quadratic, Softmax
from .driver import PARTITIONS, bcd
from .lasso import lasso, lasso_gap
from .message_passing import ForestSolver, forest_solve
from .partitions import (
    check_blocks,
    fixed_blocks,
    forest_partition,
    grow_forest,
    is_forest,
    red_black,
)
from .rules import RULES
from .updates import UPDATES

__all__ = [
    "bcd",
    "lasso",
    "lasso_gap",
    "Quadratic",
    "LeastSquares",
    "Logistic",
    "Softmax",
    "Penalty",
    "ForestSolver",
    "forest_solve",
    "fixed_blocks",
    "check_blocks",
    "grow_forest",
    "red_black",
    "forest_partition",
    "is_forest",
    "PARTITIONS",
    "RULES",
    "UPDATES",
]
