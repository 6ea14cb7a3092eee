"""Input validation helpers: each error names the argument."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from optlab import _validate as v


def test_check_callable():
    assert v.check_callable(len, "f") is len
    assert v.check_callable(None, "cb", optional=True) is None
    with pytest.raises(TypeError, match="grad must be callable"):
        v.check_callable(3, "grad")


@pytest.mark.parametrize("bad", [0, -1.0, float("inf")])
def test_check_positive_rejects(bad):
    with pytest.raises(ValueError, match="step"):
        v.check_positive(bad, "step")


def test_check_positive_types():
    assert v.check_positive(np.float64(2.0), "L") == 2.0
    assert v.check_positive(np.asarray(2.0), "L") == 2.0
    with pytest.raises(TypeError, match="tol"):
        v.check_positive("1e-3", "tol")
    with pytest.raises(TypeError, match="tol"):
        v.check_positive(True, "tol")
    with pytest.raises(ValueError, match="NaN"):
        v.check_positive(float("nan"), "tol")


def test_check_int():
    assert v.check_int(5, "max_iter") == 5
    assert v.check_int(np.int64(3), "max_iter") == 3
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        v.check_int(0, "max_iter")
    with pytest.raises(TypeError, match="max_iter"):
        v.check_int(2.0, "max_iter")


def test_check_array():
    out = v.check_array([1, 2, 3], "x0", ndim=1)
    assert out.dtype == np.float64
    assert_array_equal(out, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="x0 contains NaN or inf"):
        v.check_array([1.0, np.nan], "x0")
    with pytest.raises(ValueError, match="A must be 2-D"):
        v.check_array(np.ones(3), "A", ndim=2)
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        v.check_array(np.ones(3), "b", shape=(4,))
    with pytest.raises(ValueError, match="empty"):
        v.check_array(np.ones(0), "x0")
    with pytest.raises(TypeError, match="x0 must be a numeric array"):
        v.check_array(np.array(["a"]), "x0")
    assert v.check_array(np.ones((2, 3)), "A", shape=(None, 3)).shape == (2, 3)


def test_check_array_keeps_namespace():
    xp = pytest.importorskip("array_api_strict")
    a = xp.asarray([1.0, 2.0], dtype=xp.float32)
    out = v.check_array(a, "x0")
    assert out.dtype == xp.float32 and type(out) is type(a)
    with pytest.raises(ValueError, match="x0 contains NaN"):
        v.check_array(xp.asarray([xp.nan]), "x0")


def test_check_choice_and_nonnegative():
    assert v.check_choice("a", "mode", ("a", "b")) == "a"
    with pytest.raises(ValueError, match="mode must be one of"):
        v.check_choice("c", "mode", ("a", "b"))
    assert v.check_nonnegative(0, "mu") == 0.0
    with pytest.raises(ValueError, match="mu"):
        v.check_nonnegative(-1e-3, "mu")
