"""Parameter sweeps: local processes (joblib/loky) by default, an existing Dask cluster when asked.

A sweep calls ``func(**params, seed=seed)`` for every point of a parameter grid and every
seed, and turns what ``func`` returns (a dict of metrics, or a list of such dicts) into
*tidy records*: one flat dict per row, holding the parameters, the seed, then the metrics.
Figure scripts and slow claim checks run their many instances through here, save the
records with :func:`save_records` and plot from :func:`load_records`.

Where the jobs run:

- ``n_jobs=1``: serially, in this process (tests, debugging, doctests).
- default: local worker processes through joblib's ``loky`` backend, ``n_jobs`` of them
  (all cores when ``None``). This is the embedded default: nothing to set up.
- ``scheduler="tcp://host:8786"`` (or the environment variable ``OPTLAB_DASK_SCHEDULER``):
  an existing Dask cluster, through ``distributed.Client(address)`` and joblib's ``dask``
  backend. Needs the ``distributed`` package (``pip install optlab[dist]``).

``func`` must be picklable for the process and Dask paths: a module-level function of an
importable module, or (loky and Dask use cloudpickle) a function defined in a script.
A progress bar (tqdm) counts finished jobs when stderr is a terminal; solvers themselves
never draw bars.
"""

from __future__ import annotations

import itertools
import json
import numbers
import os
import pickle
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._validate import check_callable

__all__ = [
    "sweep",
    "isweep",
    "expand_grid",
    "records_to_columns",
    "save_records",
    "load_records",
    "SweepError",
    "SCHEDULER_ENV",
]

SCHEDULER_ENV = "OPTLAB_DASK_SCHEDULER"
_FORMAT = "optlab.sweep/1"


class SweepError(RuntimeError):
    """A sweep job raised. The message names the parameters and seed; the original
    exception is ``__cause__`` (its remote traceback, for process and Dask jobs, is the
    cause of that one)."""

    def __init__(self, message: str, *, params: dict, seed: int | None, index: int):
        super().__init__(message)
        self.params = params
        self.seed = seed
        self.index = index


class _RemoteTraceback(Exception):
    """Carries a worker's formatted traceback so that it is shown in the chain."""

    def __init__(self, tb: str):
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return "\n" + self.tb


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------


def expand_grid(grid: Mapping[str, Iterable] | Iterable[Mapping[str, Any]]) -> list[dict]:
    """The list of parameter dicts described by ``grid``.

    Parameters
    ----------
    grid : dict of lists, or list of dicts
        A dict ``{"name": [v1, v2, ...], ...}`` gives the cartesian product, first key
        slowest, last key fastest (``{}`` is one point with no parameters). A list of
        dicts is taken as given.

    Examples
    --------
    >>> expand_grid({"n": [10, 20], "step": [0.1, 1.0]})
    [{'n': 10, 'step': 0.1}, {'n': 10, 'step': 1.0}, {'n': 20, 'step': 0.1}, {'n': 20, 'step': 1.0}]
    """
    if isinstance(grid, Mapping):
        names, values = [], []
        for name, vals in grid.items():
            _check_name(name, "grid")
            if isinstance(vals, str | bytes) or not isinstance(vals, Iterable):
                raise TypeError(
                    f"grid[{name!r}] must be a list of values, got {type(vals).__name__} "
                    f"(wrap a single value in a list)"
                )
            vals = list(vals)
            if not vals:
                raise ValueError(f"grid[{name!r}] is empty: a sweep needs at least one value")
            names.append(name)
            values.append(vals)
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
    if isinstance(grid, str | bytes) or not isinstance(grid, Iterable):
        raise TypeError(
            f"grid must be a dict of lists or a list of dicts, got {type(grid).__name__}"
        )
    points = []
    for i, point in enumerate(grid):
        if not isinstance(point, Mapping):
            raise TypeError(f"grid[{i}] must be a dict of parameters, got {type(point).__name__}")
        for name in point:
            _check_name(name, f"grid[{i}]")
        points.append(dict(point))
    if not points:
        raise ValueError("grid is empty: a sweep needs at least one parameter point")
    return points


def _check_name(name: Any, where: str) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"{where}: parameter names must be identifiers, got {name!r}")


def _check_seeds(seeds: Any) -> list[int] | None:
    if seeds is None:
        return None
    if isinstance(seeds, numbers.Integral) or isinstance(seeds, str | bytes):
        raise TypeError(f"seeds must be a sequence of ints such as range(5), got {seeds!r}")
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"seeds must hold ints, got {s!r}")
        out.append(int(s))
    if not out:
        raise ValueError("seeds is empty: pass seeds=None to call func without a seed")
    return out


def _check_n_jobs(n_jobs: Any) -> int | None:
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral):
        raise TypeError(f"n_jobs must be an int or None, got {type(n_jobs).__name__}")
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs must be >= 1, or negative as in joblib (-1: all cores), got 0")
    if n_jobs < 0 and (os.cpu_count() or 1) + 1 + n_jobs < 1:
        raise ValueError(f"n_jobs={n_jobs} leaves no worker on {os.cpu_count()} cores")
    return n_jobs


def _resolve_scheduler(scheduler: Any) -> Any:
    if scheduler is None:
        scheduler = os.environ.get(SCHEDULER_ENV) or None
    if scheduler is None or isinstance(scheduler, str):
        if scheduler is not None and not scheduler.strip():
            raise ValueError("scheduler must be a Dask scheduler address such as 'tcp://host:8786'")
        return scheduler
    distributed = sys.modules.get("distributed")  # a Client exists only if it was imported
    if distributed is not None and isinstance(scheduler, distributed.Client):
        return scheduler
    raise TypeError(
        f"scheduler must be an address string or a distributed.Client, got {type(scheduler).__name__}"
    )


# --------------------------------------------------------------------------------------
# one job
# --------------------------------------------------------------------------------------


def _rows(func: Callable, params: dict, seed: int | None) -> list[dict]:
    kwargs = dict(params)
    if seed is not None:
        kwargs["seed"] = seed
    out = func(**kwargs)
    if isinstance(out, Mapping):
        metrics_list = [out]
    elif isinstance(out, list | tuple) and all(isinstance(m, Mapping) for m in out):
        metrics_list = list(out)
    else:
        raise TypeError(
            f"func must return a dict of metrics or a list of dicts, got {type(out).__name__}"
        )
    base = dict(params)
    if seed is not None:
        base["seed"] = seed
    rows = []
    for metrics in metrics_list:
        row = dict(base)
        for key, value in metrics.items():
            if key in base and not _same(base[key], value):
                raise ValueError(
                    f"func returned metric {key!r}={value!r}, which clashes with the "
                    f"parameter {key!r}={base[key]!r}"
                )
            row[key] = value
        rows.append(row)
    return rows


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or a == b)
    except Exception:
        return False


def _job(index: int, func: Callable, params: dict, seed: int | None) -> tuple:
    """Runs in the worker: never raises, so the parent knows which job failed."""
    try:
        return index, True, _rows(func, params, seed)
    except Exception as exc:
        tb = traceback.format_exc()
        try:
            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return index, False, (exc, tb)


def _raise_failure(jobs: list, index: int, payload: tuple, *, remote: bool) -> None:
    exc, tb = payload
    _, params, seed = jobs[index]
    where = f"params={params!r}" + ("" if seed is None else f", seed={seed}")
    if remote and exc.__cause__ is None:
        exc.__cause__ = _RemoteTraceback(tb)
    raise SweepError(
        f"sweep job {index} failed for {where}: {type(exc).__name__}: {exc}",
        params=params,
        seed=seed,
        index=index,
    ) from exc


# --------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------


def _progress_bar(total: int, progress: bool | None, desc: str | None):
    from tqdm.auto import tqdm

    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    return tqdm(total=total, desc=desc or "sweep", unit="job", disable=not progress)


def _results(jobs: list, func: Callable, n_jobs: int | None, scheduler: Any, ordered: bool):
    """Yield ``(index, ok, payload)`` per job, as they complete (or in order)."""
    if scheduler is None and n_jobs == 1:
        for index, params, seed in jobs:
            yield _job(index, func, params, seed)
        return

    import joblib

    return_as = "generator" if ordered else "generator_unordered"
    tasks = (joblib.delayed(_job)(index, func, params, seed) for index, params, seed in jobs)
    if scheduler is None:
        parallel = joblib.Parallel(
            n_jobs=-1 if n_jobs is None else n_jobs, backend="loky", return_as=return_as
        )
        yield from parallel(tasks)
        return

    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "running a sweep on a Dask cluster needs the `distributed` package: "
            "pip install 'optlab[dist]'"
        ) from exc
    own_client = isinstance(scheduler, str)
    client = distributed.Client(scheduler) if own_client else scheduler
    try:
        with joblib.parallel_config(backend="dask", client=client):
            parallel = joblib.Parallel(n_jobs=-1 if n_jobs is None else n_jobs, return_as=return_as)
            yield from parallel(tasks)
    finally:
        if own_client:
            client.close()


def isweep(
    func: Callable[..., Any],
    grid: Mapping[str, Iterable] | Iterable[Mapping[str, Any]],
    *,
    seeds: Iterable[int] | None = (0,),
    n_jobs: int | None = None,
    scheduler: Any = None,
    progress: bool | None = None,
    desc: str | None = None,
    ordered: bool = False,
) -> Iterator[dict]:
    """Run a sweep and yield its records as jobs finish.

    Same arguments as :func:`sweep`, plus ``ordered``: ``False`` (default) yields each
    job's rows as soon as it completes (joblib ``return_as="generator_unordered"``),
    ``True`` yields them in the deterministic order of :func:`sweep`. Inputs are checked
    when the generator is created; jobs start on the first ``next``. Closing the
    generator early stops the remaining jobs.

    Examples
    --------
    >>> def work(n, seed):
    ...     return {"value": n * 10 + seed}
    >>> sorted(r["value"] for r in isweep(work, {"n": [1, 2]}, seeds=[0, 1], n_jobs=1))
    [10, 11, 20, 21]
    """
    jobs, n_jobs, scheduler = _prepare(func, grid, seeds, n_jobs, scheduler)
    return _iterate(jobs, func, n_jobs, scheduler, progress, desc, ordered)


def _prepare(func, grid, seeds, n_jobs, scheduler):
    """Check the inputs; return the job list ``[(index, params, seed)]``, n_jobs, scheduler."""
    check_callable(func, "func")
    points = expand_grid(grid)
    seed_list = _check_seeds(seeds)
    if seed_list is not None:
        for i, point in enumerate(points):
            if "seed" in point:
                raise ValueError(
                    f"grid point {i} has a parameter named 'seed', which the sweep sets; "
                    f"pass seeds=None to sweep over seeds yourself"
                )
    n_jobs = _check_n_jobs(n_jobs)
    # n_jobs=1 without an explicit scheduler means "serially, here", whatever the environment
    scheduler = _resolve_scheduler(scheduler) if (scheduler is not None or n_jobs != 1) else None
    pairs = itertools.product(points, seed_list if seed_list is not None else [None])
    jobs = [(index, params, seed) for index, (params, seed) in enumerate(pairs)]
    return jobs, n_jobs, scheduler


def _stream(jobs, func, n_jobs, scheduler, progress, desc, ordered) -> Iterator[tuple[int, list]]:
    """Yield ``(index, rows)`` per finished job; raise :class:`SweepError` on a failure."""
    remote = not (scheduler is None and n_jobs == 1)
    bar = _progress_bar(len(jobs), progress, desc)
    results = _results(jobs, func, n_jobs, scheduler, ordered)
    try:
        for index, ok, payload in results:
            if not ok:
                _raise_failure(jobs, index, payload, remote=remote)
            bar.update(1)
            yield index, payload
    finally:
        with warnings.catch_warnings():
            # stopping early (an error, or the caller closed isweep) is deliberate
            warnings.filterwarnings(
                "ignore", message=r".*tasks.*(executed|cancelled)", category=UserWarning
            )
            results.close()
        bar.close()


def _iterate(jobs, func, n_jobs, scheduler, progress, desc, ordered) -> Iterator[dict]:
    for _, rows in _stream(jobs, func, n_jobs, scheduler, progress, desc, ordered):
        yield from rows


def sweep(
    func: Callable[..., Any],
    grid: Mapping[str, Iterable] | Iterable[Mapping[str, Any]],
    *,
    seeds: Iterable[int] | None = (0,),
    n_jobs: int | None = None,
    scheduler: Any = None,
    progress: bool | None = None,
    desc: str | None = None,
) -> list[dict]:
    """Run ``func(**params, seed=seed)`` over a parameter grid times seeds.

    Parameters
    ----------
    func : callable
        Called with the parameters of one grid point as keyword arguments and ``seed``.
        Returns a dict of metrics (one row) or a list of dicts (several rows, e.g. one per
        iteration or per problem size). Must be picklable for the parallel paths.
    grid : dict of lists, or list of dicts
        See :func:`expand_grid`: a cartesian product (first key slowest) or explicit points.
    seeds : iterable of int, or None
        Seeds for every grid point (innermost loop). ``None`` calls ``func(**params)``
        with no seed and leaves the ``seed`` column out.
    n_jobs : int, optional
        Number of workers. ``None``: all cores locally (every Dask worker on a cluster);
        ``1``: serially in this process, even if ``OPTLAB_DASK_SCHEDULER`` is set (tests,
        debugging); negative values count back from the number of cores, as in joblib.
    scheduler : str or distributed.Client, optional
        Address of an existing Dask scheduler (``"tcp://host:8786"``), or a connected
        ``distributed.Client``. When ``None``, the environment variable
        ``OPTLAB_DASK_SCHEDULER`` is used if set; otherwise jobs run in local processes
        (joblib's loky backend).
    progress : bool, optional
        Show a tqdm bar counting finished jobs. ``None``: only when stderr is a terminal.
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    records : list of dict
        One dict per row: the parameters (grid order), ``seed``, then the metrics as
        ``func`` returned them. Rows are in job order (grid points, then seeds, then the
        rows of each call), whatever order the jobs finished in.

    Raises
    ------
    TypeError
        ``func`` not callable, ``grid``/``seeds``/``n_jobs`` of the wrong type.
    ValueError
        Empty grid or seeds, ``n_jobs=0``, a parameter called ``seed`` with seeds set.
    SweepError
        A job raised: the message names its parameters and seed, ``__cause__`` is the
        original exception. Remaining jobs are cancelled.

    See Also
    --------
    isweep : the same, yielding records as jobs finish.
    save_records, load_records : JSON files for figure scripts.

    Notes
    -----
    The process and Dask paths go through ``joblib.Parallel`` under
    ``joblib.parallel_config(backend=...)`` (benchopt's pattern): loky by default, the
    ``dask`` backend when a scheduler is given, the same code either way. Each worker
    process should keep its BLAS single-threaded when ``n_jobs`` equals the number of
    cores; loky does this by default.

    Examples
    --------
    >>> def work(n, step, seed):
    ...     return {"fun": n * step + seed}
    >>> records = sweep(work, {"n": [1, 2], "step": [0.5]}, seeds=[0, 1], n_jobs=1)
    >>> records[0]
    {'n': 1, 'step': 0.5, 'seed': 0, 'fun': 0.5}
    >>> [r["fun"] for r in records]
    [0.5, 1.5, 1.0, 2.0]
    """
    jobs, n_jobs, scheduler = _prepare(func, grid, seeds, n_jobs, scheduler)
    by_index = dict(_stream(jobs, func, n_jobs, scheduler, progress, desc, ordered=False))
    return [row for index in range(len(jobs)) for row in by_index[index]]


# --------------------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------------------


def records_to_columns(records: Iterable[Mapping[str, Any]]) -> dict[str, list]:
    """Turn rows into columns: ``{key: [value per record]}``, keys in first-seen order,
    ``None`` where a record lacks a key.

    Examples
    --------
    >>> records_to_columns([{"n": 1, "err": 0.5}, {"n": 2, "time": 3.0}])
    {'n': [1, 2], 'err': [0.5, None], 'time': [None, 3.0]}
    """
    records = list(records)
    keys: dict[str, None] = {}
    for r in records:
        for k in r:
            keys.setdefault(k, None)
    return {k: [r.get(k) for r in records] for k in keys}


def _jsonable(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, numbers.Complex):
        raise TypeError(f"{where}: complex values are not JSON-serializable, got {value!r}")
    if isinstance(value, np.generic):
        return _jsonable(value.item(), where)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        from ._backend import to_numpy

        arr = to_numpy(value)
        if arr.dtype.kind == "c":
            raise TypeError(f"{where}: complex arrays are not JSON-serializable")
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{where}: arrays of dtype {arr.dtype} are not JSON-serializable")
        return arr.tolist()
    raise TypeError(f"{where}: cannot write {type(value).__name__} to JSON")


def save_records(
    path: str | os.PathLike,
    records: Iterable[Mapping[str, Any]],
    *,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write sweep records to a JSON file (atomically), for figure scripts.

    NumPy scalars become Python numbers and arrays (of any namespace) nested lists;
    NaN and infinities are written as ``NaN``/``Infinity`` (Python's JSON dialect, read
    back by :func:`load_records`). Parent folders are created.

    Parameters
    ----------
    path : path-like
    records : iterable of dict
    metadata : dict, optional
        Stored alongside (e.g. the paper, the figure, the optlab version).

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = save_records(f"{d}/runs.json", [{"n": np.int64(3), "err": np.float32(0.5)}])
    ...     load_records(p)
    [{'n': 3, 'err': 0.5}]
    """
    path = Path(path)
    rows = [_jsonable(dict(r), f"records[{i}]") for i, r in enumerate(records)]
    payload = {
        "format": _FORMAT,
        "metadata": _jsonable(dict(metadata or {}), "metadata"),
        "records": rows,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=1)
        fh.write("\n")
    os.replace(tmp, path)
    return path


def load_records(path: str | os.PathLike, *, with_metadata: bool = False):
    """Read records written by :func:`save_records` (a bare JSON list of dicts is accepted).

    Returns the list of records, or ``(records, metadata)`` when ``with_metadata``.
    """
    with Path(path).open(encoding="utf-8") as fh:
        payload = json.load(fh)
    if isinstance(payload, list):
        records, metadata = payload, {}
    elif isinstance(payload, dict) and "records" in payload:
        records, metadata = payload["records"], payload.get("metadata", {})
    else:
        raise ValueError(f"{path}: not a sweep records file (expected a 'records' list)")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError(f"{path}: 'records' must be a list of objects")
    return (records, metadata) if with_metadata else records
