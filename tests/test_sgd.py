"""Tests for optlab.convex.sgd: closed-form reference, reproducibility, averaging, O(1/k)
rate of the switching schedule, oracle counts, failures and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from optlab.convex import sgd
from optlab.result import Status


class Ridge:
    """f(x) = 1/(2n) ||Ax - b||^2 + lam/2 ||x||^2 = (1/n) sum_i f_i(x),
    f_i(x) = (a_i^T x - b_i)^2 / 2 + lam/2 ||x||^2, with its constants and solution."""

    def __init__(self, n=200, d=5, lam=0.1, noise=1.0, seed=0, xp=np):
        gen = np.random.default_rng(seed)
        A = gen.standard_normal((n, d))
        b = A @ gen.standard_normal(d) + noise * gen.standard_normal(n)
        H = A.T @ A / n + lam * np.eye(d)
        self.n, self.d, self.lam = n, d, lam
        self.A_np, self.b_np = A, b
        self.x_star = np.linalg.solve(H, A.T @ b / n)  # closed form
        eig = np.linalg.eigvalsh(H)
        self.mu, self.L = eig[0], eig[-1]
        self.L_max = np.max(np.sum(A**2, axis=1)) + lam
        G = A * (A @ self.x_star - b)[:, None] + lam * self.x_star
        self.sigma2 = np.mean(np.sum(G**2, axis=1))  # E ||grad f_i(x*)||^2
        self.xp = xp
        self.A, self.b = xp.asarray(A), xp.asarray(b)
        self.f_star = self.fun(xp.asarray(self.x_star))

    def fun(self, x):
        r = self.A @ x - self.b
        return float(0.5 * self.xp.mean(r * r) + 0.5 * self.lam * self.xp.sum(x * x))

    def grad_i(self, x, idx):
        xp = self.xp
        Ai, bi = xp.take(self.A, idx, axis=0), xp.take(self.b, idx, axis=0)
        return Ai.T @ (Ai @ x - bi) / idx.shape[0] + self.lam * x

    def full_grad(self, x):
        x = np.asarray(x)
        return self.A_np.T @ (self.A_np @ x - self.b_np) / self.n + self.lam * x


@pytest.fixture(scope="module")
def ridge():
    return Ridge()


def run(p, **kw):
    kw.setdefault("n_samples", p.n)
    return sgd(p.fun, p.grad_i, p.xp.zeros(p.d, dtype=p.xp.float64), **kw)


# --------------------------------------------------------------------------------------
# correctness and reproducibility
# --------------------------------------------------------------------------------------


def test_converges_near_closed_form(ridge):
    p = ridge
    res = run(p, schedule="decreasing", mu=p.mu, L_max=p.L_max, max_iter=20_000, rng=0)
    assert res.status == Status.MAX_ITER and "tol=None" in res.message
    for x in (res.x, res.x_last):
        assert np.linalg.norm(x - p.x_star) <= 0.05 * np.linalg.norm(p.x_star)
        assert np.linalg.norm(p.full_grad(x)) <= 0.05  # optimality residual
        assert p.fun(x) - p.f_star <= 1e-3
    assert res.x is res.x_avg and res.fun == res.fun_avg == p.fun(res.x)
    assert res.fun_last == p.fun(res.x_last)
    # consistent data (sigma* = 0): constant-step SGD converges linearly to x* itself
    q = Ridge(noise=0.0, lam=0.0)
    res = run(q, step=1.0 / q.L_max, max_iter=3000, averaging=None, rng=1)
    assert_allclose(res.x, q.x_star, rtol=1e-9)
    assert res.x is res.x_last and res.x_avg is None and res.fun_avg is None
    assert np.all(np.isnan(res.history["fun_avg"]))


def test_same_seed_same_run(ridge):
    p = ridge
    kw = dict(step=0.5 / p.L_max, max_iter=700, batch_size=3)
    r1, r2 = run(p, rng=42, **kw), run(p, rng=np.random.default_rng(42), **kw)
    assert_array_equal(r1.x, r2.x)
    assert_array_equal(r1.x_last, r2.x_last)
    assert_array_equal(r1.history["fun"], r2.history["fun"])
    # the trajectory does not depend on the checkpoint cadence or on the budget
    r3 = run(p, rng=42, eval_every=7, **kw)
    assert_array_equal(r3.x_last, r1.x_last)
    r4 = run(p, rng=42, **{**kw, "max_iter": 1000, "eval_every": 700})
    assert_array_equal(r4.history["fun"][1], r1.history["fun"][-1])
    # another seed gives another run
    assert not np.array_equal(run(p, rng=43, **kw).x_last, r1.x_last)


def test_averaged_iterate_beats_last_iterate_constant_step(ridge):
    """Constant step: the last iterate stalls at a noise floor ~ gamma sigma*, the uniform
    average does not (Garrigos & Gower 2023, Sec. 5)."""
    p = ridge
    gaps_last, gaps_avg = [], []
    for seed in range(4):
        res = run(p, step=0.5 / p.L_max, max_iter=4000, rng=seed)
        gaps_last.append(res.fun_last - p.f_star)
        gaps_avg.append(res.fun_avg - p.f_star)
    assert np.mean(gaps_avg) < 0.2 * np.mean(gaps_last)
    assert max(gaps_avg) < min(gaps_last)


def test_decreasing_schedule_one_over_k(ridge):
    """Gower et al. (2019) Thm 3.2 (Garrigos & Gower 2023, Sec. 5): for k >= 4 ceil(K),
    E||x_k - x*||^2 <= 8 sigma^2/(mu^2 k) + 16 ceil(K)^2/(e^2 k^2) ||x_0 - x*||^2.
    Checked on the mean over seeds of f(x_k) - f* <= (L/2) E||x_k - x*||^2, and the
    decay is ~1/k: k (f(x_k) - f*) stays bounded and the log-log slope is ~ -1."""
    p = ridge
    seeds = range(6)
    runs = [
        run(
            p,
            schedule="decreasing",
            mu=p.mu,
            L_max=p.L_max,
            max_iter=12_000,
            eval_every=100,
            averaging=None,
            rng=s,
        )
        for s in seeds
    ]
    k = runs[0].history["iter"]
    gap = np.mean([r.history["fun"] - p.f_star for r in runs], axis=0)
    K = math.ceil(p.L_max / p.mu)
    late = k >= 4 * K
    bound = 8 * p.sigma2 / (p.mu**2 * k[late]) + 16 * K**2 / (math.e**2 * k[late] ** 2) * np.sum(
        p.x_star**2
    )
    assert np.all(gap[late] <= 0.5 * p.L * bound)
    kg = k[late] * gap[late]
    assert kg.max() <= 4.0 * np.median(kg)
    window = k >= 1000
    slope = np.polyfit(np.log(k[window]), np.log(gap[window]), 1)[0]
    assert -1.35 <= slope <= -0.7, slope


def test_schedules_and_step_history(ridge):
    p = ridge
    mu, L_max = p.mu, p.L_max
    K4 = 4 * math.ceil(L_max / mu)
    res = run(p, schedule="decreasing", mu=mu, L_max=L_max, max_iter=3 * K4, eval_every=1)
    k = res.history["iter"][1:] - 1  # row k holds gamma_{k-1}
    expected = np.where(k <= K4, 1 / (2 * L_max), (2 * k + 1) / ((k + 1) ** 2 * mu))
    assert_allclose(res.history["step"][1:], expected, rtol=1e-15)
    assert math.isnan(res.history["step"][0])
    # without L_max: gamma_k = min(step, (2k+1)/((k+1)^2 mu))
    res = run(p, schedule="decreasing", mu=mu, step=0.05, max_iter=300, eval_every=1)
    k = np.arange(300)
    expected = np.minimum(0.05, (2 * k + 1) / ((k + 1) ** 2 * mu))
    assert_allclose(res.history["step"][1:], expected, rtol=1e-15)
    # inverse_sqrt with the step-weighted average: the gap of the average decreases
    res = run(p, schedule="inverse_sqrt", step=0.5 / L_max, max_iter=8000, rng=3)
    ks = res.history["iter"][1:] - 1
    assert_allclose(res.history["step"][1:], 0.5 / L_max / np.sqrt(ks + 1), rtol=1e-15)
    gap = res.history["fun_avg"] - p.f_star
    k = res.history["iter"]
    assert gap[-1] < 0.05 * gap[0]
    # at least the O(log k / sqrt(k)) decay of the theorem over the second half of the run
    mid = len(k) // 2
    assert np.sqrt(k[-1]) * gap[-1] / np.log(k[-1]) <= np.sqrt(k[mid]) * gap[mid] / np.log(k[mid])
    assert np.linalg.norm(p.full_grad(res.x)) < 0.5


# --------------------------------------------------------------------------------------
# counts, namespaces, stopping
# --------------------------------------------------------------------------------------


def test_oracle_counts_and_history_rows(ridge):
    p = ridge
    res = run(p, step=0.01, batch_size=4, max_iter=250, eval_every=100, rng=0)
    assert (res.nit, res.njev, res.n_grad_calls) == (250, 1000, 250)
    assert_array_equal(res.history["iter"], [0, 100, 200, 250])
    assert_array_equal(res.history["n_grad"], [0, 400, 800, 1000])
    assert res.nfev == 1 + 2 * 3  # f(x0), then f(x_k) and f(xbar_k) per checkpoint
    res = run(p, step=0.01, batch_size=4, max_iter=250, eval_every=100, rng=0, averaging=None)
    assert res.nfev == 1 + 3
    # default cadence: one epoch = ceil(n / b) iterations
    res = run(p, step=0.01, batch_size=3, max_iter=150, rng=0)
    assert_array_equal(res.history["iter"], [0, 67, 134, 150])
    res = run(p, step=0.01, max_iter=50, rng=0, record=False)
    assert len(res.history["iter"]) == 0 and res.nit == 50


def test_namespaces(xp):
    p_np = Ridge()
    p = Ridge(xp=xp)
    kw = dict(step=0.5 / p.L_max, max_iter=600, batch_size=2, eval_every=200, rng=5)
    ref = run(p_np, **kw)
    res = run(p, **kw)
    assert type(res.x) is type(p.A) and res.x.dtype == xp.float64
    assert type(res.x_last) is type(p.A)
    assert_allclose(np.asarray(res.x_last), ref.x_last, rtol=1e-12)
    assert_allclose(np.asarray(res.x), ref.x, rtol=1e-12)
    assert_allclose(res.history["fun"], ref.history["fun"], rtol=1e-12)


def test_float32_kept():
    p = Ridge()
    A32, b32 = p.A_np.astype(np.float32), p.b_np.astype(np.float32)
    res = sgd(
        lambda x: float(0.5 * np.mean((A32 @ x - b32) ** 2)),
        lambda x, idx: A32[idx].T @ (A32[idx] @ x - b32[idx]) / len(idx),
        np.zeros(p.d, dtype=np.float32),
        n_samples=p.n,
        step=0.02,
        max_iter=200,
        rng=0,
    )
    assert res.x.dtype == np.float32 and res.x_last.dtype == np.float32


def test_tol_and_callback_stop():
    q = Ridge(noise=0.0, lam=0.0)
    res = run(q, step=1.0 / q.L_max, max_iter=100_000, averaging=None, tol=1e-8, rng=0)
    assert res.success and res.status == Status.CONVERGED and res.nit < 100_000
    assert np.linalg.norm(res.x - q.x_star) <= 1e-6
    seen = []
    res = run(
        q,
        step=0.01,
        max_iter=1000,
        eval_every=100,
        rng=0,
        callback=lambda r: seen.append(r.nit) or r.nit >= 300,
    )
    assert res.status == Status.CALLBACK and res.nit == 300 and seen == [0, 100, 200, 300]


def test_divergence_reported(ridge):
    p = ridge
    with np.errstate(over="ignore", invalid="ignore"):
        res = run(p, step=50.0 / p.L_max, max_iter=5000, eval_every=10, rng=0)
        res_inf = run(p, step=1e3, max_iter=5000, eval_every=1000, rng=0)
    assert not res.success
    assert res.status in (Status.DIVERGED, Status.NUMERICAL_ERROR)
    assert "iteration" in res.message and "last finite checkpoint" in res.message
    assert np.all(np.isfinite(res.x)) and math.isfinite(res.fun)
    assert np.all(np.isfinite(res.history["fun"]))
    assert res.nit < 5000 and res.history["iter"][-1] < res.nit
    # overflow to inf/nan within a checkpoint interval is also caught
    res = res_inf
    assert res.status == Status.NUMERICAL_ERROR and "iteration 1000" in res.message
    assert_array_equal(res.x, np.zeros(p.d))  # x_0: the last finite checkpoint


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"batch_size": 201}, ValueError, "batch_size"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"n_samples": 2.0}, TypeError, "n_samples"),
        ({"step": 0.0}, ValueError, "step"),
        ({"step": -0.1}, ValueError, "step"),
        ({"step": None}, ValueError, "step"),
        ({"schedule": "cosine"}, ValueError, "schedule"),
        ({"schedule": "decreasing"}, ValueError, "mu"),
        ({"schedule": "decreasing", "mu": 1.0, "step": None}, ValueError, "step or L_max"),
        ({"mu": 2.0, "L_max": 1.0}, ValueError, "mu"),
        ({"mu": -1.0}, ValueError, "mu"),
        ({"averaging": "polyak"}, ValueError, "averaging"),
        ({"eval_every": 0}, ValueError, "eval_every"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"tol": 0.0}, ValueError, "tol"),
        ({"rng": "seed"}, TypeError, "rng"),
        ({"rng": -1}, ValueError, "rng"),
    ],
)
def test_bad_input(ridge, kwargs, exc, match):
    kw = {"step": 0.01, "max_iter": 10, **kwargs}
    with pytest.raises(exc, match=match):
        run(ridge, **kw)


def test_bad_oracles(ridge):
    p = ridge
    with pytest.raises(TypeError, match="grad_i"):
        sgd(p.fun, None, np.zeros(p.d), n_samples=p.n, step=0.1)
    with pytest.raises(ValueError, match="grad_i"):
        sgd(p.fun, lambda x, idx: np.zeros(p.d + 1), np.zeros(p.d), n_samples=p.n, step=0.1)
    with pytest.raises(ValueError, match="fun"):
        sgd(lambda x: math.inf, p.grad_i, np.zeros(p.d), n_samples=p.n, step=0.1)
    with pytest.raises(ValueError, match="x0"):
        sgd(p.fun, p.grad_i, np.array([np.nan] * p.d), n_samples=p.n, step=0.1)
