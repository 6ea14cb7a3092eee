"""Second-order methods: lazy-Hessian Newton (cubic and gradient-regularized), damped Newton
with a global O(k^-3) step-size rule, and gradient-regularized Newton with approximate Hessians.

Each solver lives in its own private module and is re-exported here; all return an
:class:`optlab.Result` with a per-iteration ``history`` and operation counts
(``njev`` gradients, ``nhev`` Hessians, ``n_factorizations``) plus the arithmetic ``cost``
of the lazy-Hessian paper's cost model.
"""

from ._damped import damped_newton
from ._lazy_cubic import lazy_cubic_newton
from ._lazy_regularized import lazy_regularized_newton

__all__ = ["lazy_cubic_newton", "lazy_regularized_newton", "damped_newton"]
