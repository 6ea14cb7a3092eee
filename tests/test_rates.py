"""Tests for optlab.rates on synthetic sequences with known answers.

Noise tolerances: with multiplicative lognormal noise ``e_k * exp(sigma z_k)`` the
fit in log space is ordinary least squares with i.i.d. N(0, sigma^2) residuals, so
the slope's standard deviation is exactly ``sigma / sqrt(Sxx)`` (``Sxx`` the
centred sum of squares of the abscissae actually fitted). The tests allow
5 such standard deviations (two-sided probability of a false failure ~6e-7 for
a random seed; the seeds are fixed anyway).
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from optlab.rates import (
    RateFit,
    convergence_order,
    linear_rate,
    max_ratio,
    scaling_exponent,
    sublinear_order,
)

EPS = np.finfo(np.float64).eps


def _slope_sd(x: np.ndarray, sigma: float) -> float:
    """Exact standard deviation of the OLS slope for i.i.d. N(0, sigma^2) noise."""
    x = np.asarray(x, dtype=float)
    return sigma / math.sqrt(float(np.sum((x - x.mean()) ** 2)))


def _lognormal(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    return np.exp(sigma * rng.standard_normal(n))


# ----------------------------------------------------------------------------- linear_rate


@pytest.mark.parametrize("q", [0.3, 0.9, 0.99])
def test_linear_rate_exact_geometric(q):
    k = np.arange(1500)
    e = 2.0 * q**k
    fit = linear_rate(e)
    assert isinstance(fit, RateFit) and fit.kind == "linear"
    assert_allclose(fit.value, q, rtol=1e-10)
    assert_allclose(fit.extra["C"], 2.0, rtol=1e-8)
    assert fit.r2 > 1 - 1e-12
    # window: stop at the first entry <= 1e3 eps max(e), start = stop // 10
    floor = 1e3 * EPS * 2.0
    stop = int(np.argmax(e <= floor)) if np.any(e <= floor) else e.size
    assert fit.window == (stop // 10, stop)
    assert fit.n_points == stop - stop // 10
    assert_allclose(fit.extra["floor"], floor)


@pytest.mark.parametrize(("q", "n"), [(0.3, 40), (0.9, 300), (0.99, 1000)])
def test_linear_rate_noisy_geometric(q, n):
    sigma = 0.1
    rng = np.random.default_rng(0)
    k = np.arange(n)
    e = q**k * _lognormal(rng, n, sigma)
    fit = linear_rate(e)
    start, stop = fit.window
    x = k[start:stop]
    sd = _slope_sd(x, sigma)  # of log q
    assert abs(math.log(fit.value) - math.log(q)) <= 5 * sd
    # the reported standard error estimates the same quantity (sigma from residuals)
    assert 0.5 < fit.extra["slope_stderr"] / sd < 1.5


def test_linear_rate_transient_and_machine_precision_floor():
    q = 0.9
    rng = np.random.default_rng(1)
    k = np.arange(500)
    true = q**k * (1.0 + 50.0 * 0.3**k)  # fast transient, then rate q
    true[:3] = [5.0, 80.0, 20.0]  # a non-monotone start
    # rounding noise of a quantity of size 1: a plateau at ~1e-16 once q^k is below it
    e = np.abs(true + EPS * rng.standard_normal(k.size))
    fit = linear_rate(e)
    assert_allclose(fit.value, q, rtol=1e-7)
    assert fit.window[1] < 300  # stopped well before the plateau (which starts near k=340)
    # without the floor the plateau corrupts the fit; without the skip the transient does
    bad_floor = linear_rate(e, floor=0.0)
    assert abs(bad_floor.value - q) > 1e-3
    bad_skip = linear_rate(e, skip=0)
    assert abs(bad_skip.value - q) > 100 * abs(fit.value - q)


def test_linear_rate_nan_dropped_and_positions_kept():
    k = np.arange(100)
    e = 0.8**k
    e[[20, 21, 50]] = np.nan
    fit = linear_rate(e)
    assert_allclose(fit.value, 0.8, rtol=1e-10)
    assert fit.n_points == (fit.window[1] - fit.window[0]) - 3


def test_linear_rate_irregular_iters():
    rng = np.random.default_rng(2)
    iters = np.sort(rng.choice(np.arange(1, 400), size=60, replace=False))
    e = 3.0 * 0.95**iters
    fit = linear_rate(e, iters)
    assert_allclose(fit.value, 0.95, rtol=1e-10)
    assert_allclose(fit.extra["C"], 3.0, rtol=1e-8)
    # every 7th iteration: the factor is per unit of iters, not per record
    k = np.arange(0, 350, 7)
    assert_allclose(linear_rate(0.9**k, iters=k).value, 0.9, rtol=1e-10)
    assert_allclose(linear_rate(0.9**k).value, 0.9**7, rtol=1e-10)


def test_linear_rate_zero_error_ends_window_and_lists_accepted():
    e = [1.0, 0.5, 0.25, 0.125, 0.0625, 0.0, 0.01]
    fit = linear_rate(e, skip=0)
    assert fit.window == (0, 5)
    assert_allclose(fit.value, 0.5, rtol=1e-12)


def test_linear_rate_float32_uses_float32_eps():
    e = (0.5 ** np.arange(40)).astype(np.float32)
    fit = linear_rate(e)
    assert_allclose(fit.extra["floor"], 1e3 * np.finfo(np.float32).eps, rtol=1e-6)
    assert_allclose(fit.value, 0.5, rtol=1e-6)


def test_linear_rate_accepts_array_api_strict():
    xs = pytest.importorskip("array_api_strict")
    e = xs.asarray(0.6 ** np.arange(40))
    assert_allclose(linear_rate(e).value, 0.6, rtol=1e-10)


def test_constant_sequence_gives_nan_r2():
    fit = linear_rate(np.ones(20))
    assert_allclose(fit.value, 1.0)
    assert math.isnan(fit.r2)


# ----------------------------------------------------------------------------- sublinear_order


@pytest.mark.parametrize("p", [1.0, 2.0, 0.5])
def test_sublinear_order_exact_power_law(p):
    k = np.arange(0, 2000)
    e = 5.0 * np.maximum(k, 1.0) ** -p
    e[0] = 123.0  # x_0's error: k = 0 must be dropped, whatever it is
    fit = sublinear_order(e, k, skip=0)
    assert fit.kind == "sublinear"
    assert fit.window == (0, 2000)
    assert fit.n_points == 1999  # k = 0 dropped
    assert_allclose(fit.value, p, rtol=1e-10)
    assert_allclose(fit.extra["C"], 5.0, rtol=1e-8)
    assert fit.r2 > 1 - 1e-12
    # default window drops the first 10%
    fit = sublinear_order(e, k)
    assert fit.window == (200, 2000)
    assert_allclose(fit.value, p, rtol=1e-10)


@pytest.mark.parametrize("p", [1.0, 2.0, 0.5])
def test_sublinear_order_noisy_power_law(p):
    sigma = 0.1
    rng = np.random.default_rng(3)
    k = np.arange(1, 3001)
    e = 2.0 * k**-p * _lognormal(rng, k.size, sigma)
    fit = sublinear_order(e, k)
    start, stop = fit.window
    sd = _slope_sd(np.log(k[start:stop]), sigma)
    assert abs(fit.value - p) <= 5 * sd


@pytest.mark.parametrize("p", [1.0, 2.0, 0.5])
def test_sublinear_order_additive_floor(p):
    # e_k = k^-p + delta: an inexact reference solution. Cutting at floor = 100 delta
    # keeps delta <= 1% of every fitted error, so every local log-log slope lies in
    # [-p, -0.99 p]; the OLS slope is a positively weighted average of the local
    # slopes, hence |p_hat - p| <= 0.01 p (a rigorous bound, not a noise tolerance).
    n = 100_000
    k = np.arange(1, n + 1, dtype=float)
    delta = (n / 1000) ** -p / 100  # k^-p = 100 delta at k = n / 1000
    e = k**-p + delta
    fit = sublinear_order(e, k, floor=100 * delta)
    assert abs(fit.value - p) <= 0.01 * p
    assert fit.window[1] < n // 500  # stopped near k = n / 1000
    # without telling it about the floor, the plateau biases the exponent badly
    naive = sublinear_order(e, k)
    assert naive.value < 0.9 * p


def test_sublinear_order_iters_validation():
    k = np.arange(1, 50)
    e = 1.0 / k
    with pytest.raises(ValueError, match="strictly increasing"):
        sublinear_order(k.astype(float), e)  # swapped arguments
    with pytest.raises(ValueError, match=">= 0"):
        sublinear_order(e, k - 10.0)
    with pytest.raises(ValueError, match="same length"):
        sublinear_order(e, k[:-1])


# ----------------------------------------------------------------------------- convergence_order


def _recurrence(e0, step, floor=1e-300, n_max=60):
    out = [e0]
    while len(out) < n_max and out[-1] > floor:
        out.append(step(out[-1], len(out) - 1))
    return np.array(out)


def test_convergence_order_quadratic():
    e = _recurrence(0.2, lambda x, k: 2.0 * x * x, floor=1e-30)
    # followed by a rounding plateau, which must be excluded by the default floor
    e = np.concatenate([e[e > 1e-17], [3e-17, 1e-17, 4e-17, 2e-17]])
    fit = convergence_order(e)
    assert fit.kind == "order"
    assert fit.window[0] == 0 and fit.n_points == fit.window[1] - 1
    assert 3 <= fit.window[1] <= 6  # the handful of points a quadratic run gives
    assert_allclose(fit.value, 2.0, rtol=1e-8)
    assert_allclose(fit.extra["C"], 2.0, rtol=1e-6)
    assert fit.extra["superlinear"] is True
    assert_allclose(fit.extra["local_orders"], 2.0, rtol=1e-8)


def test_convergence_order_cubic():
    e = _recurrence(0.5, lambda x, k: x**3, floor=1e-40)
    fit = convergence_order(e)
    assert_allclose(fit.value, 3.0, rtol=1e-8)
    assert fit.extra["superlinear"] is True


@pytest.mark.parametrize("q", [0.3, 0.9])
def test_convergence_order_linear(q):
    e = q ** np.arange(300)
    fit = convergence_order(e)
    assert_allclose(fit.value, 1.0, rtol=1e-8)
    assert fit.extra["superlinear"] is False
    assert_allclose(fit.extra["ratios"], q, rtol=1e-8)


def test_convergence_order_noisy_linear_not_superlinear():
    # 20 seeds of lognormal noise on q^k: the order stays ~1 and no run is flagged
    k = np.arange(200)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        e = 0.8**k * _lognormal(rng, k.size, 0.1)
        fit = convergence_order(e)
        assert abs(fit.value - 1.0) < 0.02
        assert fit.extra["superlinear"] is False


def test_convergence_order_superlinear_factorial():
    e = _recurrence(1.0, lambda x, k: x / (k + 1), floor=1e-30)  # e_k = 1/k!
    fit = convergence_order(e)
    r = fit.extra["ratios"]
    assert fit.extra["superlinear"] is True
    assert np.all(np.diff(r) < 0) and r[-1] < 0.1
    # Q-order fit stays near 1 (slope log(k+1)/log k -> 1): ratios are what flag it
    assert 1.0 < fit.value < 1.2


def test_convergence_order_three_points_minimum():
    fit = convergence_order([1e-2, 1e-4, 1e-8, 1e-16])
    assert fit.window == (0, 3) and fit.n_points == 2
    assert_allclose(fit.value, 2.0, rtol=1e-10)
    assert math.isnan(fit.r2)  # two regression points: r2 does not apply
    with pytest.raises(ValueError, match="3-5 points"):
        convergence_order([1e-2, 1e-4])
    with pytest.raises(ValueError, match="3-5 points"):
        convergence_order([1e-1, 1e-2, 1e-20, 3e-17])  # the floor leaves 2 points


def test_convergence_order_tail_isolates_quadratic_phase():
    # a slow linear ("damped") phase of 400 steps, then quadratic from lin[-1]
    lin = 0.99 ** np.arange(400)
    quad = _recurrence(lin[-1], lambda x, k: 2.0 * x * x, floor=1e-30)
    e = np.concatenate([lin, quad[1:]])
    n_quad = int(np.sum(quad > 1e3 * EPS))  # quadratic-phase points above the floor
    assert n_quad == 4
    full = convergence_order(e)
    tail = convergence_order(e, tail=n_quad)
    assert full.value < 1.5  # mixed phases
    assert_allclose(tail.value, 2.0, rtol=1e-8)
    assert tail.window == (399, 403)
    with pytest.raises(ValueError, match="at most one"):
        convergence_order(e, tail=4, skip=1)
    with pytest.raises(ValueError, match="tail"):
        convergence_order(e, tail=2)


def test_convergence_order_nan_breaks_pairs():
    e = 0.5 ** np.arange(30)
    e[10] = np.nan
    fit = convergence_order(e, skip=0)
    assert fit.n_points == 29 - 2  # the two pairs through position 10 are lost
    assert np.isnan(fit.extra["ratios"][9]) and np.isnan(fit.extra["ratios"][10])
    assert_allclose(fit.value, 1.0, rtol=1e-10)


# ----------------------------------------------------------------------------- scaling_exponent


def test_scaling_exponent_exact_and_noisy():
    sizes = np.logspace(2, 4, 12)
    fit = scaling_exponent(sizes, 3.0 * sizes**1.5)
    assert fit.kind == "scaling" and fit.window == (0, 12)
    assert_allclose(fit.value, 1.5, rtol=1e-10)
    assert_allclose(fit.extra["c"], 3.0, rtol=1e-8)

    sigma = 0.05
    rng = np.random.default_rng(4)
    sizes = np.repeat(np.logspace(2, 4, 8), 3)  # 3 timing repeats per size
    costs = 3.0 * sizes**1.5 * _lognormal(rng, sizes.size, sigma)
    fit = scaling_exponent(sizes.tolist(), costs)
    assert abs(fit.value - 1.5) <= 5 * _slope_sd(np.log(sizes), sigma)
    assert fit.n_points == 24 and fit.r2 > 0.99


def test_scaling_exponent_two_points_and_nan():
    fit = scaling_exponent([10.0, 20.0, np.nan], [1.0, 4.0, 5.0])
    assert_allclose(fit.value, 2.0, rtol=1e-12)
    assert fit.n_points == 2 and math.isnan(fit.r2)


@pytest.mark.parametrize(
    ("sizes", "costs", "match"),
    [
        ([1.0, -2.0, 3.0], [1.0, 2.0, 3.0], "sizes must be positive"),
        ([1.0, 2.0, 3.0], [1.0, -2.0, 3.0], "costs must be positive"),
        ([1.0, 2.0, 3.0], [1.0, 0.0, 3.0], "costs must be positive"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], "same length"),
        ([5.0], [1.0], "at least 2"),
        ([5.0, 5.0, 5.0], [1.0, 2.0, 3.0], "distinct sizes"),
        ([1.0, np.inf], [1.0, 2.0], "inf"),
    ],
)
def test_scaling_exponent_bad_input(sizes, costs, match):
    with pytest.raises(ValueError, match=match):
        scaling_exponent(sizes, costs)


# ----------------------------------------------------------------------------- max_ratio


def test_max_ratio():
    k = np.arange(0, 50)
    with np.errstate(divide="ignore"):
        bound = 10.0 / k  # inf at k = 0: vacuous, dropped
    measured = 5.0 / (k + 1.0)
    measured[7] = np.nan
    fit = max_ratio(measured, bound)
    assert fit.kind == "max_ratio" and math.isnan(fit.r2)
    assert fit.n_points == 48
    ratios = k[1:] / (2.0 * (k[1:] + 1.0))
    assert_allclose(fit.value, ratios.max(), rtol=1e-12)
    assert fit.extra["argmax"] == 49
    assert np.isnan(fit.extra["ratios"][0]) and np.isnan(fit.extra["ratios"][7])
    # a violated bound and a blown-up measurement are reported, not hidden
    assert max_ratio([1.0, 3.0], [2.0, 2.0]).value == 1.5
    assert max_ratio([1.0, np.inf], [2.0, 2.0]).value == np.inf
    assert max_ratio([-1e-17, 0.5], [1.0, 1.0]).value == 0.5


@pytest.mark.parametrize(
    ("measured", "bound", "match"),
    [
        ([1.0, 2.0], [1.0, 0.0], "bound must be positive"),
        ([1.0, 2.0], [1.0, -1.0], "bound must be positive"),
        ([1.0, 2.0], [1.0], "same length"),
        ([1.0, -np.inf], [1.0, 1.0], "-inf"),
        ([np.nan, 1.0], [1.0, np.inf], "no iterate"),
    ],
)
def test_max_ratio_bad_input(measured, bound, match):
    with pytest.raises(ValueError, match=match):
        max_ratio(measured, bound)


# ----------------------------------------------------------------------------- shared validation


@pytest.mark.parametrize(
    "bad", ["abc", None, 3.0, np.float64(2.0), {"a": 1}, ["a", "b"], [1 + 2j, 1.0]]
)
def test_type_errors(bad):
    with pytest.raises(TypeError, match="errors"):
        linear_rate(bad)
    with pytest.raises(TypeError, match="errors"):
        convergence_order(bad)
    with pytest.raises(TypeError, match="sizes"):
        scaling_exponent(bad, [1.0, 2.0])


def test_value_errors_histories():
    e = 0.5 ** np.arange(20)
    with pytest.raises(ValueError, match="1-D"):
        linear_rate(np.ones((3, 3)))
    with pytest.raises(ValueError, match="empty"):
        linear_rate([])
    with pytest.raises(ValueError, match="inf"):
        linear_rate([1.0, np.inf, 0.5])
    with pytest.raises(ValueError, match="same length"):
        linear_rate(e, np.arange(19))
    with pytest.raises(ValueError, match="at least 3 usable points"):
        linear_rate([1.0, 0.5])
    with pytest.raises(ValueError, match="at least 3 usable points"):
        linear_rate([1.0, 0.5, np.nan, np.nan])
    with pytest.raises(ValueError, match="skip=25 leaves no entries"):
        linear_rate(e, skip=25)
    with pytest.raises(ValueError, match="skip"):
        linear_rate(e, skip=-1)
    with pytest.raises(ValueError, match="floor"):
        linear_rate(e, floor=-1.0)
    with pytest.raises(ValueError, match="at or below the floor"):
        linear_rate(e, floor=2.0)
    with pytest.raises(ValueError, match="no positive entries"):
        linear_rate([0.0, -1.0, np.nan])
    with pytest.raises(ValueError, match="iters > 0"):
        sublinear_order([1.0, 0.5, 0.3], [0, 1, 2], skip=0)
    with pytest.raises(ValueError, match="strictly increasing"):
        linear_rate(e, np.zeros(20))


# ----------------------------------------------------------------------------- RateFit


def test_ratefit_record():
    fit = convergence_order(0.5 ** np.arange(30))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.value = 2.0
    with pytest.raises(ValueError):
        fit.extra["ratios"][0] = 1.0  # read-only array
    assert float(fit) == fit.value
    same = RateFit(fit.value, fit.r2, fit.window, fit.n_points, fit.kind)
    assert same == fit  # extra is not compared
    d = fit.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["kind"] == "order" and d["window"] == list(fit.window)
    assert json.loads(json.dumps(convergence_order([1e-2, 1e-4, 1e-8]).to_dict()))["r2"] is None


# ----------------------------------------------------------------------------- properties

_noise = _lognormal(np.random.default_rng(5), 400, 0.05)


@settings(max_examples=40, deadline=None)
@given(
    q=st.floats(0.05, 0.995),
    c=st.floats(1e-8, 1e8),
)
def test_linear_rate_invariant_to_scaling(q, c):
    e = q ** np.arange(400) * _noise
    a, b = linear_rate(e), linear_rate(c * e)
    assert a.window == b.window
    assert_allclose(b.value, a.value, rtol=1e-9)
    assert_allclose(b.extra["C"], c * a.extra["C"], rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(q=st.floats(0.05, 0.995), t0=st.integers(0, 10_000))
def test_linear_rate_invariant_to_iteration_shift(q, t0):
    k = np.arange(400)
    e = q**k * _noise
    assert_allclose(linear_rate(e, k + t0).value, linear_rate(e).value, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.2, 3.0), c=st.floats(1e-8, 1e8))
def test_sublinear_order_invariant_to_scaling(p, c):
    k = np.arange(400)
    e = np.maximum(k, 1.0) ** -p * _noise
    a, b = sublinear_order(e, k), sublinear_order(c * e, k)
    assert a.window == b.window
    assert_allclose(b.value, a.value, rtol=1e-9, atol=1e-12)
    assert_allclose(b.extra["C"], c * a.extra["C"], rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(a=st.floats(-2.0, 4.0), s=st.floats(1e-3, 1e3), c=st.floats(1e-6, 1e6))
def test_scaling_exponent_invariant_to_units(a, s, c):
    sizes = np.logspace(1, 3, 7)
    costs = sizes**a * _noise[:7]
    ref = scaling_exponent(sizes, costs)
    fit = scaling_exponent(s * sizes, c * costs)
    assert_allclose(fit.value, ref.value, rtol=1e-9, atol=1e-9)
    assert_allclose(fit.extra["c"], c * ref.extra["c"] / s**ref.value, rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(q=st.floats(0.01, 0.99))
def test_convergence_order_of_geometric_is_one(q):
    fit = convergence_order(q ** np.arange(200))
    assert_allclose(fit.value, 1.0, rtol=1e-8)
    assert fit.extra["superlinear"] is False
