"""Problem instances with known constants and known solutions.

Every generator returns a :class:`~problems.base.Problem`: the data, the oracles
(``value``, ``grad``, ``hess``/``hvp``, ``prox``/``g`` for a nonsmooth part), the
constants the theory uses (``L``, ``mu``, ``L_max``) and the solution
(``x_star``, ``f_star``) from a closed form or from an independent solver
(cvxpy + Clarabel, scipy) computed once and cached under ``.cache/problems/``
(``$OPTLAB_CACHE`` overrides).

=============================  ==============================================  ======================
generator                      problem                                          solution
=============================  ==============================================  ======================
quadratic                      x^T Q x/2 - b^T x, prescribed spectrum           closed form
least_squares, ridge           ||Ax-b||^2/(2n) (+ lam||x||^2/2)                 closed form
lasso                          ||Ax-b||^2/(2n) + lam||x||_1                     cvxpy + Clarabel
logistic_regression            synthetic L2 logistic regression                 scipy Newton, cached
logistic_breast_cancer         scikit-learn breast cancer (569 x 30)            scipy Newton, cached
logistic_mushrooms             LIBSVM mushrooms (8124 x 112)                    scipy Newton, cached
huber_worst_case               Drori-Teboulle worst case for GD                 x* = 0
nesterov_worst_case            Nesterov's tridiagonal quadratic                 closed form
strongly_convex_worst_quadratic  diag(mu, L) in 2-D                            x* = 0
=============================  ==============================================  ======================
"""

from ._cache import cache_dir, cache_key, cached
from ._least_squares import lasso, least_squares, ridge, soft_threshold
from ._logistic import logistic, logistic_breast_cancer, logistic_mushrooms, logistic_regression
from ._quadratic import quadratic, quadratic_from_matrix, random_orthogonal
from ._worst_case import huber_worst_case, nesterov_worst_case, strongly_convex_worst_quadratic
from .base import Problem

__all__ = [
    "Problem",
    "cache_dir",
    "cache_key",
    "cached",
    "quadratic",
    "quadratic_from_matrix",
    "random_orthogonal",
    "least_squares",
    "ridge",
    "lasso",
    "soft_threshold",
    "logistic",
    "logistic_regression",
    "logistic_breast_cancer",
    "logistic_mushrooms",
    "huber_worst_case",
    "nesterov_worst_case",
    "strongly_convex_worst_quadratic",
]
