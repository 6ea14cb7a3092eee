"""Tests of problems/bcd.py: the paper's data sets with independent solutions (KKT residuals)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from optlab.bcd import bcd
from problems._paths import missing_data_reason, shared_data_dir
from problems.bcd import (
    dataset_a,
    dataset_a_l1,
    dataset_b,
    dataset_c,
    dataset_d,
    dataset_e,
    logistic_mushrooms_bcd,
)


def _grad(p, x):
    obj = p.data["objective"]
    return obj.grad(obj.init_state(x))


@pytest.mark.parametrize("gen", [dataset_d, dataset_e])
def test_label_propagation_solution(gen):
    p = gen()
    g = _grad(p, p.x_star)
    assert np.max(np.abs(g)) <= 1e-8 * np.max(np.abs(p.data["c"]))
    assert p.value(p.x_star) == pytest.approx(p.f_star, rel=1e-12)
    assert 0 < p.mu <= p.L
    # BCD with forest blocks reaches the same point
    r = bcd(p.data["objective"], partition="forest", rule="cyclic", update="exact", f_star=p.f_star,
            tol=1e-10 * abs(p.f_star), max_iter=20000)
    assert r.success, r.message
    assert_allclose(r.x, p.x_star, atol=1e-3 * np.abs(p.x_star).max())


def test_dataset_a_small():
    p = dataset_a(m=100, n=500)
    A = p.data["A"]
    assert A.shape == (100, 500) and 0.2 < A.nnz / 5e4 < 0.7  # p = 10 log(100)/100 = 0.46
    assert p.f_star < 1e-12 * (p.data["b"] @ p.data["b"])  # consistent underdetermined system
    assert np.max(np.abs(_grad(p, p.x_star))) < 1e-6 * np.abs(A.T @ p.data["b"]).max()


def test_dataset_a_l1_kkt():
    p = dataset_a_l1(m=100, n=500, lam=2000.0)
    x, g, lam = p.x_star, _grad(p, p.x_star), p.params["l1"]
    assert np.all(x >= 0)
    sup = x > 0
    assert sup.any() and not sup.all()
    assert np.max(np.abs(g[sup] + lam)) < 1e-6 * lam  # stationarity on the support
    assert np.all(g[~sup] + lam >= -1e-6 * lam)  # dual feasibility off the support


def test_dataset_b_small():
    p = dataset_b(m=60, n=200)
    assert np.linalg.norm(_grad(p, p.x_star)) < 1e-6
    assert set(np.unique(p.data["y"])) <= {-1.0, 1.0}


def test_dataset_c_small():
    p = dataset_c(m=100, d=60, n_classes=5)
    assert p.dim == 300
    assert np.linalg.norm(_grad(p, p.x_star)) < 1e-6
    assert set(np.unique(p.data["y"])) <= set(range(5))


@pytest.mark.skipif(shared_data_dir() is None, reason=missing_data_reason())
def test_mushrooms_bcd():
    p = logistic_mushrooms_bcd()
    assert p.data["A"].shape == (8124, 112)
    g = _grad(p, p.x_star)
    assert np.linalg.norm(g) < 1e-6 * p.data["A"].shape[0]
    r = bcd(p.data["objective"], rule="gs", update="newton", partition="order", block_size=16,
            f_star=p.f_star, tol=1e-8 * abs(p.f_star), max_iter=3000)
    assert r.success, r.message
