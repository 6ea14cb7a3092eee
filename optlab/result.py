"""The result every optlab solver returns, and the per-iteration recorder behind it.

A :class:`Result` is a ``scipy.optimize.OptimizeResult`` (a dict with attribute
access) with the usual fields ``x, fun, nit, success, status, message``, the
oracle counts (``nfev, njev, nhev, n_matvec`` where they apply) and a
``history``: a dict of equal-length 1-D NumPy arrays, always holding ``iter``
and ``time`` (seconds since the solver started) plus whatever the algorithm is
measured by (``fun``, ``grad_norm``, ``error``, ``gap``...).

Solvers build their Result through a :class:`Monitor`, which records the
history, calls the user callback, logs through ``logging.getLogger("optlab")``
when ``verbose > 0``, and turns a non-finite value into ``success=False`` with
a message saying where it happened (the history up to that point is kept).

Examples
--------
>>> from optlab.result import Monitor, Status
>>> mon = Monitor("demo")
>>> for k in range(3):
...     mon.record(k, fun=1.0 / (k + 1))
>>> res = mon.finish(x=0.0, fun=1 / 3, nit=3, status=Status.CONVERGED)
>>> res.success, list(res.history), res.history["fun"].shape
(True, ['iter', 'time', 'fun'], (3,))
"""

from __future__ import annotations

import enum
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

__all__ = ["Result", "Status", "History", "Monitor"]

logger = logging.getLogger("optlab")


class Status(enum.IntEnum):
    """Termination codes shared by every optlab solver (``Result.status``)."""

    CONVERGED = 0  #: the stopping test (``tol``) was met
    MAX_ITER = 1  #: ``max_iter`` iterations without meeting ``tol``
    NUMERICAL_ERROR = 2  #: NaN or inf appeared in an iterate or an oracle value
    DIVERGED = 3  #: the objective or the iterates blew up
    STAGNATION = 4  #: no progress possible (line search failure, zero step...)
    CALLBACK = 5  #: the user callback asked to stop


_DEFAULT_MESSAGES = {
    Status.CONVERGED: "converged: stopping tolerance met",
    Status.MAX_ITER: "maximum number of iterations reached",
    Status.NUMERICAL_ERROR: "non-finite value encountered",
    Status.DIVERGED: "iterates diverged",
    Status.STAGNATION: "stagnation: no further progress possible",
    Status.CALLBACK: "stopped by the callback",
}


class Result(OptimizeResult):
    """Solver output: a ``scipy.optimize.OptimizeResult`` plus a ``history``.

    Attributes
    ----------
    x : array
        Final iterate, in the namespace and dtype of the input.
    fun : float
        Objective value at ``x`` (where the solver has one).
    nit : int
        Iterations performed.
    success : bool
        ``status == 0``.
    status : int
        A :class:`Status` code.
    message : str
        What happened, with the iteration where a failure occurred.
    history : dict of 1-D numpy arrays
        Equal-length per-iteration records; always ``iter`` and ``time``.
    nfev, njev, nhev, n_matvec : int, optional
        Oracle counts, where the solver has those oracles.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "history" not in self:
            self["history"] = {"iter": np.zeros(0, dtype=np.int64), "time": np.zeros(0)}

    def __dir__(self) -> list[str]:
        return list(self.keys())


class History:
    """Per-iteration recorder producing a dict of equal-length 1-D arrays.

    Values must be host scalars (Python floats or ints). A key first seen after
    some records, or missing from a record, is filled with NaN so that all
    columns keep the same length.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = bool(enabled)
        self._t0 = time.perf_counter()
        self._cols: dict[str, list[float]] = {"iter": [], "time": []}

    def __len__(self) -> int:
        return len(self._cols["iter"])

    def restart_clock(self) -> None:
        self._t0 = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self._t0

    def record(self, it: int, **values: float) -> None:
        if not self.enabled:
            return
        n = len(self)
        self._cols["iter"].append(int(it))
        self._cols["time"].append(self.elapsed())
        for key, val in values.items():
            col = self._cols.get(key)
            if col is None:
                col = self._cols[key] = [math.nan] * n
            col.append(float(val))
        for col in self._cols.values():
            if len(col) == n:  # key absent from this record
                col.append(math.nan)

    def as_dict(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for key, col in self._cols.items():
            dtype = np.int64 if key == "iter" else np.float64
            out[key] = np.asarray(col, dtype=dtype)
        return out


class Monitor:
    """Bookkeeping shared by all solvers: history, callback, logging, failures.

    Parameters
    ----------
    solver : str
        Name used in log lines and failure messages.
    record : bool
        Record the per-iteration history (cheap; switch off for timing runs).
    callback : callable or None
        ``callback(intermediate_result)`` with a :class:`Result` holding ``x``,
        ``fun`` and ``nit``; returning ``True`` stops the solver
        (``status = Status.CALLBACK``).
    verbose : int
        0 silent; 1 logs every ``log_every`` iterations and the outcome
        (``logging.getLogger("optlab")``, level INFO); 2 logs every iteration.
    """

    def __init__(
        self,
        solver: str,
        *,
        record: bool = True,
        callback: Callable[[Result], Any] | None = None,
        verbose: int = 0,
        log_every: int = 100,
    ) -> None:
        self.solver = solver
        self.history = History(record)
        self.callback = callback
        self.verbose = int(verbose)
        self.log_every = max(1, int(log_every))

    def record(self, it: int, **values: float) -> None:
        """Record iteration ``it`` (values must be host scalars)."""
        self.history.record(it, **values)
        if self.verbose >= 2 or (self.verbose == 1 and it % self.log_every == 0):
            txt = " ".join(f"{k}={v:.6g}" for k, v in values.items())
            logger.info("%s it=%d %s", self.solver, it, txt)

    def nonfinite(self, it: int, **values: Any) -> str | None:
        """Return a failure message if any value is NaN/inf, else ``None``.

        Values may be host scalars or arrays of any namespace (reduced with
        their own ``isfinite`` so that no large copy is made).
        """
        for name, val in values.items():
            if not _all_finite(val):
                return f"{self.solver}: non-finite {name} at iteration {it}"
        return None

    def stop_requested(self, x: Any, fun: Any, nit: int) -> bool:
        """Call the user callback; ``True`` when it asks to stop."""
        if self.callback is None:
            return False
        inter = Result(x=x, fun=fun, nit=nit)
        return bool(self.callback(inter))

    def finish(
        self,
        *,
        x: Any,
        fun: Any,
        nit: int,
        status: Status | int,
        message: str | None = None,
        **extra: Any,
    ) -> Result:
        """Assemble the :class:`Result` (``success`` is ``status == 0``)."""
        status = Status(int(status))
        if message is None:
            message = _DEFAULT_MESSAGES[status]
            if status in (Status.MAX_ITER, Status.CALLBACK):
                message = f"{message} ({nit} iterations)"
        if fun is not None and not isinstance(fun, float):
            try:
                fun = float(fun)
            except TypeError:
                pass
        res = Result(
            x=x,
            fun=fun,
            nit=int(nit),
            success=status == Status.CONVERGED,
            status=int(status),
            message=message,
            history=self.history.as_dict(),
            **extra,
        )
        if self.verbose > 0:
            logger.info("%s finished: %s (nit=%d, fun=%s)", self.solver, message, nit, fun)
        return res


def _all_finite(val: Any) -> bool:
    if val is None:
        return True
    if isinstance(val, int | float):
        return math.isfinite(val)
    if isinstance(val, np.ndarray | np.generic):  # fast path: no namespace lookup
        return bool(np.isfinite(val).all())
    try:
        from array_api_compat import array_namespace

        xp = array_namespace(val)
    except TypeError:
        return bool(np.all(np.isfinite(np.asarray(val))))
    return bool(xp.all(xp.isfinite(val)))
