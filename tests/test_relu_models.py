"""optlab.relu: sampled convex programs, adversarial training, estimators, problems."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
from numpy.testing import assert_allclose

from optlab._backend import to_numpy
from optlab.relu import (
    ConvexReLUClassifier,
    ConvexReLURegressor,
    attack_accuracy,
    certified_accuracy,
    dual_violation,
    enumerate_patterns,
    fgsm,
    network_objective,
    pgd,
    recover_network,
    relu_scp,
    robust_violation,
    sample_patterns,
    scenario_bound,
    solve_cvxpy,
    solve_robust_cvxpy,
)
from problems.relu import relu_breast_cancer, relu_digits, relu_spiral, relu_synthetic


def test_scp_matches_cvxpy_and_bounds_exact():
    p = relu_synthetic(n=30, d=3, seed=2)
    beta = 0.1
    res = relu_scp(p.X, p.y, 120, beta, seed=0, tol=1e-9, max_iter=60000)
    Phi = np.maximum(p.X @ to_numpy(res.H), 0.0)
    a = cp.Variable(Phi.shape[1])
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(Phi @ a - p.y) + beta * cp.norm1(a)))
    prob.solve(solver="CLARABEL")
    assert res.history["opt"][-1] <= 1e-6
    assert_allclose(res.fun, prob.value, rtol=1e-6)
    # the equivalent network has the same objective, an upper bound on the exact optimum
    assert_allclose(network_objective(p.X, p.y, res.U, res.alpha, beta), res.fun, rtol=1e-10)
    exact = solve_cvxpy(p.X, p.y, enumerate_patterns(p.X), beta, tol=1e-10)
    assert res.fun >= exact.fun * (1 - 1e-7)


def test_scenario_bound_values():
    assert scenario_bound(10, 20, 1e-3) == 1.0
    e = scenario_bound(1000, 20, 1e-6)
    assert 0 < e < 0.1
    from scipy.stats import binom

    assert_allclose(binom.cdf(19, 1000, e), 1e-6, rtol=1e-6)
    p = relu_synthetic(n=20, d=3, seed=1)
    res = relu_scp(p.X, p.y, 400, 0.1, seed=0, tol=1e-8, max_iter=60000)
    lam = p.y - np.maximum(p.X @ to_numpy(res.H), 0) @ to_numpy(res.x)
    assert dual_violation(p.X, lam, 0.1, n_samples=20000) <= scenario_bound(400, 20, 1e-3)


@pytest.fixture(scope="module")
def robust_pair():
    p = relu_breast_cancer(n_train=120, n_features=8, seed=0)
    D = sample_patterns(p.X, 8, seed=0)
    eps = 0.1
    std = solve_cvxpy(p.X, p.y, D, 1e-2, loss="hinge")
    rob = solve_robust_cvxpy(p.X, p.y, D, 1e-2, eps, loss="hinge", bias=True)
    return p, D, eps, std, rob


def test_robust_program_certificate(robust_pair):
    p, D, eps, std, rob = robust_pair
    assert rob.success, rob.message
    assert rob.robust_violation <= 1e-6
    assert robust_violation(p.X, D, rob.V, rob.W, eps, bias=True) <= 1e-6
    U, a = recover_network(rob.V, rob.W)
    cert = certified_accuracy(p.X, p.y, D, rob.V, rob.W, eps, bias=True)
    emp = attack_accuracy(p.X, p.y, U, a, eps, attack="pgd", bias=True, restarts=3)
    # certified accuracy is a lower bound on any attack's accuracy on the training rows
    assert cert <= emp + 1e-12
    # the worst-case hinge loss of the recovered network at PGD points <= the robust objective
    Xa = pgd(p.X, p.y, U, a, eps, bias=True)
    f = np.maximum(Xa @ U.T, 0) @ a
    hinge = np.sum(np.maximum(1 - p.y * f, 0)) + 0.5e-2 * (np.sum(U * U) + a @ a)
    assert hinge <= rob.fun * (1 + 1e-6)
    # epsilon = 0 gives back the standard program
    r0 = solve_robust_cvxpy(p.X, p.y, D, 1e-2, 0.0, loss="hinge", bias=True)
    assert_allclose(r0.fun, std.fun, rtol=1e-6)


def test_robust_model_more_robust(robust_pair):
    p, D, eps, std, rob = robust_pair
    accs = {}
    for name, r in (("std", std), ("rob", rob)):
        U, a = recover_network(r.V, r.W)
        accs[name] = {att: attack_accuracy(p.X_test, p.y_test, U, a, eps, attack=att, bias=True)
                      for att in ("fgsm", "pgd")}
    assert accs["rob"]["pgd"] >= accs["std"]["pgd"]
    assert accs["rob"]["fgsm"] >= accs["std"]["fgsm"]
    Xf = fgsm(p.X_test, p.y_test, *recover_network(std.V, std.W), eps, bias=True)
    assert_allclose(np.abs(Xf - p.X_test).max(), eps)
    assert_allclose(Xf[:, -1], 1.0)


def test_squared_robust_program():
    p = relu_synthetic(n=25, d=3, seed=3)
    D = sample_patterns(p.X, 6, seed=0)
    r = solve_robust_cvxpy(p.X, p.y, D, 0.1, 0.05, loss="squared", bias=True)
    r0 = solve_cvxpy(p.X, p.y, D, 0.1)
    assert r.success and r.fun >= r0.fun


def test_estimators_regressor():
    p = relu_synthetic(n=60, d=3, seed=4, bias=False)
    reg = ConvexReLURegressor(beta=0.1, n_patterns=30, max_iter=3000, rho=0.3).fit(p.X, p.y)
    ref = ConvexReLURegressor(beta=0.1, n_patterns=30, solver="cvxpy").fit(p.X, p.y)
    assert abs(reg.objective_ - ref.objective_) <= 1e-3 * ref.objective_
    assert_allclose(reg.predict(p.X), ref.predict(p.X), atol=5e-2)
    assert reg.score(p.X, p.y) > 0.8
    assert reg.get_params()["beta"] == 0.1
    reg.set_params(beta=0.5)
    assert reg.beta == 0.5
    with pytest.raises(ValueError, match="invalid parameter"):
        reg.set_params(gamma=1)


def test_estimators_classifier_digits():
    p = relu_digits(positive=(3,), negative=(8,), seed=0)
    X, Xt = p.X[:, :-1], p.X_test[:, :-1]
    labels = np.where(p.y > 0, "three", "eight")
    clf = ConvexReLUClassifier(beta=1e-3, n_patterns=20, max_iter=300).fit(X, labels)
    assert set(clf.classes_) == {"eight", "three"}
    acc = clf.score(Xt, np.where(p.y_test > 0, "three", "eight"))
    assert acc >= 0.9
    assert clf.decision_function(Xt).shape == (Xt.shape[0],)
    h = ConvexReLUClassifier(beta=1e-3, n_patterns=5, loss="hinge").fit(X[:80], labels[:80])
    assert h.score(X[:80], labels[:80]) >= 0.95


def test_estimator_bad_input():
    X = np.random.default_rng(0).standard_normal((20, 2))
    with pytest.raises(ValueError, match="exactly 2 classes"):
        ConvexReLUClassifier().fit(X, np.arange(20) % 3)
    with pytest.raises(ValueError, match="n_patterns"):
        ConvexReLUClassifier(n_patterns=0).fit(X, np.arange(20) % 2)
    with pytest.raises(ValueError, match="beta"):
        ConvexReLURegressor(beta=-1.0).fit(X, np.ones(20))
    with pytest.raises(ValueError, match="epsilon"):
        ConvexReLUClassifier(epsilon=-0.1).fit(X, np.arange(20) % 2)
    with pytest.raises(ValueError, match="y must have 20"):
        ConvexReLURegressor().fit(X, np.ones(19))
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ConvexReLURegressor().fit(Xn, np.ones(20))
    with pytest.raises(ValueError, match="admm"):
        ConvexReLUClassifier(solver="admm", loss="hinge").fit(X, np.arange(20) % 2)
    with pytest.raises(AttributeError, match="not fitted"):
        ConvexReLURegressor().predict(X)
    with pytest.raises(ValueError, match="epsilon"):
        solve_robust_cvxpy(np.c_[X, np.ones(20)], np.sign(X[:, 0]), sample_patterns(X, 3), 0.1, -1.0)


def test_problems_shapes():
    s = relu_spiral(n=16)
    assert s.X.shape == (16, 3) and set(np.unique(s.y)) == {-1.0, 1.0}
    b = relu_breast_cancer(n_train=300)
    assert b.X.shape == (300, 31) and b.X_test.shape == (269, 31)
    p = relu_synthetic(n=12, d=2)
    assert enumerate_patterns(p.X).shape[1] == p.params["n_patterns_exact"]


def test_mnist_binary():
    from problems._paths import missing_data_reason, shared_data_dir

    if shared_data_dir() is None:
        pytest.skip(missing_data_reason())
    from problems.relu import relu_mnist

    m = relu_mnist((0, 1), n_train=500)
    assert m.X.shape == (500, 785) and m.X_test.shape[0] > 1000
    assert 0.9 < np.linalg.norm(m.X[:, :-1], axis=1).mean() * 7 / 7 < 10
