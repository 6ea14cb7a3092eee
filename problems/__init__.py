"""Problem instances with known constants and known solutions.

Every generator returns a :class:`~problems.base.Problem`: the data, the oracles
(``value``, ``grad``, ``hess``/``hvp``, ``prox``/``g`` for a nonsmooth part), the
constants the theory uses (``L``, ``mu``, ``L_max``) and the solution
(``x_star``, ``f_star``) from a closed form or from an independent solver
(cvxpy + Clarabel, scipy) computed once and cached under ``.cache/problems/``
(``$OPTLAB_CACHE`` overrides). Logistic and softmax problems carry approximate
Hessians (Gauss-Newton, Fisher, Bohning bound) in ``hess_approx``; non-convex
ones record their verified saddles in ``params["saddles"]``.

=============================  ==============================================  ======================
generator                      problem                                          solution
=============================  ==============================================  ======================
quadratic                      x^T Q x/2 - b^T x, prescribed spectrum           closed form
least_squares, ridge           ||Ax-b||^2/(2n) (+ lam||x||^2/2)                 closed form
lasso                          ||Ax-b||^2/(2n) + lam||x||_1                     cvxpy + Clarabel
logistic_regression            synthetic L2 logistic regression                 scipy Newton, cached
logistic_breast_cancer         scikit-learn breast cancer (569 x 30)            scipy Newton, cached
logistic_mushrooms             LIBSVM mushrooms (8124 x 112)                    scipy Newton, cached
logistic_synthetic             ill-conditioned logistic (columns 0.05..3)       Newton-Cholesky, cached
softmax_regression             synthetic softmax (multinomial) regression       Newton-Cholesky, cached
softmax_mnist                  softmax on MNIST test images (pooled / PCA)      Newton-Cholesky, cached
rosenbrock                     chained Rosenbrock (+ its verified saddle)       x* = 1 (a = 1)
strict_saddle                  x^2/2 + y^4/4 - y^2/2 and d-D versions           closed form
nonconvex_logistic_regression  logistic + alpha sum x^2/(1+x^2), saddles        multi-start Newton, cached
huber_worst_case               Drori-Teboulle worst case for GD                 x* = 0
nesterov_worst_case            Nesterov's tridiagonal quadratic                 closed form
strongly_convex_worst_quadratic  diag(mu, L) in 2-D                            x* = 0
=============================  ==============================================  ======================

Problem families with their own data structures live in submodules (imported on demand, so
``import problems`` stays light): :mod:`problems.ot` (random assignment, MNIST pairs, 1-D/2-D
densities), :mod:`problems.bcd` (the BCD paper's data sets A-E, A+L1, mushrooms),
:mod:`problems.lowrank_completion` and :mod:`problems.lowrank_sensing` (low-rank ground truths,
entry sampling, sensing designs, nuclear-norm references), :mod:`problems.relu` (enumerable
synthetic sets, breast_cancer, digits, MNIST binary tasks), :mod:`problems.bilevel` and
:mod:`problems.bilevel_toy` (bilevel problems with closed-form or known solutions).
"""

from ._cache import cache_dir, cache_key, cached
from ._least_squares import lasso, least_squares, ridge, soft_threshold
from ._logistic import (
    logistic,
    logistic_breast_cancer,
    logistic_hess_approx,
    logistic_mushrooms,
    logistic_regression,
    logistic_synthetic,
    newton_cholesky,
)
from ._nonconvex import (
    classify_stationary_point,
    find_stationary_point,
    nonconvex_logistic,
    nonconvex_logistic_regression,
    rosenbrock,
    strict_saddle,
)
from ._quadratic import quadratic, quadratic_from_matrix, random_orthogonal
from ._softmax import mnist_features, softmax, softmax_mnist, softmax_regression
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
    "logistic_synthetic",
    "logistic_hess_approx",
    "newton_cholesky",
    "softmax",
    "softmax_regression",
    "softmax_mnist",
    "mnist_features",
    "rosenbrock",
    "strict_saddle",
    "nonconvex_logistic",
    "nonconvex_logistic_regression",
    "find_stationary_point",
    "classify_stationary_point",
    "huber_worst_case",
    "nesterov_worst_case",
    "strongly_convex_worst_quadratic",
]
