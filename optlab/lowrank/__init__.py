"""Low-rank recovery: matrix completion and matrix sensing.

=========================  ====================================================================
matrix completion          :func:`altmin` (``method="robust"``: AltMin of Gu, Song, Yin & Zhang,
                           ICLR 2024, with approximate preconditioned solves; ``method="exact"``:
                           direct solves); estimator :class:`MatrixCompletion`
measurement operators      :class:`GaussianDesign`, :class:`EntrySampling`
                           (:class:`SensingOperator` interface), :func:`operator_norm_estimate`
matrix sensing             :func:`gd_symmetric` (X X^T), :func:`gd_asymmetric` (F G^T, with the
                           one-step modification of Xiong, Ding & Du), :func:`scaled_gd`
                           (ScaledGD(lambda) of Xu, Shen, Chi & Ma), :func:`subgradient_l1`
                           (Ma & Fattahi), :func:`sensing_loss`, :func:`lowrank_error`
=========================  ====================================================================
"""

from .altmin import altmin
from .estimator import ConvergenceWarning, MatrixCompletion
from .operators import EntrySampling, GaussianDesign, SensingOperator, operator_norm_estimate
from .sensing import (
    gd_asymmetric,
    gd_symmetric,
    lowrank_error,
    scaled_gd,
    sensing_loss,
    subgradient_l1,
)

__all__ = [
    "altmin",
    "MatrixCompletion",
    "ConvergenceWarning",
    "SensingOperator",
    "GaussianDesign",
    "EntrySampling",
    "operator_norm_estimate",
    "gd_symmetric",
    "gd_asymmetric",
    "scaled_gd",
    "subgradient_l1",
    "sensing_loss",
    "lowrank_error",
]
