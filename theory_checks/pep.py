r"""Worst-case values of optlab's first-order methods, computed with PEPit, and their cache.

A performance estimation problem (PEP; Drori & Teboulle 2014, Taylor, Hendrickx &
Glineur 2017) asks for the largest value of a performance metric after ``N`` steps of
a fixed first-order method over a whole function class, given an initial condition.
PEPit writes it as a semidefinite program and returns the dual optimal value
``tau``: a certified upper bound that is attained (up to solver accuracy) by some
function of the class, so ``tau`` is *the* worst case of the method.

Each PEP below is written for exactly the algorithm optlab implements (same indexing,
same step, same momentum sequence; see the docstrings of
:func:`optlab.convex.gradient_descent` and :func:`optlab.convex.accelerated_gradient`):

``"gd"``
    :math:`x_{k+1} = x_k - \frac1L \nabla f(x_k)`, :math:`f` convex and
    :math:`L`-smooth, metric :math:`f(x_N) - f_\star`, initial condition
    :math:`\|x_0 - x_\star\|^2 \le R^2`. Tight closed form
    :math:`\tau = L R^2 / (4N + 2)` (Drori & Teboulle 2014, Theorem 3.1 and
    Theorem 3.2; attained by a 1-D Huber function).
``"agd"``
    Nesterov's method in the FISTA form (Beck & Teboulle 2009, eq. (4.1)-(4.3) with
    :math:`g = 0`): :math:`y_1 = x_0`, :math:`t_1 = 1`,
    :math:`x_k = y_k - \frac1L\nabla f(y_k)`,
    :math:`t_{k+1} = (1 + \sqrt{1 + 4t_k^2})/2`,
    :math:`y_{k+1} = x_k + \frac{t_k - 1}{t_{k+1}}(x_k - x_{k-1})`; same class, metric
    and initial condition. Guarantee :math:`f(x_N) - f_\star \le L R^2/(2t_N^2) \le
    2LR^2/(N+1)^2` (Beck & Teboulle 2009, Theorem 4.4), not tight; PEPit's ``tau`` is
    the exact worst case.
``"gd_sc"``
    :math:`x_{k+1} = x_k - \frac{2}{L+\mu}\nabla f(x_k)`, :math:`f`
    :math:`\mu`-strongly convex and :math:`L`-smooth, metric
    :math:`\|x_N - x_\star\|^2`, initial condition :math:`\|x_0 - x_\star\|^2 \le R^2`.
    Tight closed form :math:`\tau = R^2 ((L-\mu)/(L+\mu))^{2N}` (attained by the
    quadratic with eigenvalues :math:`\mu` and :math:`L`).

The values are cached in ``pep_cache.json`` next to this file (committed data), keyed by
``method, L, mu, N, R``, each entry holding ``tau``, the closed-form/theory value and the
PEPit / cvxpy / Clarabel versions and solver used. The fast claim tier only reads the
cache; the slow tier recomputes a few entries and checks they agree.

Regenerate (about 15 s on 2 cores)::

    .venv/bin/python -m theory_checks.pep            # default grid, rewrites the cache
    .venv/bin/python -m theory_checks.pep --N 1 30   # another horizon range

References
----------
Y. Drori, M. Teboulle (2014). Performance of first-order methods for smooth convex
minimization: a novel approach. Math. Program. 145, 451-482. arXiv:1206.3209.

A. Taylor, J. Hendrickx, F. Glineur (2017). Smooth strongly convex interpolation and
exact worst-case performance of first-order methods. Math. Program. 161, 307-345.

A. Beck, M. Teboulle (2009). A fast iterative shrinkage-thresholding algorithm for
linear inverse problems. SIAM J. Imaging Sci. 2(1), 183-202.

B. Goujaud, C. Moucer, F. Glineur, J. Hendrickx, A. Taylor, A. Dieuleveut (2024).
PEPit: computer-assisted worst-case analyses of first-order optimization methods in
Python. Math. Program. Comput. 16, 337-367.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from importlib import metadata
from pathlib import Path

__all__ = [
    "CACHE_PATH",
    "METHODS",
    "SOLVER",
    "agd_momentum",
    "cache_key",
    "cached_tau",
    "compute_tau",
    "load_cache",
    "regenerate",
    "save_cache",
    "theory_tau",
    "versions",
]

CACHE_PATH = Path(__file__).with_name("pep_cache.json")
METHODS = ("gd", "agd", "gd_sc")
SOLVER = "CLARABEL"
WRAPPER = "cvxpy"

#: the grid the committed cache holds (what the fast tier and the figure read)
DEFAULT_GRID = {
    "gd": {"L": 1.0, "mu": 0.0, "R": 1.0, "N": list(range(1, 21))},
    "agd": {"L": 1.0, "mu": 0.0, "R": 1.0, "N": list(range(1, 21))},
    "gd_sc": {"L": 1.0, "mu": 0.1, "R": 1.0, "N": list(range(1, 11))},
}


# ----------------------------------------------------------------------------- theory
def agd_momentum(N: int) -> tuple[list[float], list[float]]:
    """The FISTA sequence used by ``"agd"``: ``t_1..t_{N+1}`` and the momentum weights.

    Returns ``(t, beta)`` with ``t[k-1] = t_k`` (``t_1 = 1``) and
    ``beta[k-1] = (t_k - 1) / t_{k+1}``, the weight of :math:`x_k - x_{k-1}` in
    :math:`y_{k+1}`, for ``k = 1..N``.
    """
    t = [1.0]
    for _ in range(N):
        t.append((1.0 + math.sqrt(1.0 + 4.0 * t[-1] ** 2)) / 2.0)
    beta = [(t[k] - 1.0) / t[k + 1] for k in range(N)]
    return t, beta


def theory_tau(method: str, N: int, L: float = 1.0, mu: float = 0.0, R: float = 1.0) -> float:
    """The literature's value for ``method`` (tight for ``gd`` and ``gd_sc``; a bound for ``agd``).

    ``gd``: :math:`LR^2/(4N+2)`; ``agd``: :math:`LR^2/(2t_N^2)` (Beck & Teboulle 2009,
    Theorem 4.4 in its sharper form, itself :math:`\\le 2LR^2/(N+1)^2`);
    ``gd_sc``: :math:`R^2((L-\\mu)/(L+\\mu))^{2N}`.
    """
    _check(method, N, L, mu, R)
    if method == "gd":
        return L * R**2 / (4 * N + 2)
    if method == "agd":
        t, _ = agd_momentum(N)
        return L * R**2 / (2.0 * t[N - 1] ** 2)
    return R**2 * ((L - mu) / (L + mu)) ** (2 * N)


# ----------------------------------------------------------------------------- PEPit
def compute_tau(
    method: str,
    N: int,
    L: float = 1.0,
    mu: float = 0.0,
    R: float = 1.0,
    *,
    solver: str = SOLVER,
    verbose: int = 0,
    return_status: bool = False,
) -> float | tuple[float, str]:
    """Solve the PEP of ``method`` (see the module docstring) with PEPit and return tau.

    Parameters
    ----------
    method : {"gd", "agd", "gd_sc"}
    N : int
        Number of steps (``x_N`` is the output), ``N >= 1``.
    L, mu : float
        Smoothness and strong convexity (``mu = 0`` for ``gd`` / ``agd``).
    R : float
        Radius of the initial condition ``||x0 - x*|| <= R``.
    solver : str
        cvxpy solver name (CLARABEL: open source interior point, ~1e-8 accuracy here).
    verbose : int
        PEPit verbosity (0 silent).
    return_status : bool
        Also return cvxpy's status string (``"optimal"``, or ``"optimal_inaccurate"``
        when CLARABEL stopped at its reduced accuracy; cvxpy's warning about the latter is
        silenced here and reported through this status instead).

    Returns
    -------
    float or (float, str)
        PEPit's dual value: the worst case of the metric over the class.
    """
    _check(method, N, L, mu, R)
    from PEPit import PEP
    from PEPit.functions import SmoothConvexFunction, SmoothStronglyConvexFunction

    problem = PEP()
    if method == "gd_sc":
        f = problem.declare_function(SmoothStronglyConvexFunction, L=L, mu=mu)
    else:
        f = problem.declare_function(SmoothConvexFunction, L=L)
    xs = f.stationary_point()
    fs = f(xs)
    x0 = problem.set_initial_point()
    problem.set_initial_condition((x0 - xs) ** 2 <= R**2)

    if method == "gd":
        x = x0
        for _ in range(N):
            x = x - (1.0 / L) * f.gradient(x)
        problem.set_performance_metric(f(x) - fs)
    elif method == "gd_sc":
        x = x0
        gamma = 2.0 / (L + mu)
        for _ in range(N):
            x = x - gamma * f.gradient(x)
        problem.set_performance_metric((x - xs) ** 2)
    else:  # agd, FISTA indexing: y_1 = x_0, x_k = y_k - grad(y_k)/L
        _, beta = agd_momentum(N)
        x_prev = x0
        y = x0
        x = x0
        for k in range(N):
            x = y - (1.0 / L) * f.gradient(y)
            y = x + beta[k] * (x - x_prev)
            x_prev = x
        problem.set_performance_metric(f(x) - fs)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Solution may be inaccurate")
        tau = float(problem.solve(wrapper=WRAPPER, solver=solver, verbose=verbose))
    status = str(getattr(getattr(problem.wrapper, "prob", None), "status", "unknown"))
    return (tau, status) if return_status else tau


# ----------------------------------------------------------------------------- cache
def versions() -> dict[str, str]:
    """Installed versions of the PEP tool chain (stored with every cache entry)."""
    out = {}
    for name, dist in (("pepit", "PEPit"), ("cvxpy", "cvxpy"), ("clarabel", "clarabel")):
        try:
            out[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def cache_key(method: str, L: float, mu: float, N: int, R: float) -> str:
    """``"gd|L=1|mu=0|N=10|R=1"`` (floats in ``repr``-exact ``%.12g`` form)."""
    return f"{method}|L={L:.12g}|mu={mu:.12g}|N={int(N)}|R={R:.12g}"


def load_cache(path: str | Path = CACHE_PATH) -> dict[str, dict]:
    """The cached entries by key (empty when the file does not exist)."""
    p = Path(path)
    if not p.exists():
        return {}
    data = json.loads(p.read_text(encoding="utf-8"))
    return dict(data.get("entries", {}))


def save_cache(entries: dict[str, dict], path: str | Path = CACHE_PATH) -> None:
    """Write ``entries`` (sorted, one per line block) with a short header."""
    header = {
        "about": "PEPit worst-case values tau of optlab's GD/AGD (theory_checks/pep.py); "
        "regenerate with `python -m theory_checks.pep`",
        "wrapper": WRAPPER,
    }

    def order(k: str) -> tuple:
        m, *rest = k.split("|")
        vals = dict(r.split("=") for r in rest)
        return (m, float(vals["L"]), float(vals["mu"]), float(vals["R"]), int(vals["N"]))

    data = {**header, "entries": {k: entries[k] for k in sorted(entries, key=order)}}
    Path(path).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def cached_tau(
    method: str,
    N: int,
    L: float = 1.0,
    mu: float = 0.0,
    R: float = 1.0,
    *,
    path: str | Path = CACHE_PATH,
    cache: dict[str, dict] | None = None,
) -> float:
    """tau from the cache; ``KeyError`` saying how to regenerate when it is missing."""
    entries = load_cache(path) if cache is None else cache
    key = cache_key(method, L, mu, N, R)
    if key not in entries:
        raise KeyError(
            f"PEPit value {key!r} is not in {Path(path).name}; regenerate the cache with "
            "`.venv/bin/python -m theory_checks.pep` (see theory_checks/pep.py)"
        )
    return float(entries[key]["tau"])


def regenerate(
    grid: dict[str, dict] | None = None,
    *,
    path: str | Path = CACHE_PATH,
    keep: bool = True,
    verbose: bool = True,
) -> dict[str, dict]:
    """Solve every PEP of ``grid`` (default :data:`DEFAULT_GRID`) and write the cache."""
    grid = DEFAULT_GRID if grid is None else grid
    entries = load_cache(path) if keep else {}
    vers = versions()
    for method, spec in grid.items():
        for N in spec["N"]:
            L, mu, R = float(spec["L"]), float(spec["mu"]), float(spec["R"])
            t0 = time.perf_counter()
            tau, status = compute_tau(method, N, L, mu, R, return_status=True)
            dt = time.perf_counter() - t0
            theory = theory_tau(method, N, L, mu, R)
            entries[cache_key(method, L, mu, N, R)] = {
                "method": method,
                "L": L,
                "mu": mu,
                "N": int(N),
                "R": R,
                "tau": tau,
                "theory": theory,
                "solver": SOLVER,
                "status": status,
                "seconds": round(dt, 3),
                **vers,
            }
            if verbose:
                print(f"{method:6s} N={N:3d} tau={tau:.10g} theory={theory:.10g} {status} ({dt:.2f} s)",
                      flush=True)
    save_cache(entries, path)
    return entries


def _check(method: str, N: int, L: float, mu: float, R: float) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if int(N) != N or N < 1:
        raise ValueError(f"N must be an integer >= 1, got {N!r}")
    if not (L > 0 and R > 0):
        raise ValueError(f"L and R must be > 0, got L={L!r}, R={R!r}")
    if method == "gd_sc" and not (0 < mu < L):
        raise ValueError(f"gd_sc needs 0 < mu < L, got mu={mu!r}, L={L!r}")
    if method != "gd_sc" and mu != 0:
        raise ValueError(f"{method} is analysed on the convex class: mu must be 0, got {mu!r}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Regenerate theory_checks/pep_cache.json with PEPit.")
    p.add_argument("--N", nargs=2, type=int, metavar=("NMIN", "NMAX"), help="horizon range (inclusive)")
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--fresh", action="store_true", help="drop existing entries first")
    args = p.parse_args(argv)
    grid = {}
    for m in args.methods:
        spec = dict(DEFAULT_GRID[m])
        if args.N:
            spec["N"] = list(range(args.N[0], args.N[1] + 1))
        grid[m] = spec
    regenerate(grid, keep=not args.fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
