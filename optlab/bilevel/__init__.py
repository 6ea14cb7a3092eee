"""Bilevel optimization: hypergradients and the seed papers' solvers.

Problem: :math:`\\min_x F(x) = f(x, y^\\star(x))`, :math:`y^\\star(x) \\in \\arg\\min_y g(x, y)`,
given as a :class:`BilevelProblem` (oracles for gradients, Hessian- and Jacobian-vector
products; :class:`OracleCounter` counts them for every solver's Result).

=====================  =========================================================
hypergradients         :func:`aid_cg`, :func:`aid_neumann`, :func:`itd`,
                       :func:`exact_hypergrad`, :func:`hypergradient_descent`
F2SA                   :func:`f2sa` (Kwon et al., ICML 2023; the paper's schedule)
BO-REP                 :func:`bo_rep` (Hao, Gong & Liu, ICLR 2024)
MAID                   :func:`maid` (adaptively inexact hypergradient descent)
MBBO                   :func:`mbbo` (blockwise variance reduction, multi-block)
LV-HBA                 :func:`lvhba` (Yao et al., ICLR 2024; coupled LL constraints)
sl-BAMM                :func:`slbamm` (Liu et al., ICML 2023; no LL strong convexity)
MEHA                   :func:`meha` (Moreau envelope, single loop, Hessian-free)
BDA                    :func:`bda` (bi-level descent aggregation)
=====================  =========================================================
"""

from .base import BilevelProblem, OracleCounter, counted, exact_hypergrad_dense
from .bda import bda
from .borep import bo_rep, borep_theory_params
from .f2sa import F2SA_EXPONENTS, f2sa, f2sa_schedule
from .hypergrad import (
    aid_cg,
    aid_neumann,
    default_inner_step,
    exact_hypergrad,
    hypergradient_descent,
    itd,
)
from .lvhba import lvhba
from .maid import maid
from .mbbo import mbbo
from .meha import meha
from .slbamm import slbamm

__all__ = [
    "BilevelProblem",
    "OracleCounter",
    "counted",
    "exact_hypergrad_dense",
    "aid_cg",
    "aid_neumann",
    "itd",
    "exact_hypergrad",
    "default_inner_step",
    "hypergradient_descent",
    "f2sa",
    "f2sa_schedule",
    "F2SA_EXPONENTS",
    "bo_rep",
    "borep_theory_params",
    "maid",
    "mbbo",
    "lvhba",
    "slbamm",
    "meha",
    "bda",
]
