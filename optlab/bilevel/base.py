"""The bilevel problem protocol shared by every solver in :mod:`optlab.bilevel`.

A bilevel problem is

.. math::

    \\min_{x \\in X} F(x) = f(x, y^*(x)), \\qquad
    y^*(x) \\in \\arg\\min_{y \\in Y} g(x, y),

with an upper-level objective ``f`` and a lower-level objective ``g``. When
``g(x, .)`` is strongly convex the implicit function theorem gives the
hypergradient

.. math::

    \\nabla F(x) = \\nabla_x f(x, y^*) - \\nabla^2_{xy} g(x, y^*)\\,
    [\\nabla^2_{yy} g(x, y^*)]^{-1} \\nabla_y f(x, y^*).

Protocol
--------
A solver only calls the *oracles* below, all taking arrays (1-D ``x`` of size
``dim_x`` and 1-D ``y`` of size ``dim_y``) and returning arrays of the same
namespace (or Python floats for values):

``f(x, y)``, ``g(x, y)``
    values (floats).
``grad_f_x(x, y)``, ``grad_f_y(x, y)``, ``grad_g_x(x, y)``, ``grad_g_y(x, y)``
    partial gradients (shape ``dim_x`` for ``_x``, ``dim_y`` for ``_y``).
``hvp_g_yy(x, y, v)``
    :math:`\\nabla^2_{yy} g(x, y)\\, v` for ``v`` in y-space (shape ``dim_y``).
``jvp_g_xy(x, y, v)``
    :math:`\\nabla^2_{xy} g(x, y)\\, v = \\frac{\\partial}{\\partial x}
    \\langle \\nabla_y g(x, y), v\\rangle` for ``v`` in y-space; returns an
    x-space vector (shape ``dim_x``).

Optional members (``None`` when absent):

``project_x(x)``, ``project_y(y)`` (or ``project_y(x, y)`` for constraints
    coupling x and y; say so in ``params["project_y_coupled"] = True``).
``sample(rng, batch)``
    a stochastic view: returns an object with the same oracle methods (f, g,
    grad_*, hvp_g_yy, jvp_g_xy) evaluated on a mini-batch of ``batch`` samples
    drawn with ``rng`` (or with additive noise for synthetic problems; the
    generator documents which). ``batch`` is an int or a pair
    ``(batch_upper, batch_lower)``. One view is one draw: calling its oracles
    several times reuses the same samples.
``y_star(x)``
    exact lower-level solution.
``hypergrad(x)``
    exact hypergradient :math:`\\nabla F(x)`.
``F(x)``
    exact upper-level value :math:`f(x, y^*(x))`.
``x_star``, ``F_star``
    a known solution of the bilevel problem and its value.
``hess_g_yy(x, y)``, ``jac_g_xy(x, y)``
    dense matrices (small problems; ``jac_g_xy`` has shape ``(dim_x, dim_y)``).
``metrics(x, y)``
    cheap extra measures recorded in solver histories (dict of floats, e.g. the
    clean test accuracy of hyper-cleaning); not counted as oracle calls.

Attributes: ``name``, ``dim_x``, ``dim_y``, ``x0``, ``y0`` (default starts),
``constants`` (dict of the constants the theory uses: ``mu_g`` strong
convexity of ``g(x, .)``, ``L_g`` Lipschitz constant of ``grad_y g`` in y,
``L_f``, ``L_gxy``, ``L_gyy``, ``M_f`` a bound on ``||grad_y f||``...; missing
keys mean unknown), ``params`` (generator parameters), ``data`` (arrays),
``seed``.

Counting
--------
:class:`OracleCounter` wraps any problem and counts oracle calls; every solver
wraps its problem in one (``counted(problem)``) and copies ``counter.counts()``
into its Result: ``n_grad`` (partial-gradient calls: grad_f_x, grad_f_y,
grad_g_x, grad_g_y each count one), ``n_hvp`` (``hvp_g_yy``), ``n_jvp``
(``jvp_g_xy``), ``n_fval`` (``f`` and ``g`` values), ``n_samples`` (samples
drawn through ``sample``), and their scipy-style aliases ``nfev = n_fval``,
``njev = n_grad``, ``nhev = n_hvp + n_jvp``.

Examples
--------
>>> import numpy as np
>>> from optlab.bilevel.base import BilevelProblem, OracleCounter
>>> # F(x) = 0.5 ||y*(x) - 1||^2,  y*(x) = argmin_y 0.5 ||y - x||^2 = x
>>> p = BilevelProblem(
...     name="toy", dim_x=2, dim_y=2, x0=np.zeros(2), y0=np.zeros(2),
...     f=lambda x, y: 0.5 * float(np.sum((y - 1) ** 2)),
...     g=lambda x, y: 0.5 * float(np.sum((y - x) ** 2)),
...     grad_f_x=lambda x, y: np.zeros_like(x), grad_f_y=lambda x, y: y - 1,
...     grad_g_x=lambda x, y: x - y, grad_g_y=lambda x, y: y - x,
...     hvp_g_yy=lambda x, y, v: v, jvp_g_xy=lambda x, y, v: -v,
...     y_star=lambda x: x, constants={"mu_g": 1.0, "L_g": 1.0})
>>> c = OracleCounter(p)
>>> c.grad_f_y(p.x0, p.y0)
array([-1., -1.])
>>> c.counts()["n_grad"]
1
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optlab._backend import get_namespace, to_numpy
from optlab._validate import check_array

__all__ = ["BilevelProblem", "OracleCounter", "counted", "exact_hypergrad_dense"]

_ORACLES = (
    "f",
    "g",
    "grad_f_x",
    "grad_f_y",
    "grad_g_x",
    "grad_g_y",
    "hvp_g_yy",
    "jvp_g_xy",
)


@dataclass(kw_only=True, eq=False)
class BilevelProblem:
    """A bilevel instance: oracles, starts, constants and known answers.

    See the module docstring (:mod:`optlab.bilevel.base`) for the protocol.
    The eight oracles are required; everything else is optional.
    """

    name: str
    dim_x: int
    dim_y: int
    x0: Any
    y0: Any
    f: Callable[[Any, Any], float]
    g: Callable[[Any, Any], float]
    grad_f_x: Callable[[Any, Any], Any]
    grad_f_y: Callable[[Any, Any], Any]
    grad_g_x: Callable[[Any, Any], Any]
    grad_g_y: Callable[[Any, Any], Any]
    hvp_g_yy: Callable[[Any, Any, Any], Any]
    jvp_g_xy: Callable[[Any, Any, Any], Any]
    project_x: Callable[[Any], Any] | None = None
    project_y: Callable[..., Any] | None = None
    sample: Callable[[Any, Any], Any] | None = None
    y_star: Callable[[Any], Any] | None = None
    hypergrad: Callable[[Any], Any] | None = None
    F: Callable[[Any], float] | None = None
    x_star: Any = None
    F_star: float | None = None
    hess_g_yy: Callable[[Any, Any], Any] | None = None
    jac_g_xy: Callable[[Any, Any], Any] | None = None
    metrics: Callable[[Any, Any], dict] | None = None
    constants: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None

    def __post_init__(self) -> None:
        self.dim_x, self.dim_y = int(self.dim_x), int(self.dim_y)
        for name in _ORACLES:
            if not callable(getattr(self, name)):
                raise TypeError(f"BilevelProblem.{name} must be callable")
        for name, val, dim in (("x0", self.x0, self.dim_x), ("y0", self.y0, self.dim_y)):
            shape = getattr(val, "shape", None)
            if shape != (dim,):
                raise ValueError(f"{name} must have shape ({dim},), got {shape}")

    def lower_gap(self, x: Any, y: Any) -> float:
        """``g(x, y) - g(x, y*(x))`` when ``y_star`` is known, else ``nan``."""
        if self.y_star is None:
            return float("nan")
        return float(self.g(x, y)) - float(self.g(x, self.y_star(x)))

    def inner_distance(self, x: Any, y: Any) -> float:
        """``||y - y*(x)||`` when ``y_star`` is known, else ``nan``."""
        if self.y_star is None:
            return float("nan")
        d = np.asarray(y) - np.asarray(self.y_star(x))
        return float(np.linalg.norm(d))

    def hypergrad_norm(self, x: Any) -> float:
        """``||grad F(x)||`` when ``hypergrad`` is known, else ``nan``."""
        if self.hypergrad is None:
            return float("nan")
        return float(np.linalg.norm(np.asarray(self.hypergrad(x))))


class OracleCounter:
    """Wrap a bilevel problem (or a stochastic view) and count oracle calls.

    Every attribute not listed in the protocol's oracles is passed through
    unchanged (``x0``, ``constants``, ``y_star``, ``hypergrad``...: the
    *reference* quantities are not counted). ``sample(rng, batch)`` returns a
    counted view sharing this counter and adds the batch size to
    ``n_samples``.

    Parameters
    ----------
    problem : BilevelProblem or view
    counts : dict, optional
        Shared count store (used for views); a fresh one when omitted.
    """

    def __init__(self, problem: Any, counts: dict[str, int] | None = None) -> None:
        if isinstance(problem, OracleCounter):
            counts = problem._counts if counts is None else counts
            problem = problem.problem
        self.problem = problem
        self._counts = counts if counts is not None else {k: 0 for k in _ORACLES + ("samples",)}

    # counted oracles -----------------------------------------------------
    def _call(self, name: str, *args: Any) -> Any:
        self._counts[name] += 1
        return getattr(self.problem, name)(*args)

    def f(self, x: Any, y: Any) -> float:
        return self._call("f", x, y)

    def g(self, x: Any, y: Any) -> float:
        return self._call("g", x, y)

    def grad_f_x(self, x: Any, y: Any) -> Any:
        return self._call("grad_f_x", x, y)

    def grad_f_y(self, x: Any, y: Any) -> Any:
        return self._call("grad_f_y", x, y)

    def grad_g_x(self, x: Any, y: Any) -> Any:
        return self._call("grad_g_x", x, y)

    def grad_g_y(self, x: Any, y: Any) -> Any:
        return self._call("grad_g_y", x, y)

    def hvp_g_yy(self, x: Any, y: Any, v: Any) -> Any:
        return self._call("hvp_g_yy", x, y, v)

    def jvp_g_xy(self, x: Any, y: Any, v: Any) -> Any:
        return self._call("jvp_g_xy", x, y, v)

    def sample(self, rng: Any, batch: Any) -> OracleCounter:
        """A counted mini-batch view (``n_samples += batch``)."""
        sampler = getattr(self.problem, "sample", None)
        if sampler is None:
            raise ValueError(f"problem {getattr(self.problem, 'name', '?')!r} has no stochastic oracle (sample)")
        if isinstance(batch, tuple | list):
            self._counts["samples"] += int(sum(int(b) for b in batch))
        else:
            self._counts["samples"] += int(batch)
        return OracleCounter(sampler(rng, batch), counts=self._counts)

    @property
    def has_sample(self) -> bool:
        return getattr(self.problem, "sample", None) is not None

    def __getattr__(self, name: str) -> Any:
        # only called for attributes not found normally: pass through
        if name in ("problem", "_counts"):
            raise AttributeError(name)
        return getattr(self.problem, name)

    # reporting -----------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Counts so far, with the scipy-style aliases ``nfev, njev, nhev``."""
        c = self._counts
        n_grad = c["grad_f_x"] + c["grad_f_y"] + c["grad_g_x"] + c["grad_g_y"]
        n_fval = c["f"] + c["g"]
        out = {
            "n_grad": n_grad,
            "n_grad_f": c["grad_f_x"] + c["grad_f_y"],
            "n_grad_g": c["grad_g_x"] + c["grad_g_y"],
            "n_hvp": c["hvp_g_yy"],
            "n_jvp": c["jvp_g_xy"],
            "n_fval": n_fval,
            "n_samples": c["samples"],
            "nfev": n_fval,
            "njev": n_grad,
            "nhev": c["hvp_g_yy"] + c["jvp_g_xy"],
        }
        out["n_oracle"] = n_grad + out["nhev"]
        return out

    def total(self) -> int:
        """Gradient + HVP + JVP calls (the usual "oracle calls" axis)."""
        return self.counts()["n_oracle"]

    def reset(self) -> None:
        for k in self._counts:
            self._counts[k] = 0


def counted(problem: Any) -> OracleCounter:
    """``problem`` itself when it is already an :class:`OracleCounter` (calls keep being
    counted by the caller's counter), else a fresh counter wrapping it."""
    if isinstance(problem, OracleCounter):
        return problem
    return OracleCounter(problem)


def exact_hypergrad_dense(problem: Any, x: Any, y: Any | None = None) -> np.ndarray:
    """Hypergradient by a dense solve (NumPy; small problems only).

    Uses ``hess_g_yy``/``jac_g_xy`` when the problem has them, otherwise builds
    the matrices column by column from ``hvp_g_yy``/``jvp_g_xy``. ``y``
    defaults to ``problem.y_star(x)``.
    """
    if y is None:
        if getattr(problem, "y_star", None) is None:
            raise ValueError("exact_hypergrad_dense needs y or problem.y_star")
        y = problem.y_star(x)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    dy = y.size
    if getattr(problem, "hess_g_yy", None) is not None:
        H = np.asarray(problem.hess_g_yy(x, y))
    else:
        H = np.column_stack([np.asarray(problem.hvp_g_yy(x, y, e)) for e in np.eye(dy)])
    if getattr(problem, "jac_g_xy", None) is not None:
        J = np.asarray(problem.jac_g_xy(x, y))
    else:
        J = np.column_stack([np.asarray(problem.jvp_g_xy(x, y, e)) for e in np.eye(dy)])
    v = np.linalg.solve(0.5 * (H + H.T), np.asarray(problem.grad_f_y(x, y)))
    return np.asarray(problem.grad_f_x(x, y)) - J @ v


def _nonsingleton_example() -> BilevelProblem:
    """The 2-D toy with a non-singleton lower level used in the solvers' doctests.

    ``f = (x - y2)^2/2 + (y1 - 1)^2/2``, ``g = y1^2/2 - x y1``: ``y2`` is free in the lower
    level, so ``argmin_y g = {(x, t)}`` and the optimistic solution is ``x* = 1, y* = (1, 1)``.
    (The full toy family lives in ``problems/bilevel_toy.py``.)
    """
    return BilevelProblem(
        name="toy", dim_x=1, dim_y=2, x0=np.zeros(1), y0=np.zeros(2),
        f=lambda x, y: 0.5 * float((x[0] - y[1]) ** 2 + (y[0] - 1) ** 2),
        g=lambda x, y: 0.5 * float(y[0] ** 2) - float(x[0] * y[0]),
        grad_f_x=lambda x, y: x - y[1:],
        grad_f_y=lambda x, y: np.array([y[0] - 1, y[1] - x[0]]),
        grad_g_x=lambda x, y: -y[:1],
        grad_g_y=lambda x, y: np.array([y[0] - x[0], 0.0]),
        hvp_g_yy=lambda x, y, v: np.array([v[0], 0.0]),
        jvp_g_xy=lambda x, y, v: -v[:1],
    )


def _example_problem(dim_x: int = 3, dim_y: int = 5, seed: int = 0) -> BilevelProblem:
    """A small quadratic bilevel problem for doctests (closed-form ``y*``, ``grad F``, ``x*``).

    ``g = y'Ay/2 - x'Cy``, ``f = ||y - b||^2/2 + ||x||^2/20``; ``A`` has spectrum in
    ``[0.5, 2]``. (Full-featured generators live in ``problems/bilevel.py``.)
    """
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((dim_y, dim_y)))
    A = (U * np.linspace(0.5, 2.0, dim_y)) @ U.T
    A = 0.5 * (A + A.T)
    C = rng.standard_normal((dim_x, dim_y)) / np.sqrt(dim_y)
    b = rng.standard_normal(dim_y)
    M = np.linalg.solve(A, C.T)
    H = 0.1 * np.eye(dim_x) + M.T @ M
    x_star = np.linalg.solve(H, M.T @ b)

    def y_star(x):
        return M @ x

    def f(x, y):
        return float(0.5 * np.sum((y - b) ** 2) + 0.05 * x @ x)

    return BilevelProblem(
        name=f"example_quadratic(dx={dim_x}, dy={dim_y})",
        dim_x=dim_x,
        dim_y=dim_y,
        x0=np.zeros(dim_x),
        y0=np.zeros(dim_y),
        f=f,
        g=lambda x, y: float(0.5 * y @ A @ y - x @ (C @ y)),
        grad_f_x=lambda x, y: 0.1 * x,
        grad_f_y=lambda x, y: y - b,
        grad_g_x=lambda x, y: -(C @ y),
        grad_g_y=lambda x, y: A @ y - C.T @ x,
        hvp_g_yy=lambda x, y, v: A @ v,
        jvp_g_xy=lambda x, y, v: -(C @ v),
        y_star=y_star,
        hypergrad=lambda x: H @ x - M.T @ b,
        F=lambda x: f(x, y_star(x)),
        x_star=x_star,
        F_star=f(x_star, y_star(x_star)),
        hess_g_yy=lambda x, y: A,
        jac_g_xy=lambda x, y: -C,
        constants={"mu_g": 0.5, "L_g": 2.0, "mu_F": float(np.linalg.eigvalsh(H)[0]),
                   "L_F": float(np.linalg.eigvalsh(H)[-1])},
        seed=seed,
    )


# ---------------------------------------------------------------------------
# helpers shared by the solvers (private; the other bilevel modules may use them)
# ---------------------------------------------------------------------------


def _rng_from(rng: Any = None, seed: Any = None) -> np.random.Generator:
    """A NumPy Generator from ``rng`` (Generator) or ``seed`` (int/None)."""
    if rng is not None and seed is not None:
        raise ValueError("give rng or seed, not both")
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(seed if rng is None else rng)


def _start_points(problem: Any, x0: Any, y0: Any) -> tuple[Any, Any]:
    """Validated starts (defaults ``problem.x0``, ``problem.y0``); same namespace."""
    x0 = problem.x0 if x0 is None else x0
    y0 = problem.y0 if y0 is None else y0
    x0 = check_array(x0, "x0", ndim=1)
    y0 = check_array(y0, "y0", ndim=1)
    if x0.shape != (problem.dim_x,):
        raise ValueError(f"x0 must have shape ({problem.dim_x},), got {tuple(x0.shape)}")
    if y0.shape != (problem.dim_y,):
        raise ValueError(f"y0 must have shape ({problem.dim_y},), got {tuple(y0.shape)}")
    get_namespace(x0, y0)  # raises on mixed namespaces
    return x0, y0


def _measures(problem: Any, x: Any, y: Any, *, exact: bool = True) -> dict[str, float]:
    """Reference measures for the history (not counted as oracle calls).

    ``F`` (exact upper value), ``hypergrad_norm`` (exact ``||grad F||``),
    ``inner_distance`` (``||y - y*(x)||``), ``f`` (``f(x, y)``), where the
    problem provides them (the problem's own reference oracles, in its namespace).
    """
    out: dict[str, float] = {}
    if not exact:
        if getattr(problem, "metrics", None) is not None:
            out.update({k: float(v) for k, v in problem.metrics(x, y).items()})
        return out
    if getattr(problem, "F", None) is not None and exact:
        out["F"] = float(problem.F(x))
    else:
        out["f"] = float(problem.f(x, y))
    if not exact:
        return out
    if getattr(problem, "hypergrad", None) is not None:
        out["hypergrad_norm"] = float(np.linalg.norm(to_numpy(problem.hypergrad(x))))
    if getattr(problem, "y_star", None) is not None:
        out["inner_distance"] = float(np.linalg.norm(to_numpy(y) - to_numpy(problem.y_star(x))))
    if getattr(problem, "metrics", None) is not None:
        out.update({k: float(v) for k, v in problem.metrics(x, y).items()})
    return out


def _finite(v: float) -> bool:
    return isinstance(v, float) and math.isfinite(v)
