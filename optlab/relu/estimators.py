"""scikit-learn style estimators for convex two-layer ReLU training.

``ConvexReLURegressor`` and ``ConvexReLUClassifier`` (binary) sample ``n_patterns``
activation patterns, solve the convex program (:func:`~optlab.relu.relu_admm` for the squared
loss, CVXPY/Clarabel for the hinge and logistic losses and for adversarial training with
``epsilon > 0``) and keep the equivalent ReLU network (``coefs_ = (U, alpha)``), which
predicts on new rows. They follow scikit-learn's conventions (``fit`` returns ``self``,
fitted attributes end in ``_``, ``get_params``/``set_params``) without depending on it.

Examples
--------
>>> import numpy as np
>>> from optlab.relu import ConvexReLUClassifier
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((80, 2)); y = np.where(X[:, 0] * X[:, 1] > 0, "a", "b")
>>> clf = ConvexReLUClassifier(beta=1e-3, n_patterns=40, max_iter=500).fit(X, y)
>>> clf.score(X, y) > 0.9
True
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from optlab._backend import get_namespace, to_numpy
from optlab._validate import check_array, check_choice, check_int, check_nonnegative, check_positive

from .admm import relu_admm
from .arrangements import sample_patterns
from .formulation import solve_cvxpy
from .recovery import network_forward, recover_network

__all__ = ["ConvexReLURegressor", "ConvexReLUClassifier"]


class _Base:
    _loss_choices: tuple = ("squared",)

    def __init__(self, beta: float = 1e-3, n_patterns: int = 50, *, loss: str = "squared", solver: str = "auto",
                 epsilon: float = 0.0, fit_intercept: bool = True, rho: float = 1.0, tol: float = 1e-6,
                 max_iter: int = 1000, random_state: int | None = 0) -> None:
        self.beta = beta
        self.n_patterns = n_patterns
        self.loss = loss
        self.solver = solver
        self.epsilon = epsilon
        self.fit_intercept = fit_intercept
        self.rho = rho
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    # -- scikit-learn protocol ------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params: Any):
        valid = self._param_names()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"invalid parameter {k!r} for {type(self).__name__}; valid: {valid}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- fitting ----------------------------------------------------------------------
    def _design(self, X):
        X = check_array(X, "X", ndim=2)
        if self.fit_intercept:
            xp = get_namespace(X)
            X = xp.concat([X, xp.ones((X.shape[0], 1), dtype=X.dtype, device=getattr(X, "device", None))], axis=1)
        return X

    def _check_params(self):
        check_nonnegative(self.beta, "beta")
        check_int(self.n_patterns, "n_patterns", minimum=1)
        check_choice(self.loss, "loss", self._loss_choices)
        check_choice(self.solver, "solver", ("auto", "admm", "cvxpy"))
        check_nonnegative(self.epsilon, "epsilon")
        check_positive(self.rho, "rho")
        check_positive(self.tol, "tol")
        check_int(self.max_iter, "max_iter", minimum=1)

    def _fit_targets(self, X, t):
        self._check_params()
        Xd = self._design(X)
        n = Xd.shape[0]
        if t.shape[0] != n:
            raise ValueError(f"y must have {n} entries to match X, got {t.shape[0]}")
        D = sample_patterns(Xd, self.n_patterns, seed=self.random_state)
        solver = self.solver
        if solver == "auto":
            solver = "admm" if (self.loss == "squared" and self.epsilon == 0) else "cvxpy"
        if solver == "admm" and (self.loss != "squared" or self.epsilon > 0):
            raise ValueError("solver='admm' handles loss='squared' with epsilon=0 only; use solver='cvxpy'")
        xp = get_namespace(Xd)
        tt = xp.asarray(t, dtype=Xd.dtype, device=getattr(Xd, "device", None))
        if solver == "admm":
            res = relu_admm(Xd, tt, xp.asarray(D, dtype=Xd.dtype, device=getattr(Xd, "device", None)), self.beta,
                            rho=self.rho, tol=self.tol, max_iter=self.max_iter)
        elif self.epsilon > 0:
            from .adversarial import solve_robust_cvxpy

            res = solve_robust_cvxpy(Xd, tt, D, self.beta, self.epsilon, loss=self.loss, bias=self.fit_intercept)
        else:
            res = solve_cvxpy(Xd, tt, D, self.beta, loss=self.loss)
        if res.get("V") is None:
            raise RuntimeError(f"{type(self).__name__}: the solver failed: {res.message}")
        self.result_ = res
        self.patterns_ = D
        self.coefs_ = recover_network(res.V, res.W)
        self.n_neurons_ = int(self.coefs_[0].shape[0])
        self.n_features_in_ = int(X.shape[1])
        self.objective_ = float(res.fun)
        return self

    def _raw(self, X):
        if not hasattr(self, "coefs_"):
            raise AttributeError(f"this {type(self).__name__} is not fitted yet; call fit first")
        Xd = self._design(X)
        if Xd.shape[1] - int(self.fit_intercept) != self.n_features_in_:
            raise ValueError(f"X has {Xd.shape[1] - int(self.fit_intercept)} features, expected {self.n_features_in_}")
        U, a = self.coefs_
        xp = get_namespace(Xd)
        if get_namespace(U) is not xp:
            U = xp.asarray(to_numpy(U), dtype=Xd.dtype)
            a = xp.asarray(to_numpy(a), dtype=Xd.dtype)
        return network_forward(Xd, U, a)


class ConvexReLURegressor(_Base):
    r"""Two-layer ReLU regression trained globally through its convex program (squared loss).

    Parameters
    ----------
    beta : float
        Weight decay :math:`\beta \ge 0` of :math:`\frac\beta2\sum_j(\|u_j\|^2+\alpha_j^2)`.
    n_patterns : int
        Gaussian directions sampled for the activation patterns (``>= 1``).
    loss : {"squared"}
    solver : {"auto", "admm", "cvxpy"}
    epsilon : float
        :math:`\ell_\infty` radius of convex adversarial training (CVXPY); 0 for none.
    fit_intercept : bool
        Append a constant feature (the neurons' biases; never perturbed).
    rho, tol, max_iter
        ADMM penalty, tolerance and iteration cap.
    random_state : int or None
        Seed of the pattern sampling.
    """

    def fit(self, X, y):
        y = check_array(y, "y", ndim=1)
        return self._fit_targets(X, to_numpy(y))

    def predict(self, X):
        return self._raw(X)

    def score(self, X, y) -> float:
        """Coefficient of determination :math:`R^2`."""
        p, yt = to_numpy(self.predict(X)), to_numpy(check_array(y, "y", ndim=1))
        return float(1.0 - np.sum((yt - p) ** 2) / np.sum((yt - yt.mean()) ** 2))


class ConvexReLUClassifier(_Base):
    r"""Binary two-layer ReLU classifier trained globally through its convex program.

    Labels may be any two values (``classes_`` sorted; the second maps to +1). The squared
    loss on :math:`\pm1` targets uses ADMM (the papers' setting); ``"hinge"`` and
    ``"logistic"`` use CVXPY, as does ``epsilon > 0`` (convex adversarial training).
    Parameters as :class:`ConvexReLURegressor`.
    """

    _loss_choices = ("squared", "hinge", "logistic")

    def fit(self, X, y):
        yn = to_numpy(y) if not isinstance(y, list | tuple) else np.asarray(y)
        if yn.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {yn.shape}")
        if yn.dtype.kind == "f" and not np.all(np.isfinite(yn)):
            raise ValueError("y contains NaN or inf")
        classes = np.unique(yn)
        if classes.size != 2:
            raise ValueError(f"y must hold exactly 2 classes for ConvexReLUClassifier, got {classes.size}: "
                             f"{classes[:10]}")
        self.classes_ = classes
        t = np.where(yn == classes[1], 1.0, -1.0)
        return self._fit_targets(X, t)

    def decision_function(self, X):
        return self._raw(X)

    def predict(self, X):
        s = to_numpy(self.decision_function(X))
        return np.where(s > 0, self.classes_[1], self.classes_[0])

    def score(self, X, y) -> float:
        """Mean accuracy."""
        return float(np.mean(self.predict(X) == np.asarray(to_numpy(y) if not isinstance(y, list) else y)))
