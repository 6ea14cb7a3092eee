"""Entropic and sparse optimal transport: log-domain Sinkhorn, Sinkhorn-Newton-Sparse (SNS)
and sparsity-constrained OT.

All solvers take POT's argument order ``(a, b, M, reg)`` (``reg`` multiplies the entropy;
the SNS paper's ``eta`` is ``1 / reg``) and return an :class:`optlab.Result` with ``plan``,
dual ``potentials``, transport ``cost`` and histories of the marginal error
``||P 1 - a||_1 + ||P^T 1 - b||_1`` (measured the same way by every solver) and of the
dual potential.
"""

from .sinkhorn import sinkhorn
from .sns import newton_schur_system, sinkhorn_newton_sparse, sparsify_topk
from .sparse_ot import sparse_ot, topk_simplex_max

__all__ = [
    "sinkhorn",
    "sinkhorn_newton_sparse",
    "sparsify_topk",
    "newton_schur_system",
    "sparse_ot",
    "topk_simplex_max",
]
