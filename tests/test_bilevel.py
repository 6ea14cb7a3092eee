"""Tests for optlab.bilevel (protocol, hypergradients, F2SA, BO-REP, MAID, MBBO) and problems.bilevel.

References: closed forms (quadratic y*(x), grad F, x*), central finite differences of
the exact F, scikit-learn Ridge and LogisticRegression for the lower-level solutions,
scipy's dense solve.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from optlab.bilevel.base import (
    BilevelProblem,
    OracleCounter,
    _example_problem,
    exact_hypergrad_dense,
)
from optlab.bilevel.borep import bo_rep, borep_theory_params
from optlab.bilevel.f2sa import F2SA_EXPONENTS, f2sa, f2sa_schedule
from optlab.bilevel.hypergrad import aid_cg, aid_neumann, exact_hypergrad, itd
from optlab.bilevel.maid import maid
from optlab.bilevel.mbbo import mbbo
from optlab.result import Status
from problems._paths import missing_data_reason, shared_data_dir
from problems.bilevel import (
    hyper_cleaning,
    logistic_bilevel,
    multiblock_bilevel,
    quadratic_bilevel,
    relaxed_smooth_bilevel,
    ridge_bilevel,
)


def fd_hypergrad(p, x, h=1e-6):
    return np.array([(p.F(x + h * e) - p.F(x - h * e)) / (2 * h) for e in np.eye(p.dim_x)])


# --------------------------------------------------------------------------------------
# protocol
# --------------------------------------------------------------------------------------


def test_problem_rejects_bad_shapes_and_oracles():
    p = _example_problem()
    kw = {k: getattr(p, k) for k in ("f", "g", "grad_f_x", "grad_f_y", "grad_g_x", "grad_g_y",
                                     "hvp_g_yy", "jvp_g_xy")}
    with pytest.raises(ValueError, match="x0"):
        BilevelProblem(name="bad", dim_x=3, dim_y=5, x0=np.zeros(2), y0=np.zeros(5), **kw)
    kw["hvp_g_yy"] = None
    with pytest.raises(TypeError, match="hvp_g_yy"):
        BilevelProblem(name="bad", dim_x=3, dim_y=5, x0=np.zeros(3), y0=np.zeros(5), **kw)


def test_oracle_counter_counts_and_shares_with_views():
    p = quadratic_bilevel(2, 3, noise_f=0.1, noise_g=0.1)
    c = OracleCounter(p)
    x, y = p.x0, p.y0
    c.grad_f_x(x, y), c.grad_g_y(x, y), c.hvp_g_yy(x, y, y), c.jvp_g_xy(x, y, y), c.f(x, y)
    v = c.sample(np.random.default_rng(0), (4, 8))
    v.grad_g_y(x, y)
    cnt = c.counts()
    assert cnt["n_grad"] == 3 and cnt["n_hvp"] == 1 and cnt["n_jvp"] == 1 and cnt["n_fval"] == 1
    assert cnt["n_samples"] == 12 and cnt["nhev"] == 2 and cnt["n_oracle"] == 5
    assert c.x0 is p.x0 and c.dim_x == 2  # pass-through
    with pytest.raises(ValueError, match="stochastic"):
        OracleCounter(_example_problem()).sample(np.random.default_rng(0), 2)


def test_exact_hypergrad_dense_matches_closed_form():
    p = quadratic_bilevel(4, 6, seed=3)
    x = np.linspace(-1, 1, 4)
    assert_allclose(exact_hypergrad_dense(p, x), p.hypergrad(x), rtol=1e-10, atol=1e-12)
    p.hess_g_yy = p.jac_g_xy = None  # column-by-column path
    assert_allclose(exact_hypergrad_dense(p, x), p.hypergrad(x), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------------------
# problems
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: quadratic_bilevel(3, 5, seed=1),
        lambda: ridge_bilevel("diabetes"),
        lambda: ridge_bilevel("breast_cancer", per_feature=True),
        lambda: logistic_bilevel("breast_cancer"),
        lambda: relaxed_smooth_bilevel(),
        lambda: multiblock_bilevel(4, 3, 2),
    ],
    ids=["quadratic", "ridge", "ridge_per_feature", "logistic", "relaxed_smooth", "multiblock"],
)
def test_problem_hypergrad_matches_finite_differences(make):
    p = make()
    x = p.x0 + 0.3 * np.random.default_rng(0).standard_normal(p.dim_x)
    ys = p.y_star(x)
    assert np.linalg.norm(p.grad_g_y(x, ys)) <= 1e-9  # lower-level optimality residual
    hg = p.hypergrad(x)
    assert_allclose(hg, fd_hypergrad(p, x), rtol=1e-5, atol=1e-8 * max(1.0, np.abs(hg).max()))
    if p.x_star is not None:
        assert np.linalg.norm(p.hypergrad(p.x_star)) <= 1e-7


def test_oracles_match_finite_differences():
    for p in (quadratic_bilevel(3, 4), ridge_bilevel("diabetes", per_feature=True), logistic_bilevel(),
              relaxed_smooth_bilevel(), multiblock_bilevel(3, 2, 2)):
        rng = np.random.default_rng(1)
        x = p.x0 + 0.1 * rng.standard_normal(p.dim_x)
        y = 0.1 * rng.standard_normal(p.dim_y)
        u, v, h = rng.standard_normal(p.dim_x), rng.standard_normal(p.dim_y), 1e-6
        for val, gx, gy in ((p.f, p.grad_f_x, p.grad_f_y), (p.g, p.grad_g_x, p.grad_g_y)):
            assert_allclose((val(x + h * u, y) - val(x - h * u, y)) / (2 * h), gx(x, y) @ u, rtol=1e-6, atol=1e-8)
            assert_allclose((val(x, y + h * v) - val(x, y - h * v)) / (2 * h), gy(x, y) @ v, rtol=1e-6, atol=1e-8)
        assert_allclose((p.grad_g_y(x, y + h * v) - p.grad_g_y(x, y - h * v)) / (2 * h), p.hvp_g_yy(x, y, v),
                        rtol=1e-5, atol=1e-7)
        assert_allclose((p.grad_g_y(x + h * u, y) - p.grad_g_y(x - h * u, y)) @ v / (2 * h),
                        p.jvp_g_xy(x, y, v) @ u, rtol=1e-5, atol=1e-7)


def test_ridge_lower_level_matches_sklearn_and_xstar_brent():
    from sklearn.linear_model import Ridge

    p = ridge_bilevel("diabetes")
    x = np.array([-1.5])
    Xt, tt = p.data["X_train"], p.data["t_train"]
    ref = Ridge(alpha=len(tt) * math.exp(x[0]), fit_intercept=False, tol=1e-12).fit(Xt, tt).coef_
    assert_allclose(p.y_star(x), ref, rtol=1e-8, atol=1e-10)
    # x* is a minimizer of the exact F: F(x* +- h) >= F(x*)
    for h in (1e-2, -1e-2):
        assert p.F(p.x_star + h) >= p.F_star


def test_logistic_lower_level_matches_sklearn():
    from sklearn.linear_model import LogisticRegression

    p = logistic_bilevel("breast_cancer")
    lam = 0.05
    x = np.full(p.dim_x, math.log(lam))
    At, tt = p.data["X_train"], p.data["t_train"]
    ref = LogisticRegression(C=1.0 / (lam * len(tt)), fit_intercept=False, tol=1e-12, max_iter=10000).fit(At, tt)
    assert_allclose(p.y_star(x), ref.coef_.ravel(), rtol=1e-5, atol=1e-6)


def _fake_digits(n=600, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    protos = rng.integers(0, 256, (10, 28, 28))
    images = np.clip(protos[labels] + rng.integers(-40, 40, (n, 28, 28)), 0, 255).astype(np.uint8)
    return images, labels


def test_hyper_cleaning_oracles_on_synthetic_digits():
    images, labels = _fake_digits()
    p = hyper_cleaning(n_train=200, n_val=100, n_test=100, images=images, labels=labels, corruption=0.3,
                       pooling=7, reg=1e-4)
    assert 0.2 < p.params["corrupted"].mean() < 0.4
    rng = np.random.default_rng(0)
    x = rng.standard_normal(p.dim_x)
    ys = p.y_star(x)
    assert np.linalg.norm(p.grad_g_y(x, ys)) <= 1e-8
    assert p.data["test_accuracy"](ys) > 0.5
    # hypergradient at y*: AID-CG equals the dense formula
    r = aid_cg(p, x, ys, tol=1e-12)
    assert_allclose(r.grad, exact_hypergrad_dense(p, x, ys), rtol=1e-7, atol=1e-12)
    # the stochastic view is unbiased for the x-partials (average over many batches)
    y = 0.01 * rng.standard_normal(p.dim_y)
    est = np.mean([p.sample(rng, (20, 20)).grad_g_x(x, y) for _ in range(3000)], axis=0)
    assert_allclose(est, p.grad_g_x(x, y), atol=0.3 * np.abs(p.grad_g_x(x, y)).max())


@pytest.mark.skipif(shared_data_dir() is None, reason=missing_data_reason())
def test_hyper_cleaning_mnist_loads():
    p = hyper_cleaning(n_train=500, n_val=200, n_test=300)
    assert p.dim_x == 500 and p.dim_y == 50 * 10
    assert p.data["test_accuracy"](p.y_star(p.x0)) > 0.6


# --------------------------------------------------------------------------------------
# hypergradients
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: quadratic_bilevel(4, 8, seed=2), lambda: ridge_bilevel("diabetes", per_feature=True)])
def test_aid_and_itd_equal_closed_form(make):
    p = make()
    x = p.x0 + 0.2
    ys = p.y_star(x)
    ref = exact_hypergrad(p, x)
    r = aid_cg(p, x, ys, tol=1e-13)
    assert r.success and r.n_hvp == r.nit
    assert_allclose(r.grad, ref, rtol=1e-8, atol=1e-12)
    H = p.hess_g_yy(x, ys)
    ev = np.linalg.eigvalsh(H)
    alpha = 1.0 / ev[-1]
    n = int(math.ceil(math.log(1e-13) / math.log(1 - alpha * ev[0])))
    rn = aid_neumann(p, x, ys, n_terms=n, step=alpha)
    assert_allclose(rn.grad, ref, rtol=1e-8, atol=1e-12)
    rt = itd(p, x, ys, n_steps=n, step=alpha)  # from y*, the forward pass stays at y*
    assert rt.n_hvp == n and rt.n_jvp == n
    assert_allclose(rt.grad, ref, rtol=1e-8, atol=1e-12)


def test_itd_is_the_exact_gradient_of_the_unrolled_map():
    p = quadratic_bilevel(3, 4, seed=5)
    alpha, T = 0.7, 6
    y0 = np.ones(p.dim_y)

    def unrolled(x):
        y = y0
        for _ in range(T):
            y = y - alpha * p.grad_g_y(x, y)
        return p.f(x, y)

    x = np.array([0.3, -0.2, 0.5])
    fd = np.array([(unrolled(x + 1e-6 * e) - unrolled(x - 1e-6 * e)) / 2e-6 for e in np.eye(3)])
    assert_allclose(itd(p, x, y0, n_steps=T, step=alpha).grad, fd, rtol=1e-6, atol=1e-9)


def test_neumann_error_bound_holds():
    p = quadratic_bilevel(3, 10, mu_g=0.2, L_g=1.0, seed=0)
    x = np.ones(3)
    ys = p.y_star(x)
    vstar = np.linalg.solve(p.data["A"], p.grad_f_y(x, ys))
    for K in (0, 3, 10, 30):
        v = aid_neumann(p, x, ys, n_terms=K).v
        assert np.linalg.norm(v - vstar) <= (1 - 0.2) ** (K + 1) * np.linalg.norm(vstar) * (1 + 1e-10)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_hypergrad_failures_are_reported():
    p = quadratic_bilevel(3, 10, mu_g=0.01, seed=0)
    x = np.ones(3)
    r = aid_cg(p, x, p.y_star(x), tol=1e-14, max_iter=2)
    assert not r.success and r.status == Status.MAX_ITER and "relative residual" in r.message
    r = aid_neumann(p, x, p.y0, n_terms=2000, step=5.0)
    assert r.status == Status.DIVERGED
    with pytest.raises(ValueError, match="shape"):
        aid_cg(p, np.ones(2), p.y0)
    with pytest.raises(ValueError, match="step"):
        itd(p, x, p.y0, step=-1.0)
    with pytest.raises(ValueError, match="n_terms"):
        aid_neumann(p, x, p.y0, n_terms=-1)


def _xp_problem(xp):
    """The example quadratic with oracles written in the array namespace ``xp``."""
    q = _example_problem(3, 5)
    A = xp.asarray(q.hess_g_yy(None, None))
    C = xp.asarray(-q.jac_g_xy(None, None))
    b = xp.asarray(q.grad_f_y(np.zeros(3), np.zeros(5)) * -1.0)
    return BilevelProblem(
        name="xp", dim_x=3, dim_y=5, x0=xp.zeros(3, dtype=xp.float64), y0=xp.zeros(5, dtype=xp.float64),
        f=lambda x, y: float(0.5 * xp.sum((y - b) ** 2) + 0.05 * xp.sum(x * x)),
        g=lambda x, y: float(0.5 * xp.sum(y * (A @ y)) - xp.sum(x * (C @ y))),
        grad_f_x=lambda x, y: 0.1 * x, grad_f_y=lambda x, y: y - b,
        grad_g_x=lambda x, y: -(C @ y), grad_g_y=lambda x, y: A @ y - C.T @ x,
        hvp_g_yy=lambda x, y, v: A @ v, jvp_g_xy=lambda x, y, v: -(C @ v),
        constants=dict(q.constants)), q


def test_hypergradients_and_f2sa_in_namespace(xp):
    p, q = _xp_problem(xp)
    x = xp.asarray([0.5, -0.5, 1.0])
    ys = xp.asarray(q.y_star(np.asarray([0.5, -0.5, 1.0])))
    ref = q.hypergrad(np.asarray([0.5, -0.5, 1.0]))
    for r in (aid_cg(p, x, ys, tol=1e-12), aid_neumann(p, x, ys, n_terms=200),
              itd(p, x, ys, n_steps=200, step=0.5)):
        assert type(r.grad) is type(x)
        assert_allclose(np.asarray(r.grad), ref, rtol=1e-8, atol=1e-10)
    r = f2sa(p, max_iter=50, inner_steps=2, record=False)
    assert type(r.x) is type(x) and r.nit == 50


# --------------------------------------------------------------------------------------
# F2SA
# --------------------------------------------------------------------------------------


def test_f2sa_paper_schedule():
    k = np.arange(0, 1000)
    for (setting, mom), (a, c) in F2SA_EXPONENTS.items():
        s = f2sa_schedule(k, setting=setting, momentum=mom, gamma0=0.5, lam0=3.0)
        assert_allclose(s["lam"], 3.0 * (k + 1) ** (a - c))
        assert_allclose(s["alpha"] * s["lam"], s["gamma"] / 2)  # y-step on lambda g = gamma/2
        assert_allclose(s["gamma"], 0.5 * (k + 1) ** (-c))
    # noise at both levels: lambda ~ k^(1/7), alpha ~ k^(-5/7)
    s = f2sa_schedule(k, setting="stochastic")
    assert_allclose(np.polyfit(np.log(k[10:] + 1), np.log(s["lam"][10:]), 1)[0], 1 / 7, rtol=1e-10)
    # the public benchmark's schedule grows lambda like k^(6/7) instead
    b = f2sa_schedule(np.arange(1000, 100000, 1000), schedule="benchmark")
    slope = np.polyfit(np.log(np.arange(1000, 100000, 1000)), np.log(b["lam"]), 1)[0]
    assert 0.8 < slope < 0.9
    assert f2sa_schedule(5, schedule="benchmark")["lam"] == pytest.approx(
        1.0 + 0.1 * sum((j + 1) ** (-1 / 7) for j in range(5)))


def test_f2sa_deterministic_converges_to_x_star():
    p = quadratic_bilevel(3, 6, mu_g=0.3, L_g=1.0, seed=0)
    r = f2sa(p, max_iter=4000, inner_steps=3, lam0=20.0, xi=8.0, eval_every=50)
    hg = r.history["hypergrad_norm"]
    hg = hg[~np.isnan(hg)]
    assert hg[-1] < 0.02 * hg[0]
    assert np.linalg.norm(p.hypergrad(r.x)) < 0.1  # stationarity residual (bias O(1/lambda))
    assert np.linalg.norm(r.x - p.x_star) < 0.1 * np.linalg.norm(p.x_star)  # closed-form x*
    assert r.njev == r.n_grad == 4000 * (3 * 3 + 3) and r.nhev == 0


def test_f2sa_benchmark_schedule_diverges_where_paper_schedule_does_not():
    p = quadratic_bilevel(3, 6, mu_g=0.3, L_g=1.0, seed=0)
    kw = dict(max_iter=3000, inner_steps=3, eval_every=100)
    rb = f2sa(p, schedule="benchmark", step0=0.5, lam0=1.0, delta0=0.1, **kw)
    assert rb.status == Status.DIVERGED and "diverged" in rb.message
    rp = f2sa(p, schedule="paper", lam0=1.0, **kw)
    assert rp.status == Status.MAX_ITER and np.isfinite(rp.x).all()


def test_f2sa_stochastic_and_momentum():
    p = quadratic_bilevel(3, 6, mu_g=0.3, L_g=1.0, noise_f=0.2, noise_g=0.2, seed=0)
    g0 = p.hypergrad_norm(p.x0)
    for mom in (False, True):
        r = f2sa(p, max_iter=1500, inner_steps=2, batch=4, lam0=10.0, xi=5.0, momentum=mom, seed=1,
                 eval_every=100)
        assert p.hypergrad_norm(r.x) < 0.25 * g0
        assert r.n_samples > 0


def test_f2sa_bad_input():
    p = _example_problem()
    with pytest.raises(ValueError, match="lam0"):
        f2sa(p, lam0=-1.0)
    with pytest.raises(ValueError, match="sample"):
        f2sa(p, batch=4)
    with pytest.raises(ValueError, match="schedule"):
        f2sa(p, schedule="mine")
    with pytest.raises(ValueError, match="x0"):
        f2sa(p, x0=np.zeros(7))


# --------------------------------------------------------------------------------------
# BO-REP, MAID, MBBO
# --------------------------------------------------------------------------------------


def test_bo_rep_converges_on_relaxed_smooth_problem():
    p = relaxed_smooth_bilevel()
    r = bo_rep(p, max_iter=3000, step=0.005, period=2, inner_steps=3, eval_every=100)
    assert r.history["hypergrad_norm"][0] > 30
    assert p.hypergrad_norm(r.x) < 0.2  # stationarity (normalized steps: oscillates at O(step))
    assert np.linalg.norm(r.x - p.x_star) < 0.05  # closed-form / Newton reference
    # periodic lower updates: fewer lower-level gradients than every-step updates
    r1 = bo_rep(p, max_iter=3000, step=0.005, period=1, inner_steps=3, eval_every=1000)
    assert r.history["n_lower"][-1] < 0.6 * r1.history["n_lower"][-1]
    assert np.linalg.norm(r1.x - r.x) < 0.05


def test_bo_rep_stochastic_and_bad_input():
    p = relaxed_smooth_bilevel(noise=0.5)
    pr = borep_theory_params(2000, eta0=3.0)
    r = bo_rep(p, max_iter=2000, batch=1, seed=0, eval_every=200, **pr)
    assert p.hypergrad_norm(r.x) < 0.1 * p.hypergrad_norm(p.x0)
    with pytest.raises(ValueError, match="beta"):
        bo_rep(p, beta=1.0)
    with pytest.raises(ValueError, match="period"):
        bo_rep(p, period=0)


def test_maid_reaches_stationary_point():
    p = quadratic_bilevel(4, 10, mu_g=0.2, L_g=1.0, seed=0)
    r = maid(p, max_iter=200, tol=1e-3)
    assert r.success
    assert p.hypergrad_norm(r.x) <= 1e-3  # the certified bound ||p|| + omega >= ||grad F||
    assert np.linalg.norm(r.x - p.x_star) <= 1e-3 / p.constants["mu_F"]
    assert r.history["eps"][-1] < r.history["eps"][0]  # accuracies chosen by the method


def test_maid_bad_input_and_failure_reported():
    p = _example_problem()
    with pytest.raises(ValueError, match="tau"):
        maid(p, tau=2.0)
    q = ridge_bilevel("diabetes")
    with pytest.raises(ValueError, match="mu_g"):
        maid(q)
    # fixed, too-loose accuracy: the inexact line search cannot certify descent -> reported
    p2 = quadratic_bilevel(4, 10, mu_g=0.2, L_g=1.0, seed=0)
    r = maid(p2, max_iter=200, tol=1e-6, adaptive=False, eps0=1e-2, delta0=1e-2)
    assert not r.success and r.status == Status.STAGNATION and "backtracking" in r.message


def test_maid_warm_trials_schedule_and_counters():
    p = quadratic_bilevel(4, 10, mu_g=0.2, L_g=1.0, seed=0)
    r_w = maid(p, max_iter=200, tol=1e-3)
    r_c = maid(p, max_iter=200, tol=1e-3, warm_trials=False)
    for r in (r_w, r_c):
        assert r.success and p.hypergrad_norm(r.x) <= 1e-3
        assert r.n_trials >= r.nit and len(r.history["n_trials"]) == r.nit + 1
    # warm-starting each trial at the previous trial's solution saves lower-level work
    assert r_w.n_inner < r_c.n_inner
    # a-priori (HOAG-style) schedule: accuracies follow eps_k exactly
    sched = lambda k: 1e-5 / (k + 1) ** 3  # noqa: E731
    r_s = maid(p, max_iter=200, tol=1e-3, adaptive=False, eps_schedule=sched)
    assert r_s.success and p.hypergrad_norm(r_s.x) <= 1e-3
    np.testing.assert_allclose(r_s.history["eps"][1:], [sched(k) for k in range(r_s.nit)], rtol=0)
    with pytest.raises(ValueError, match="adaptive=False"):
        maid(p, eps_schedule=sched)
    with pytest.raises(ValueError, match="eps_min"):
        maid(p, eps_min=0.0)
    r_b = maid(p, max_iter=200, tol=1e-3, lower_budget=50)  # the authors' ll_budget
    assert not r_b.success and r_b.status == Status.MAX_ITER and "budget" in r_b.message
    assert r_b.n_inner > 50 and r_b.nit < r_w.nit


def test_gram_matvec_blocked_equals_plain(monkeypatch):
    import problems.bilevel as pb

    rng = np.random.default_rng(0)
    A, v, wts = rng.standard_normal((53, 7)), rng.standard_normal(7), rng.random(53)
    monkeypatch.setattr(pb, "_GRAM_BLOCK", 7 * 8)  # 8 rows per block: 7 blocks, the last partial
    np.testing.assert_allclose(pb._gram_matvec(A, v), A.T @ (A @ v), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(pb._gram_matvec(A, v, wts), A.T @ (wts * (A @ v)), rtol=1e-13, atol=1e-13)
    monkeypatch.setattr(pb, "_GRAM_BLOCK", 1 << 19)  # one block
    np.testing.assert_allclose(pb._gram_matvec(A, v, wts), A.T @ (wts * (A @ v)), rtol=1e-13, atol=1e-13)


def test_mbbo_converges_and_bad_input():
    p = multiblock_bilevel(m=8, noise=0.1, seed=0)
    r = mbbo(p, max_iter=1500, n_blocks=4, batch=4, step=0.05, beta=0.5, beta_x=0.5, inner_step=0.2,
             seed=0, eval_every=50)
    assert p.hypergrad_norm(r.x) < 0.1 * p.hypergrad_norm(p.x0)
    assert np.linalg.norm(r.x - p.x_star) < 0.2 * max(1.0, np.linalg.norm(p.x_star))
    assert r.n_samples == 1500 * 4 * 4
    with pytest.raises(ValueError, match="n_blocks"):
        mbbo(p, n_blocks=9)
    with pytest.raises(ValueError, match="multi-block"):
        mbbo(_example_problem())


def test_ridge_large_d_uses_woodbury_and_matches_aid():
    p = ridge_bilevel("synthetic", per_feature=True, n=300, d=2100, seed=1)
    x = np.full(p.dim_x, -1.0)
    w = p.y_star(x)
    assert np.linalg.norm(p.grad_g_y(x, w)) <= 1e-10
    r = aid_cg(p, x, w, tol=1e-12)
    assert_allclose(r.grad, p.hypergrad(x), rtol=1e-8, atol=1e-14)
