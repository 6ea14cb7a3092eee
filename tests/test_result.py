"""Result / History / Monitor: the contract every solver builds on."""

import logging
import math

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy.optimize import OptimizeResult

from optlab.result import History, Monitor, Result, Status


def test_result_is_optimize_result_with_attribute_access():
    r = Result(x=np.zeros(2), fun=1.5, nit=3, success=True, status=0, message="ok")
    assert isinstance(r, OptimizeResult)
    assert isinstance(r, dict)
    assert r.fun == r["fun"] == 1.5
    assert r.nit == 3
    assert set(r.history) == {"iter", "time"}
    with pytest.raises(AttributeError):
        _ = r.not_a_field


def test_history_equal_length_and_nan_fill():
    h = History()
    h.record(0, fun=3.0)
    h.record(1, fun=2.0, grad_norm=0.5)  # new key: earlier rows NaN-filled
    h.record(2, grad_norm=0.25)  # missing key: NaN
    d = h.as_dict()
    assert {len(v) for v in d.values()} == {3}
    assert_array_equal(d["iter"], [0, 1, 2])
    assert d["iter"].dtype == np.int64
    assert math.isnan(d["grad_norm"][0]) and math.isnan(d["fun"][2])
    assert np.all(np.diff(d["time"]) >= 0)


def test_history_disabled_records_nothing():
    h = History(enabled=False)
    h.record(0, fun=1.0)
    assert len(h) == 0
    assert set(h.as_dict()) == {"iter", "time"}


def test_monitor_finish_status_and_messages():
    mon = Monitor("demo")
    mon.record(0, fun=1.0)
    res = mon.finish(x=1.0, fun=1.0, nit=7, status=Status.MAX_ITER, nfev=8)
    assert not res.success and res.status == 1
    assert "7 iterations" in res.message
    assert res.nfev == 8
    assert Monitor("d").finish(x=0, fun=0.0, nit=0, status=Status.CONVERGED).success


def test_monitor_nonfinite_names_value_and_iteration():
    mon = Monitor("demo")
    assert mon.nonfinite(3, x=np.ones(3), fun=1.0) is None
    msg = mon.nonfinite(4, x=np.array([1.0, np.nan]), fun=1.0)
    assert msg is not None and "x" in msg and "iteration 4" in msg
    assert "fun" in mon.nonfinite(5, fun=float("inf"))


def test_monitor_nonfinite_on_array_api_strict():
    xp = pytest.importorskip("array_api_strict")
    mon = Monitor("demo")
    assert mon.nonfinite(0, x=xp.asarray([1.0, 2.0])) is None
    assert mon.nonfinite(0, x=xp.asarray([1.0, xp.inf])) is not None


def test_monitor_callback_can_stop():
    seen = []

    def cb(r):
        seen.append((r.nit, r.fun))
        return r.nit >= 2

    mon = Monitor("demo", callback=cb)
    assert not mon.stop_requested(0.0, 1.0, 1)
    assert mon.stop_requested(0.0, 0.5, 2)
    assert seen == [(1, 1.0), (2, 0.5)]


def test_monitor_logs_only_when_verbose(caplog):
    with caplog.at_level(logging.INFO, logger="optlab"):
        Monitor("quiet").record(0, fun=1.0)
        assert not caplog.records
        Monitor("loud", verbose=2).record(0, fun=1.0)
    assert any("loud" in r.getMessage() for r in caplog.records)
