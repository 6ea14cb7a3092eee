"""Tests for optlab.convex._prox: each operator against its cvxpy definition
argmin_u g(u) + ||u - v||^2 / (2 step), on NumPy and array_api_strict."""

from __future__ import annotations

from functools import partial

import cvxpy as cp
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from optlab._backend import to_numpy
from optlab.convex import (
    project_l2_ball,
    prox_box,
    prox_group_l2,
    prox_l1,
    prox_nonnegative,
)

SEEDS = [0, 1, 2]


def _prox_by_cvxpy(v, step, penalty=None, constraints=None):
    """argmin_u penalty(u) + ||u - v||^2 / (2 step) with Clarabel (tight tolerances)."""
    u = cp.Variable(v.shape[0])
    obj = cp.sum_squares(u - v) / (2.0 * step)
    if penalty is not None:
        obj = obj + penalty(u)
    prob = cp.Problem(cp.Minimize(obj), constraints(u) if constraints else [])
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    assert prob.status == cp.OPTIMAL
    return u.value


def _run(xp, op, v, *args, **kw):
    out = op(xp.asarray(v), *args, **kw)
    assert type(out) is type(xp.asarray(v))
    return to_numpy(out)


@pytest.mark.parametrize("seed", SEEDS)
def test_prox_l1_matches_cvxpy(xp, seed):
    rng = np.random.default_rng(seed)
    v = 2.0 * rng.standard_normal(12)
    step, lam = 0.7, 0.9
    ref = _prox_by_cvxpy(v, step, penalty=lambda u: lam * cp.norm1(u))
    got = _run(xp, prox_l1, v, step, lam=lam)
    assert_allclose(got, ref, atol=1e-7)
    # closed form, exactly
    assert_allclose(got, np.sign(v) * np.maximum(np.abs(v) - step * lam, 0.0), rtol=0, atol=0)


def test_prox_l1_weighted_matches_cvxpy(xp):
    rng = np.random.default_rng(3)
    v = 2.0 * rng.standard_normal(10)
    lam = rng.uniform(0.0, 2.0, 10)
    lam[0] = 0.0  # unpenalized coordinate
    ref = _prox_by_cvxpy(v, 0.5, penalty=lambda u: cp.sum(cp.multiply(lam, cp.abs(u))))
    got = _run(xp, prox_l1, v, 0.5, lam=xp.asarray(lam))
    assert_allclose(got, ref, atol=1e-7)
    assert got[0] == v[0]


def test_prox_l1_moreau_decomposition():
    # v = prox_{s*lam*||.||_1}(v) + s * proj_{||.||_inf <= lam}(v / s)
    rng = np.random.default_rng(4)
    v = 3.0 * rng.standard_normal(50)
    s, lam = 0.3, 1.7
    assert_allclose(prox_l1(v, s, lam=lam) + s * np.clip(v / s, -lam, lam), v, rtol=1e-14)


@pytest.mark.parametrize("seed", SEEDS)
def test_project_l2_ball_matches_cvxpy(xp, seed):
    rng = np.random.default_rng(seed)
    v = 2.0 * rng.standard_normal(8)
    c = rng.standard_normal(8)
    r = 0.8
    ref = _prox_by_cvxpy(v, 1.3, constraints=lambda u: [cp.norm(u - c, 2) <= r])
    got = _run(xp, project_l2_ball, v, 1.3, radius=r, center=xp.asarray(c))
    assert_allclose(got, ref, atol=1e-7)
    assert np.linalg.norm(got - c) <= r * (1 + 1e-12)


def test_project_l2_ball_inside_is_identity_and_step_is_ignored(xp):
    v = xp.asarray([0.1, -0.2, 0.3])
    assert_array_equal(to_numpy(project_l2_ball(v, radius=1.0)), to_numpy(v))
    a = to_numpy(project_l2_ball(xp.asarray([3.0, 4.0]), 0.1, radius=2.0))
    b = to_numpy(project_l2_ball(xp.asarray([3.0, 4.0]), 10.0, radius=2.0))
    assert_array_equal(a, b)
    assert_allclose(a, [1.2, 1.6], rtol=1e-15)
    assert_array_equal(to_numpy(project_l2_ball(xp.zeros(3))), np.zeros(3))  # no 0/0


@pytest.mark.parametrize("seed", SEEDS)
def test_prox_box_matches_cvxpy(xp, seed):
    rng = np.random.default_rng(seed)
    v = 2.0 * rng.standard_normal(9)
    lo = rng.uniform(-1.0, 0.0, 9)
    hi = lo + rng.uniform(0.0, 1.5, 9)
    ref = _prox_by_cvxpy(v, 0.4, constraints=lambda u: [u >= lo, u <= hi])
    got = _run(xp, prox_box, v, 0.4, lower=xp.asarray(lo), upper=xp.asarray(hi))
    assert_allclose(got, ref, atol=1e-7)
    assert_array_equal(got, np.clip(v, lo, hi))


def test_prox_box_scalar_and_open_bounds(xp):
    v = xp.asarray([-3.0, 0.5, 3.0])
    assert_array_equal(to_numpy(prox_box(v, lower=-1.0, upper=1.0)), [-1.0, 0.5, 1.0])
    assert_array_equal(to_numpy(prox_box(v, lower=None, upper=1.0)), [-3.0, 0.5, 1.0])
    assert_array_equal(to_numpy(prox_box(v, lower=0.0, upper=np.inf)), [0.0, 0.5, 3.0])


@pytest.mark.parametrize("seed", SEEDS)
def test_prox_nonnegative_matches_cvxpy(xp, seed):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(10)
    ref = _prox_by_cvxpy(v, 2.0, constraints=lambda u: [u >= 0])
    got = _run(xp, prox_nonnegative, v, 2.0)
    assert_allclose(got, ref, atol=1e-7)
    assert_array_equal(got, np.maximum(v, 0.0))


@pytest.mark.parametrize("seed", SEEDS)
def test_prox_group_l2_matches_cvxpy(xp, seed):
    rng = np.random.default_rng(seed)
    n = 11
    v = 1.5 * rng.standard_normal(n)
    groups = [np.array([0, 3, 5]), np.array([1, 2]), np.array([4, 6, 7, 8]), np.array([10])]
    lam = np.array([0.5, 2.0, 1.0, 0.3])  # coordinate 9 is in no group: unpenalized
    step = 0.8
    ref = _prox_by_cvxpy(
        v, step, penalty=lambda u: sum(lam[j] * cp.norm(u[g], 2) for j, g in enumerate(groups))
    )
    got = _run(xp, prox_group_l2, v, step, groups=groups, lam=lam)
    assert_allclose(got, ref, atol=1e-6)
    assert got[9] == v[9]
    # the same groups as a label array (negative label = unpenalized)
    labels = np.full(n, -1)
    for j, g in enumerate(groups):
        labels[g] = 10 * j + 7  # any increasing labels
    got_lab = _run(xp, prox_group_l2, v, step, groups=labels, lam=lam)
    assert_allclose(got_lab, got, rtol=0, atol=0)


def test_prox_group_l2_zeroes_small_groups_exactly():
    v = np.array([0.3, 0.4, 3.0, 4.0])
    out = prox_group_l2(v, 1.0, groups=np.array([0, 0, 1, 1]), lam=1.0)
    assert_array_equal(out[:2], [0.0, 0.0])  # ||(0.3, 0.4)|| = 0.5 <= 1
    assert_allclose(out[2:], [2.4, 3.2], rtol=1e-15)  # shrunk by 1 - 1/5
    assert_array_equal(prox_group_l2(np.zeros(4), 1.0, groups=[[0, 1], [2, 3]]), np.zeros(4))


@pytest.mark.parametrize(
    "op",
    [
        partial(prox_l1, step=1.0),
        partial(project_l2_ball, radius=2.0),
        partial(prox_box, lower=-1.0, upper=1.0),
        prox_nonnegative,
        partial(prox_group_l2, step=1.0, groups=[[0, 1], [2, 3]]),
    ],
)
def test_float32_preserved_and_nonexpansive(op):
    rng = np.random.default_rng(5)
    u = rng.standard_normal(4).astype(np.float32)
    w = rng.standard_normal(4).astype(np.float32)
    pu, pw = op(u), op(w)
    assert pu.dtype == np.float32
    # proximal operators are (firmly) nonexpansive
    assert np.linalg.norm(pu - pw) <= np.linalg.norm(u - w) * (1 + 1e-6)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda v: prox_l1(v, 0.0), ValueError, "step"),
        (lambda v: prox_l1(v, -1.0), ValueError, "step"),
        (lambda v: prox_l1(v, "1"), TypeError, "step"),
        (lambda v: prox_l1(v, 1.0, lam=-0.1), ValueError, "lam"),
        (lambda v: prox_l1(v, 1.0, lam=np.array([1.0, -1.0, 1.0])), ValueError, "lam"),
        (lambda v: prox_l1(v, 1.0, lam=float("nan")), ValueError, "lam"),
        (lambda v: project_l2_ball(v, radius=0.0), ValueError, "radius"),
        (lambda v: project_l2_ball(v, -1.0), ValueError, "step"),
        (lambda v: prox_box(v, lower=1.0, upper=0.0), ValueError, "lower <= upper"),
        (
            lambda v: prox_box(v, lower=np.zeros(3), upper=np.array([1.0, -1.0, 1.0])),
            ValueError,
            "lower <= upper",
        ),
        (lambda v: prox_box(v, lower=float("nan"), upper=1.0), ValueError, "lower"),
        (lambda v: prox_nonnegative(v, 0.0), ValueError, "step"),
        (lambda v: prox_group_l2(v, 1.0, groups=[[0, 1], [1, 2]]), ValueError, "disjoint"),
        (lambda v: prox_group_l2(v, 1.0, groups=[[0, 5]]), ValueError, "outside"),
        (lambda v: prox_group_l2(v, 1.0, groups=[[0.0, 1.0]]), TypeError, "integer"),
        (lambda v: prox_group_l2(v, 1.0, groups=np.array([0, 1])), ValueError, "shape"),
        (lambda v: prox_group_l2(v, 1.0, groups=np.array([0.0, 1.0, 1.0])), TypeError, "integer"),
        (lambda v: prox_group_l2(v, 1.0, groups=[[0], [1, 2]], lam=[1.0]), ValueError, "per group"),
        (lambda v: prox_group_l2(v, 1.0, groups=[[0], [1, 2]], lam=[1.0, -1.0]), ValueError, "lam"),
        (lambda v: prox_group_l2(v, 1.0, groups=[[0]], lam=-1.0), ValueError, "lam"),
        (lambda v: prox_group_l2(v, 0.0, groups=[[0]]), ValueError, "step"),
        (lambda v: prox_group_l2(v[None, :], 1.0, groups=[[0]]), ValueError, "1-D"),
    ],
)
def test_bad_inputs(call, exc, match):
    with pytest.raises(exc, match=match):
        call(np.array([1.0, -2.0, 0.5]))
