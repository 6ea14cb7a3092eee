"""Tests of optlab.bcd: driver (partition x rule x update), objectives, message passing, lasso."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.sparse.linalg import spsolve

from optlab.bcd import (
    ForestSolver,
    LeastSquares,
    Logistic,
    Quadratic,
    Softmax,
    bcd,
    check_blocks,
    fixed_blocks,
    forest_partition,
    grow_forest,
    is_forest,
    lasso,
    lasso_gap,
    red_black,
)
from optlab.bcd.message_passing import TreeFactor
from optlab.bcd.partitions import adjacency
from optlab.result import Status


def _spd(n, seed=0, cond=4.0):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((2 * n, n)) * np.linspace(1, np.sqrt(cond), n)
    return M.T @ M / n + 0.1 * np.eye(n), rng.standard_normal(n)


def _lattice(s, w=1.0, shift=0.1):
    idx = np.arange(s * s).reshape(s, s)
    r = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    c = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    W = sp.coo_matrix((np.full(r.size, w), (r, c)), shape=(s * s, s * s))
    W = (W + W.T).tocsr()
    return (sp.diags(np.asarray(W.sum(axis=1)).ravel() + shift) - W).tocsc()


# -- driver on a dense quadratic: every rule, partitions, updates ------------------------------


@pytest.mark.parametrize("rule", ["cyclic", "random", "lipschitz", "gs", "gsl", "gsd", "gsdhb", "gsq"])
@pytest.mark.parametrize("partition", ["variable", "order", "sort", "avg"])
def test_quadratic_rules_converge(rule, partition):
    A, c = _spd(20)
    xs = np.linalg.solve(A, c)
    fs = -0.5 * c @ xs
    for update in ("lb", "hb"):
        r = bcd(Quadratic(A, c), rule=rule, update=update, partition=partition, block_size=4,
                f_star=fs, tol=1e-11, max_iter=20000, seed=1)
        assert r.success, (rule, partition, update, r.message)
        assert_allclose(r.x, xs, rtol=0, atol=1e-4 * np.abs(xs).max())
        assert np.max(np.abs(A @ r.x - c)) < 1e-4  # optimality residual
        h = r.history
        assert len(h["iter"]) == r.nit + 1
        # descent: every step decreases f by at least the update's guaranteed decrease
        dec = -np.diff(h["fun"])
        assert np.all(dec >= h["decrease_bound"][1:] * (1 - 1e-9) - 1e-12 * abs(fs))


@pytest.mark.parametrize("update", ["la", "newton", "diag", "exact", "pg"])
def test_quadratic_other_updates(update):
    A, c = _spd(15, seed=3)
    xs = np.linalg.solve(A, c)
    r = bcd(Quadratic(A, c), rule="gsd", update=update, block_size=3, tol=1e-10, max_iter=20000)
    assert r.success, r.message
    assert_allclose(r.x, xs, atol=1e-6 * np.abs(xs).max())


def test_fixed_user_blocks_and_store_blocks():
    A, c = _spd(12)
    blocks = [np.arange(0, 12, 3), np.arange(1, 12, 3), np.arange(2, 12, 3)]
    r = bcd(Quadratic(A, c), partition="fixed", blocks=blocks, rule="gs", update="hb", max_iter=50,
            store_blocks=True, tol=1e-12)
    assert all(any(np.array_equal(b, bb) for bb in blocks) for b in r.blocks)
    assert set(np.unique(r.history["block"][1:]).astype(int)) <= {0, 1, 2}


def test_gs_beats_random_on_scaled_least_squares():
    rng = np.random.default_rng(0)
    X = sp.random(80, 300, density=0.1, random_state=1, format="csc") @ sp.diags(10 * rng.standard_normal(300))
    y = rng.standard_normal(80)
    obj = LeastSquares(X, y)
    gaps = {}
    for rule in ("random", "gs", "gsd"):
        r = bcd(obj, rule=rule, update="lb", block_size=5, max_iter=150, seed=0, f_star=0.0)
        gaps[rule] = r.fun
    assert gaps["gsd"] < gaps["gs"] < gaps["random"]


def test_least_squares_incremental_gradient_no_drift():
    rng = np.random.default_rng(2)
    X = sp.random(60, 200, density=0.2, random_state=2, format="csr")
    y = rng.standard_normal(60)
    obj = LeastSquares(X, y, scale=0.5)
    r = bcd(obj, rule="gs", update="hb", block_size=7, max_iter=300, tol=1e-300)
    st = obj.init_state(r.x)
    st2 = obj.init_state(np.zeros(200))
    for _ in range(3):
        b = rng.choice(200, 6, replace=False)
        obj.step(st2, b, rng.standard_normal(6))
    fresh = obj.init_state(st2.x)
    assert_allclose(st2.g, fresh.g, rtol=1e-10, atol=1e-12)
    assert_allclose(st2.r, fresh.r, rtol=1e-10, atol=1e-12)
    # optimality vs lstsq (consistent underdetermined system: min value 0)
    assert r.fun < 1e-8 * (0.25 * y @ y)
    assert np.max(np.abs(0.5 * X.T @ (X @ st.x - y))) < 1e-4


def test_logistic_newton_matches_scipy():
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 20))
    y = np.where(X @ rng.standard_normal(20) + 0.5 * rng.standard_normal(100) > 0, 1.0, -1.0)
    obj = Logistic(X, y, lam=0.5)

    def fg(w):
        z = y * (X @ w)
        return (np.logaddexp(0, -z).sum() + 0.25 * w @ w,
                X.T @ (-y / (1 + np.exp(z))) + 0.5 * w)

    ref = minimize(fg, np.zeros(20), jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 0})
    for rule, update in (("gs", "newton"), ("gsl", "lb"), ("random", "la")):
        r = bcd(obj, rule=rule, update=update, partition="order", block_size=5, max_iter=5000,
                tol=1e-8, seed=0)
        assert r.success, (rule, update, r.message)
        assert_allclose(r.x, ref.x, atol=1e-6)
        assert np.linalg.norm(fg(r.x)[1]) < 1e-6


def test_softmax_oracles_and_solution():
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    m, d, K = 80, 10, 4
    X, y = rng.standard_normal((m, d)), rng.integers(0, K, m)
    obj = Softmax(X, y, K, lam=0.5)
    x0 = 0.3 * rng.standard_normal(d * K)
    st = obj.init_state(x0)
    b = np.array([0, 5, 7, 13, 39])
    e = 1e-6
    Hfd = np.array([(obj.grad(obj.init_state(x0 + e * np.eye(d * K)[i]))
                     - obj.grad(obj.init_state(x0 - e * np.eye(d * K)[i])))[b] / (2 * e) for i in b])
    assert_allclose(obj.hess_block(st, b), Hfd, atol=1e-7)
    assert_allclose(obj.grad_block(st, b), obj.grad(obj.init_state(x0))[b], rtol=1e-12)
    dd = 0.1 * rng.standard_normal(5)
    dl = obj.delta(st, b, dd)
    obj.step(st, b, dd)
    assert obj.value(st) - obj.value(obj.init_state(x0)) == pytest.approx(dl, abs=1e-12)

    def fg(x):
        s = obj.init_state(x)
        return obj.value(s), np.array(obj.grad(s))

    ref = minimize(fg, np.zeros(d * K), jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 0})
    r = bcd(obj, rule="gs", update="newton", block_size=5, tol=1e-8, max_iter=20000)
    assert r.success, r.message
    assert_allclose(r.x, ref.x, atol=1e-6)
    assert np.max(np.abs(fg(r.x)[1])) <= 1e-8


# -- nonsmooth: L1, bounds ---------------------------------------------------------------------


@pytest.mark.parametrize("update", ["pg", "pn", "tmp", "la"])
@pytest.mark.parametrize("rule", ["gsq-nn", "gsq", "gs", "random"])
def test_nonneg_l1_against_sklearn(update, rule):
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 40)) * rng.uniform(0.5, 3, 40)
    y = X @ np.maximum(rng.standard_normal(40), 0) + 0.1 * rng.standard_normal(50)
    lam = 5.0
    sk = Lasso(alpha=lam / 50, positive=True, fit_intercept=False, tol=1e-14, max_iter=100000).fit(X, y)
    fs = 0.5 * np.sum((X @ sk.coef_ - y) ** 2) + lam * sk.coef_.sum()
    r = bcd(LeastSquares(X, y), rule=rule, update=update, block_size=8, l1=lam, lower=0.0,
            f_star=fs, tol=1e-9 * abs(fs), max_iter=20000, seed=0, x_star=sk.coef_)
    assert r.success, r.message
    assert np.all(r.x >= 0)
    assert_allclose(r.x, sk.coef_, atol=1e-4)
    assert r.history["support_ok"][-1] == 1.0


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_lasso_matches_sklearn(positive, sparse):
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(1)
    X = sp.random(120, 300, density=0.1, random_state=3, format="csc") if sparse else rng.standard_normal((120, 300))
    y = rng.standard_normal(120)
    alpha = 0.02 if sparse else 0.1
    sk = Lasso(alpha=alpha, positive=positive, fit_intercept=False, tol=1e-13, max_iter=100000).fit(X, y)
    r = lasso(X, y, alpha, positive=positive, tol=1e-12, block_size=20)
    assert r.success, r.message
    assert_allclose(r.x, sk.coef_, atol=1e-6)
    assert r.dual_gap <= 1e-12 * (y @ y) / y.size * 1.01
    assert np.isfinite(r.history["dual_gap"]).all()
    assert lasso_gap(X, y, sk.coef_, alpha, positive=positive) == pytest.approx(sk.dual_gap_, rel=1e-3, abs=1e-12)


def test_lasso_gap_equals_sklearn_dual_gap():
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((40, 30)), rng.standard_normal(40)
    sk = Lasso(alpha=0.05, fit_intercept=False, tol=1e-3, max_iter=3).fit(X, y)
    assert lasso_gap(X, y, sk.coef_, 0.05) == pytest.approx(sk.dual_gap_, rel=1e-8)


# -- message passing and forest partitions ----------------------------------------------------


def test_forest_solver_matches_spsolve():
    rng = np.random.default_rng(0)
    for n in (1, 2, 50, 400):
        # random forest: each node i > 0 linked to a random earlier node with prob 0.9
        par = np.array([rng.integers(i) if i and rng.random() < 0.9 else -1 for i in range(n)])
        ch = np.flatnonzero(par >= 0)
        w = -rng.uniform(0.1, 2, ch.size)
        W = sp.coo_matrix((w, (ch, par[ch])), shape=(n, n))
        W = W + W.T
        A = (sp.diags(np.asarray(abs(W).sum(axis=1)).ravel() + rng.uniform(0.01, 1, n)) + W).tocsc()
        rhs = rng.standard_normal(n)
        fs = ForestSolver(A)
        x = fs.solve(rhs)
        ref = spsolve(A, rhs) if n > 1 else rhs / A.toarray()[0, 0]
        assert_allclose(x, ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())
        assert fs.ops <= 8 * n


def _random_forest_matrix(n, seed):
    rng = np.random.default_rng(seed)
    par = np.array([rng.integers(i) if i and rng.random() < 0.9 else -1 for i in range(n)])
    ch = np.flatnonzero(par >= 0)
    W = sp.coo_matrix((-rng.uniform(0.1, 2, ch.size), (ch, par[ch])), shape=(n, n))
    W = W + W.T
    return (sp.diags(np.asarray(abs(W).sum(axis=1)).ravel() + rng.uniform(0.01, 1, n)) + W).tocsc(), rng


@pytest.mark.parametrize("n", [1, 3, 300])
def test_tree_factor_matches_spsolve_and_forest_solver(n):
    A, rng = _random_forest_matrix(n, n)
    C = sp.coo_matrix(A)
    off = C.row != C.col
    tf = TreeFactor(A.diagonal(), C.row[off].astype(np.int64), C.col[off].astype(np.int64), C.data[off])
    rhs = rng.standard_normal(n)
    ref = spsolve(A, rhs) if n > 1 else rhs / A.toarray()[0, 0]
    assert_allclose(tf.solve(rhs), ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())
    assert_allclose(tf.solve(rhs), ForestSolver(A).solve(rhs), rtol=1e-10, atol=1e-12 * np.abs(ref).max())
    assert tf.ops <= 8 * n


def test_tree_factor_rejects_cycle():
    C = sp.coo_matrix(_lattice(3))
    off = C.row != C.col
    with pytest.raises(ValueError, match="not a forest"):
        TreeFactor(np.full(9, 5.0), C.row[off], C.col[off], C.data[off])


def test_forest_structures_cached_on_objective_and_reused():
    A = _lattice(10, w=5.0)
    c = np.random.default_rng(1).standard_normal(100)
    fs = -0.5 * c @ spsolve(A, c)
    obj = Quadratic(A, c)
    r1 = bcd(obj, partition="forest", rule="cyclic", update="exact", f_star=fs, tol=1e-10, max_iter=5000)
    cache = obj._forest_cache
    assert "forest" in cache and ("factor", "forest", 0) in cache
    fac = cache[("factor", "forest", 0)]
    r2 = bcd(obj, partition="forest", rule="cyclic", update="exact", f_star=fs, tol=1e-10, max_iter=5000)
    assert obj._forest_cache[("factor", "forest", 0)] is fac
    assert r1.nit == r2.nit and r1.success
    assert_allclose(r2.x, spsolve(A, c), rtol=1e-4, atol=1e-4)  # f - f* <= 1e-10: |x - x*| ~ 1e-5


def test_least_squares_gram_cache_policies_agree():
    """Greedy BCD on sparse least squares: the gradient kept by cached Gram columns (LRU) or, when
    the cache is full, by one X^T (X_b d) pass, gives the same iterates as an unlimited cache."""
    rng = np.random.default_rng(0)
    X = sp.random(60, 200, density=0.1, random_state=1, format="csc")
    y = rng.standard_normal(60)
    runs = []
    for cap in (4, 12, 10**6):
        obj = LeastSquares(X, y, gram_cache=cap)
        runs.append(bcd(obj, rule="gs", update="lb", block_size=5, max_iter=300, tol=1e-300,
                        f_star=-np.inf, store_blocks=True, record=True))
        assert len(obj._gram) <= cap
        st = obj.init_state(runs[-1].x)
        assert_allclose(obj.grad(st), LeastSquares(X, y).grad(LeastSquares(X, y).init_state(runs[-1].x)))
    for r in runs[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(r.blocks, runs[0].blocks, strict=True))
        assert_allclose(r.history["fun"], runs[0].history["fun"], rtol=1e-9)


def test_forest_solver_rejects_cycle_and_bad_matrix():
    A = _lattice(3)
    with pytest.raises(ValueError, match="not a forest"):
        ForestSolver(A)
    with pytest.raises(ValueError, match="positive diagonal"):
        ForestSolver(sp.diags([-1.0, 1.0]))


def test_lattice_partitions_are_forests_and_cover():
    A = _lattice(12)
    G = adjacency(A)
    blocks = forest_partition(G)
    assert len(blocks) == 2
    check_blocks(blocks, 144)
    assert all(is_forest(G, b) for b in blocks)
    rb = red_black(G)
    assert len(rb) == 2
    for b in rb:
        assert G[b][:, b].nnz == 0
    b = grow_forest(G, np.random.default_rng(0).permutation(144))
    assert is_forest(G, b) and b.size > 72


@pytest.mark.parametrize("partition,rule", [("tree", "gs"), ("tree", "random"), ("forest", "cyclic"),
                                            ("redblack", "gs"), ("forest", "gsd")])
def test_forest_blocks_solve_lattice(partition, rule):
    A = _lattice(10, w=5.0)
    c = np.random.default_rng(0).standard_normal(100)
    xs = spsolve(A, c)
    fs = -0.5 * c @ xs
    r = bcd(Quadratic(A, c), partition=partition, rule=rule, update="exact", f_star=fs,
            tol=1e-10 * abs(fs), max_iter=3000, seed=0)
    assert r.success, r.message
    assert_allclose(r.x, xs, atol=1e-4 * np.abs(xs).max())
    assert np.max(np.abs(A @ r.x - c)) < 1e-4 * np.abs(c).max()


# -- validation ----------------------------------------------------------------------------------


def test_bad_input():
    A, c = _spd(6)
    with pytest.raises(ValueError, match="square"):
        Quadratic(np.ones((3, 4)), np.ones(3))
    with pytest.raises(ValueError, match="symmetric"):
        Quadratic(np.triu(A), c)
    with pytest.raises(ValueError, match="NaN"):
        Quadratic(A, np.r_[np.nan, c[1:]])
    with pytest.raises(ValueError, match="block_size"):
        bcd(Quadratic(A, c), block_size=0)
    with pytest.raises(ValueError, match="overlap"):
        bcd(Quadratic(A, c), partition="fixed", blocks=[[0, 1, 2], [2, 3, 4, 5]])
    with pytest.raises(ValueError, match="cover"):
        bcd(Quadratic(A, c), partition="fixed", blocks=[[0, 1, 2], [3, 4]])
    with pytest.raises(ValueError, match="rule"):
        bcd(Quadratic(A, c), rule="best")
    with pytest.raises(ValueError, match="x0"):
        bcd(Quadratic(A, c), x0=np.full(6, np.nan))
    with pytest.raises(ValueError, match="sparse Quadratic"):
        bcd(Quadratic(A, c), partition="tree")
    with pytest.raises(TypeError, match="objective"):
        bcd(A)
    with pytest.raises(ValueError, match="labels"):
        Logistic(np.ones((3, 2)), np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="tol"):
        lasso(np.ones((3, 2)), np.ones(3), 0.1, tol=0.0)


def test_max_iter_and_callback():
    A, c = _spd(10)
    r = bcd(Quadratic(A, c), rule="random", max_iter=3, seed=0)
    assert r.status == Status.MAX_ITER and r.nit == 3 and not r.success
    r = bcd(Quadratic(A, c), rule="gs", max_iter=100, callback=lambda res: res.nit >= 2)
    assert r.status == Status.CALLBACK and r.nit == 2


def test_permutation_metamorphic():
    """Permuting the coordinates permutes the GS iterates (variable blocks, deterministic rule)."""
    A, c = _spd(16, seed=4)
    p = np.random.default_rng(0).permutation(16)
    r1 = bcd(Quadratic(A, c), rule="gsd", update="hb", block_size=4, max_iter=25, tol=1e-300)
    r2 = bcd(Quadratic(A[np.ix_(p, p)], c[p]), rule="gsd", update="hb", block_size=4, max_iter=25, tol=1e-300)
    assert_allclose(r2.x, r1.x[p], rtol=1e-9, atol=1e-12)
    assert_allclose(r2.history["fun"], r1.history["fun"], rtol=1e-10)


def test_fixed_blocks_kinds():
    L = np.array([3.0, 1, 2, 6, 5, 4])
    assert [b.tolist() for b in fixed_blocks(6, 2)] == [[0, 1], [2, 3], [4, 5]]
    assert [b.tolist() for b in fixed_blocks(6, 2, L=L, kind="avg")] == [[3, 1], [4, 2], [5, 0]]
    with pytest.raises(ValueError, match="block_size"):
        fixed_blocks(6, 0)
