"""Test oracles written against an array namespace, shared by the solver tests.

(``problems/`` builds NumPy/scipy instances; these run unchanged on every backend the
``xp`` fixture provides.)
"""

from __future__ import annotations


def logistic(xp, A, y, lam):
    """f(w) = mean_i log(1 + exp(-y_i a_i^T w)) + lam/2 ||w||^2, its gradient and Hessian."""
    A, y = xp.asarray(A), xp.asarray(y)
    n, d = A.shape

    def fun(w):
        z = y * (A @ w)
        return float(xp.mean(xp.logaddexp(xp.zeros_like(z), -z)) + 0.5 * lam * xp.sum(w * w))

    def sig_neg(z):  # sigma(-z) = 1 / (1 + exp(z)), overflow-free
        return xp.exp(-xp.logaddexp(xp.zeros_like(z), z))

    def grad(w):
        return -(A.T @ (y * sig_neg(y * (A @ w)))) / n + lam * w

    def hess(w):
        s = sig_neg(y * (A @ w))
        return (A.T * (s * (1.0 - s))) @ A / n + lam * xp.eye(d, dtype=A.dtype)

    return fun, grad, hess
