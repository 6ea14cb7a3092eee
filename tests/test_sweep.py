"""Tests for optlab.sweep: serial, local-process and Dask paths give the same tidy records."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from optlab.sweep import (
    SCHEDULER_ENV,
    SweepError,
    expand_grid,
    isweep,
    load_records,
    records_to_columns,
    save_records,
    sweep,
)

# Job functions live at module level so that worker processes can unpickle them.


def metrics(n, step, seed):
    rng = np.random.default_rng(seed)
    return {"fun": n * step, "noise": float(rng.standard_normal())}


def per_iteration(n, seed):
    return [{"k": k, "err": 2.0 ** (-k) + seed} for k in range(n)]


def fails_at_two(n, seed):
    if n == 2:
        raise ValueError(f"boom at n={n}")
    return {"n_sq": n * n}


def returns_garbage(n, seed):
    return n


def clashes(n, seed):
    return {"n": n + 1}


def no_seed(n):
    return {"double": 2 * n}


def where(n, seed):
    try:
        from distributed import get_worker

        get_worker()
        in_dask = True
    except (ImportError, ValueError):
        in_dask = False
    return {"in_dask": in_dask}


GRID = {"n": [1, 2, 3], "step": [0.5, 2.0]}
SEEDS = [0, 7]


def _expected(grid=GRID, seeds=SEEDS):
    return [{**p, "seed": s, **metrics(**p, seed=s)} for p in expand_grid(grid) for s in seeds]


# --------------------------------------------------------------------------------------
# grid expansion and validation
# --------------------------------------------------------------------------------------


def test_expand_grid():
    assert expand_grid({"a": [1, 2], "b": ("x", "y")}) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]
    assert expand_grid({"a": range(2)}) == [{"a": 0}, {"a": 1}]
    assert expand_grid([{"a": 1}, {"a": 5, "b": 2}]) == [{"a": 1}, {"a": 5, "b": 2}]
    assert expand_grid({}) == [{}]


@pytest.mark.parametrize(
    ("grid", "exc", "match"),
    [
        ([], ValueError, "grid is empty"),
        ({"a": []}, ValueError, r"grid\['a'\] is empty"),
        ({"a": 3}, TypeError, "list of values"),
        ({"a": "abc"}, TypeError, "list of values"),
        ([{"a": 1}, 3], TypeError, r"grid\[1\]"),
        ({"not a name": [1]}, ValueError, "identifiers"),
        (42, TypeError, "dict of lists"),
    ],
)
def test_expand_grid_rejects(grid, exc, match):
    with pytest.raises(exc, match=match):
        expand_grid(grid)


def test_sweep_validates_inputs():
    with pytest.raises(TypeError, match="func"):
        sweep("not callable", GRID, n_jobs=1)
    with pytest.raises(ValueError, match="grid is empty"):
        sweep(metrics, [], n_jobs=1)
    with pytest.raises(ValueError, match="n_jobs"):
        sweep(metrics, GRID, n_jobs=0)
    with pytest.raises(TypeError, match="n_jobs"):
        sweep(metrics, GRID, n_jobs=1.5)
    with pytest.raises(ValueError, match="no worker"):
        sweep(metrics, GRID, n_jobs=-100_000)
    with pytest.raises(TypeError, match="seeds"):
        sweep(metrics, GRID, seeds=3, n_jobs=1)
    with pytest.raises(TypeError, match="seeds"):
        sweep(metrics, GRID, seeds=[0.5], n_jobs=1)
    with pytest.raises(ValueError, match="seeds is empty"):
        sweep(metrics, GRID, seeds=[], n_jobs=1)
    with pytest.raises(ValueError, match="'seed'"):
        sweep(metrics, {"n": [1], "step": [1.0], "seed": [0]}, n_jobs=1)
    with pytest.raises(TypeError, match="scheduler"):
        sweep(metrics, GRID, scheduler=123)
    with pytest.raises(ValueError, match="scheduler"):
        sweep(metrics, GRID, scheduler="  ")
    with pytest.raises(TypeError, match="func"):
        isweep(None, GRID)  # checked when the generator is created, not on first next()


# --------------------------------------------------------------------------------------
# local paths
# --------------------------------------------------------------------------------------


def test_serial_records_are_tidy_and_ordered():
    records = sweep(metrics, GRID, seeds=SEEDS, n_jobs=1)
    assert records == _expected()
    assert list(records[0]) == ["n", "step", "seed", "fun", "noise"]
    assert [(r["n"], r["step"], r["seed"]) for r in records[:3]] == [
        (1, 0.5, 0),
        (1, 0.5, 7),
        (1, 2.0, 0),
    ]


def test_seeds_propagate():
    records = sweep(metrics, {"n": [1], "step": [1.0]}, seeds=range(4), n_jobs=1)
    assert [r["seed"] for r in records] == [0, 1, 2, 3]
    noise = [r["noise"] for r in records]
    assert_allclose(noise, [np.random.default_rng(s).standard_normal() for s in range(4)])
    assert len(set(noise)) == 4


def test_processes_match_serial():
    serial = sweep(metrics, GRID, seeds=SEEDS, n_jobs=1)
    assert sweep(metrics, GRID, seeds=SEEDS, n_jobs=2) == serial
    assert sweep(metrics, GRID, seeds=SEEDS) == serial  # n_jobs=None: all cores


def test_list_returning_func_gives_several_rows():
    records = sweep(per_iteration, {"n": [2, 3]}, seeds=[0, 1], n_jobs=2)
    assert len(records) == (2 + 3) * 2
    assert records[:3] == [
        {"n": 2, "seed": 0, "k": 0, "err": 1.0},
        {"n": 2, "seed": 0, "k": 1, "err": 0.5},
        {"n": 2, "seed": 1, "k": 0, "err": 2.0},
    ]
    assert records == sweep(per_iteration, {"n": [2, 3]}, seeds=[0, 1], n_jobs=1)


def test_explicit_points_and_no_seed():
    records = sweep(no_seed, [{"n": 4}, {"n": 1}], seeds=None, n_jobs=1)
    assert records == [{"n": 4, "double": 8}, {"n": 1, "double": 2}]


def test_metric_equal_to_parameter_is_allowed():
    assert sweep(lambda n, seed: {"n": n, "x": 1}, {"n": [3]}, n_jobs=1) == [
        {"n": 3, "seed": 0, "x": 1}
    ]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_error_names_the_params(n_jobs):
    with pytest.raises(
        SweepError, match=r"params=\{'n': 2\}, seed=7: ValueError: boom at n=2"
    ) as info:
        sweep(fails_at_two, {"n": [1, 2, 3]}, seeds=[7], n_jobs=n_jobs)
    err = info.value
    assert (err.params, err.seed, err.index) == ({"n": 2}, 7, 1)
    assert isinstance(err.__cause__, ValueError)
    if n_jobs != 1:  # the worker's traceback is chained for process jobs
        assert "fails_at_two" in str(err.__cause__.__cause__)


@pytest.mark.parametrize(
    ("func", "cause", "match"),
    [(returns_garbage, TypeError, "dict of metrics"), (clashes, ValueError, "clashes")],
)
def test_bad_returns_are_job_errors(func, cause, match):
    with pytest.raises(SweepError, match=match) as info:
        sweep(func, {"n": [1]}, n_jobs=1)
    assert isinstance(info.value.__cause__, cause)


def test_isweep_unordered_and_ordered():
    serial = sweep(metrics, GRID, seeds=SEEDS, n_jobs=1)
    key = lambda r: (r["n"], r["step"], r["seed"])  # noqa: E731
    unordered = list(isweep(metrics, GRID, seeds=SEEDS, n_jobs=2))
    assert sorted(unordered, key=key) == sorted(serial, key=key)
    assert list(isweep(metrics, GRID, seeds=SEEDS, n_jobs=2, ordered=True)) == serial
    assert list(isweep(metrics, GRID, seeds=SEEDS, n_jobs=1)) == serial


def test_isweep_can_stop_early():
    gen = isweep(per_iteration, {"n": [3, 3, 3]}, n_jobs=1)
    assert next(gen) == {"n": 3, "seed": 0, "k": 0, "err": 1.0}
    gen.close()


def test_progress_bar(capsys):
    sweep(metrics, GRID, seeds=SEEDS, n_jobs=1, progress=True, desc="demo")
    err = capsys.readouterr().err
    assert "demo" in err and "12/12" in err and "job" in err
    sweep(metrics, GRID, seeds=SEEDS, n_jobs=1, progress=False)
    sweep(metrics, GRID, seeds=SEEDS, n_jobs=1)  # auto: stderr is not a terminal here
    assert capsys.readouterr().err == ""


def test_serial_ignores_scheduler_env(monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://127.0.0.1:1")  # nothing listens there
    assert sweep(metrics, GRID, seeds=SEEDS, n_jobs=1) == _expected()


# --------------------------------------------------------------------------------------
# records I/O
# --------------------------------------------------------------------------------------


def test_records_to_columns():
    cols = records_to_columns([{"n": 1, "err": 0.5}, {"n": 2, "t": 3.0}])
    assert cols == {"n": [1, 2], "err": [0.5, None], "t": [None, 3.0]}
    assert records_to_columns([]) == {}


def test_save_load_roundtrip(tmp_path):
    import array_api_strict as xs

    records = [
        {
            "n": np.int64(3),
            "err": np.float32(0.25),
            "hist": np.array([1.0, 0.5]),
            "strict": xs.asarray([1, 2]),
            "flag": np.bool_(True),
            "nan": float("nan"),
            "nested": {"a": (1, np.float64(2.0))},
            "name": "gd",
            "none": None,
        }
    ]
    path = save_records(tmp_path / "sub" / "runs.json", records, metadata={"figure": "fig1"})
    assert path.exists() and not (tmp_path / "sub" / "runs.json.tmp").exists()
    back, meta = load_records(path, with_metadata=True)
    assert meta == {"figure": "fig1"}
    (r,) = back
    assert r["n"] == 3 and isinstance(r["n"], int)
    assert r["err"] == 0.25 and r["hist"] == [1.0, 0.5] and r["strict"] == [1, 2]
    assert r["flag"] is True and math.isnan(r["nan"])
    assert r["nested"] == {"a": [1, 2.0]} and r["name"] == "gd" and r["none"] is None
    assert json.loads(path.read_text().replace("NaN", "null"))["format"] == "optlab.sweep/1"


def test_save_load_sweep_records(tmp_path):
    records = sweep(metrics, GRID, seeds=SEEDS, n_jobs=1)
    assert load_records(save_records(tmp_path / "r.json", records)) == records


def test_load_records_formats_and_errors(tmp_path):
    bare = tmp_path / "bare.json"
    bare.write_text('[{"a": 1}]')
    assert load_records(bare) == [{"a": 1}]
    bad = tmp_path / "bad.json"
    bad.write_text('{"rows": []}')
    with pytest.raises(ValueError, match="records"):
        load_records(bad)
    bad.write_text('{"records": [1, 2]}')
    with pytest.raises(ValueError, match="list of objects"):
        load_records(bad)
    with pytest.raises(TypeError, match=r"records\[0\]\['x'\]"):
        save_records(tmp_path / "x.json", [{"x": object()}])
    with pytest.raises(TypeError, match="complex"):
        save_records(tmp_path / "x.json", [{"x": 1j}])


# --------------------------------------------------------------------------------------
# Dask
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.mark.dist
def test_dask_matches_local(dask_cluster):
    serial = sweep(metrics, GRID, seeds=SEEDS, n_jobs=1)
    assert sweep(metrics, GRID, seeds=SEEDS, scheduler=dask_cluster.scheduler_address) == serial
    rows = sweep(per_iteration, {"n": [2, 3]}, scheduler=dask_cluster.scheduler_address)
    assert rows == sweep(per_iteration, {"n": [2, 3]}, n_jobs=1)
    ran = sweep(where, {"n": [1, 2, 3]}, scheduler=dask_cluster.scheduler_address)
    assert all(r["in_dask"] for r in ran)
    assert not any(r["in_dask"] for r in sweep(where, {"n": [1]}, n_jobs=1))


@pytest.mark.dist
def test_dask_with_client_and_isweep(dask_cluster):
    from distributed import Client

    serial = sweep(metrics, GRID, seeds=SEEDS, n_jobs=1)
    with Client(dask_cluster.scheduler_address) as client:
        assert sweep(metrics, GRID, seeds=SEEDS, scheduler=client) == serial
        key = lambda r: (r["n"], r["step"], r["seed"])  # noqa: E731
        got = list(isweep(metrics, GRID, seeds=SEEDS, scheduler=client))
        assert sorted(got, key=key) == sorted(serial, key=key)
        assert client.status == "running"  # a client we were given is left open


@pytest.mark.dist
def test_dask_env_variable_is_honoured(dask_cluster, monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, dask_cluster.scheduler_address)
    ran = sweep(where, {"n": [1, 2]}, seeds=SEEDS)
    assert len(ran) == 4 and all(r["in_dask"] for r in ran)
    assert sweep(metrics, GRID, seeds=SEEDS) == _expected()


@pytest.mark.dist
def test_dask_error_names_the_params(dask_cluster):
    with pytest.raises(SweepError, match=r"params=\{'n': 2\}, seed=0") as info:
        sweep(fails_at_two, {"n": [1, 2, 3]}, scheduler=dask_cluster.scheduler_address)
    assert isinstance(info.value.__cause__, ValueError)
