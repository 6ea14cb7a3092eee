"""``MatrixCompletion``: a scikit-learn-style estimator around :func:`optlab.lowrank.altmin.altmin`.

Examples
--------
>>> import numpy as np, scipy.sparse as sp
>>> rng = np.random.default_rng(0)
>>> L, R = rng.standard_normal((80, 3)), rng.standard_normal((60, 3))
>>> i, j = np.nonzero(rng.random((80, 60)) < 0.4)
>>> X = sp.coo_array((np.sum(L[i] * R[j], axis=1), (i, j)), shape=(80, 60))
>>> mc = MatrixCompletion(rank=3, random_state=0).fit(X)
>>> est = mc.predict([0, 5], [1, 7])
>>> np.testing.assert_allclose(est, [L[0] @ R[1], L[5] @ R[7]], rtol=1e-6)
"""

from __future__ import annotations

import inspect
import logging
import warnings
from typing import Any

import numpy as np

from optlab.lowrank._completion_common import sampled_dot
from optlab.lowrank.altmin import altmin

__all__ = ["MatrixCompletion", "ConvergenceWarning"]

logger = logging.getLogger("optlab")


class ConvergenceWarning(UserWarning):
    """``fit`` stopped at ``max_iter`` before meeting ``tol`` (the factors are still set)."""


class MatrixCompletion:
    r"""Low-rank matrix completion by (robust) alternating minimization.

    Fits :math:`\hat M = U V^\top` of rank ``rank`` to the stored entries of a
    ``scipy.sparse`` matrix by :func:`optlab.lowrank.altmin.altmin` (Jain, Netrapalli &
    Sanghavi 2013; Gu, Song, Yin & Zhang, ICLR 2024): spectral initialization with
    clipping, then alternating least squares on the observed entries. Every *stored*
    entry is an observation, explicit zeros included; entries not stored are missing.

    Parameters
    ----------
    rank : int
        Target rank.
    method : {"robust", "exact"}
        Approximate sketch-preconditioned solves (``O(|Omega| k)`` per CG step) or exact
        batched normal equations (``O(|Omega| k^2)`` per half-step).
    tol : float
        Stopping tolerance on the relative residual / relative change (see ``altmin``).
    max_iter : int
        Maximum outer iterations.
    solve_tol, precond, reg, incoherence, sample_splitting
        Passed to ``altmin``.
    duplicates : {"error", "mean", "keep"}
        Repeated stored positions (possible in COO input): raise, average, or keep each
        as a separate observation. Note that ``scipy.sparse`` would *sum* them on
        conversion to CSR; the estimator reads the stored entries as given.
    random_state : int or None
        Seed of the initialization and the sketches.
    verbose : int
        Logging level of the solver.

    Attributes
    ----------
    U_ : (m, rank) ndarray
    V_ : (n, rank) ndarray
        Fitted factors; the completed matrix is ``U_ @ V_.T`` (never formed by ``fit`` or
        ``predict``).
    result_ : optlab.result.Result
        The solver's result (history, counts, status).
    n_features_in_ : int
        ``n`` (number of columns of ``X``).
    shape_ : (int, int)
        Shape of the fitted matrix.
    """

    def __init__(
        self,
        rank: int,
        *,
        method: str = "robust",
        tol: float = 1e-8,
        max_iter: int = 100,
        solve_tol: float = 0.1,
        precond: str = "sketch",
        reg: float = 0.0,
        incoherence: float | None = None,
        sample_splitting: bool = False,
        duplicates: str = "error",
        random_state: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.rank = rank
        self.method = method
        self.tol = tol
        self.max_iter = max_iter
        self.solve_tol = solve_tol
        self.precond = precond
        self.reg = reg
        self.incoherence = incoherence
        self.sample_splitting = sample_splitting
        self.duplicates = duplicates
        self.random_state = random_state
        self.verbose = verbose

    # -- scikit-learn parameter protocol (without depending on scikit-learn) --------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> MatrixCompletion:
        valid = set(self._param_names())
        for key, val in params.items():
            if key not in valid:
                raise ValueError(f"invalid parameter {key!r} for MatrixCompletion; valid: {sorted(valid)}")
            setattr(self, key, val)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        args = [repr(self.rank)] + [
            f"{k}={v!r}" for k, v in self.get_params().items() if k != "rank" and v != defaults.get(k)
        ]
        return f"MatrixCompletion({', '.join(args)})"

    # -- fit / predict ------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> MatrixCompletion:
        """Fit the factors to the stored entries of the sparse matrix ``X``.

        Parameters
        ----------
        X : scipy.sparse matrix or array, shape (m, n)
            Observed entries; stored zeros count as observations.
        y : ignored

        Returns
        -------
        self
        """
        import scipy.sparse as sp

        if not sp.issparse(X):
            raise TypeError(
                "X must be a scipy.sparse matrix whose stored entries are the observations "
                f"(a dense array has no missing entries), got {type(X).__name__}"
            )
        coo = X.tocoo()
        res = altmin(
            coo.row, coo.col, coo.data, tuple(int(s) for s in X.shape), self.rank,
            method=self.method, tol=self.tol, max_iter=self.max_iter, solve_tol=self.solve_tol,
            precond=self.precond, reg=self.reg, incoherence=self.incoherence,
            sample_splitting=self.sample_splitting, duplicates=self.duplicates,
            rng=self.random_state, verbose=self.verbose,
        )  # fmt: skip
        self.result_ = res
        self.U_, self.V_ = res.U, res.V
        self.shape_ = tuple(int(s) for s in X.shape)
        self.n_features_in_ = self.shape_[1]
        if not res.success:
            warnings.warn(f"MatrixCompletion.fit: {res.message}", ConvergenceWarning, stacklevel=2)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "U_"):
            raise RuntimeError("this MatrixCompletion instance is not fitted yet: call fit(X) first")

    def predict(self, rows: Any, cols: Any) -> np.ndarray:
        """Completed values :math:`(U V^\\top)_{ij}` at the positions ``(rows[t], cols[t])``.

        ``O(len(rows) k)``; the full matrix is never formed.
        """
        self._check_fitted()
        r = np.asarray(rows)
        c = np.asarray(cols)
        if r.ndim != 1 or c.ndim != 1 or r.shape != c.shape:
            raise ValueError(f"rows and cols must be 1-D of equal length, got shapes {r.shape} and {c.shape}")
        for idx, name, size in ((r, "rows", self.shape_[0]), (c, "cols", self.shape_[1])):
            if idx.size and idx.dtype.kind not in "iu":
                raise TypeError(f"{name} must be an integer array, got dtype {idx.dtype}")
            if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= size):
                raise ValueError(f"{name} must lie in [0, {size}), got values in [{idx.min()}, {idx.max()}]")
        if r.size == 0:
            return np.zeros(0)
        return sampled_dot(self.U_, self.V_, r.astype(np.int64), c.astype(np.int64))

    def score(self, X: Any, y: Any = None) -> float:
        """Negative relative RMSE on the stored entries of the sparse ``X`` (higher is better):
        ``-||P(U V^T) - x|| / ||x||``."""
        self._check_fitted()
        coo = X.tocoo()
        pred = self.predict(coo.row, coo.col)
        return -float(np.linalg.norm(pred - coo.data) / max(np.linalg.norm(coo.data), 1e-300))
