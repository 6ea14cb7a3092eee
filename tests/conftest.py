"""Shared test fixtures: the ``xp`` array-namespace fixture and the ``gpu`` marker gate.

``xp`` runs a test on NumPy (``array_api_compat.numpy``, the namespace that
``optlab._backend.get_namespace`` returns for NumPy arrays), on ``array_api_strict``
(catches non-standard calls, NumPy-scalar leaks and hidden host transfers on a CPU),
and on CuPy. The CuPy case carries the ``gpu`` marker and is skipped, with the
reason, where CuPy or a CUDA device is missing (this project's own machines have none).
"""

from __future__ import annotations

import functools
import warnings

import pytest

# Newest array API versions first; the first one the installed array_api_strict accepts wins.
_STRICT_API_VERSIONS = ("2025.12", "2024.12", "2023.12")


@functools.cache
def gpu_unavailable_reason() -> str | None:
    """``None`` when CuPy imports and sees a CUDA device, else why not."""
    try:
        import cupy
    except Exception as exc:  # ImportError, or a broken CUDA install
        return f"needs CuPy and a CUDA GPU: cupy cannot be imported ({type(exc).__name__}: {exc})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # pragma: no cover - only where cupy is installed
        return f"needs a CUDA GPU: the CUDA runtime reports none ({type(exc).__name__}: {exc})"
    if count < 1:  # pragma: no cover
        return "needs a CUDA GPU: cupy sees 0 devices"
    return None  # pragma: no cover


def pytest_collection_modifyitems(config, items):
    """Skip every test marked ``gpu`` (directly or through the ``xp`` cupy case) when
    CuPy or a CUDA device is absent."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items:
        return
    reason = gpu_unavailable_reason()
    if reason is None:  # pragma: no cover
        return
    skip = pytest.mark.skip(reason=reason)
    for item in gpu_items:
        item.add_marker(skip)


@functools.cache
def _array_api_strict():
    import array_api_strict

    for version in _STRICT_API_VERSIONS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # draft-version warnings of older releases
                array_api_strict.set_array_api_strict_flags(api_version=version)
        except ValueError:
            continue
        break
    return array_api_strict


def load_namespace(name: str):
    """The array namespace called ``name`` ("numpy", "array_api_strict", "cupy"), or skip."""
    if name == "numpy":
        import array_api_compat.numpy

        return array_api_compat.numpy
    if name == "array_api_strict":
        pytest.importorskip("array_api_strict", reason="array_api_strict is not installed")
        return _array_api_strict()
    if name == "cupy":  # pragma: no cover - only reached where a GPU exists
        reason = gpu_unavailable_reason()
        if reason is not None:
            pytest.skip(reason)
        pytest.importorskip("cupy")
        import array_api_compat.cupy

        return array_api_compat.cupy
    raise ValueError(f"unknown array namespace {name!r}")


@pytest.fixture(params=["numpy", "array_api_strict", pytest.param("cupy", marks=pytest.mark.gpu)])
def xp(request):
    """Array namespace to run a test in: NumPy, array_api_strict, CuPy (``gpu``)."""
    return load_namespace(request.param)
