"""Tests for optlab.data: folder resolution, IDX/LIBSVM parsing, checksums, downloads.

Real files come from ``$OPTLAB_DATA`` or, when unset, ``../shared/data`` next to the
repository (where CI clones it). Downloads are exercised with a local ``file://``
"server"; the network is never touched.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from optlab import data
from problems._paths import missing_data_reason, shared_data_dir

SHARED = shared_data_dir()
NO_DATA = missing_data_reason()
needs_data = pytest.mark.skipif(
    SHARED is None,
    reason=NO_DATA,
)

MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Never read or write the real user cache; never download by accident."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("OPTLAB_OFFLINE", "1")


# ---------------------------------------------------------------------------- data_home
def test_data_home_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTLAB_DATA", str(tmp_path / "env"))
    assert data.data_home(tmp_path / "arg") == tmp_path / "arg"
    assert data.data_home() == tmp_path / "env"
    monkeypatch.delenv("OPTLAB_DATA")
    assert data.data_home() == tmp_path / "xdg" / "optlab" / "data"
    assert data.user_cache() == tmp_path / "xdg" / "optlab" / "data"


# ---------------------------------------------------------------------------- real files
@needs_data
def test_load_mnist_test_split():
    X, y = data.load_mnist("test", data_home=SHARED, download=False)
    assert X.shape == (10000, 28, 28) and X.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.uint8
    assert_array_equal(np.bincount(y, minlength=10), MNIST_TEST_COUNTS)
    assert X.max() == 255 and X.min() == 0
    # pixels are mostly background; a digit has ink
    assert 0.05 < (X > 0).mean() < 0.35


@needs_data
def test_load_mnist_via_env(monkeypatch):
    monkeypatch.setenv("OPTLAB_DATA", str(SHARED))
    X, y = data.load_mnist(download=False)
    assert X.shape == (10000, 28, 28)
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # the well-known first test labels


@needs_data
def test_load_mushrooms():
    X, y = data.load_libsvm("mushrooms", data_home=SHARED, download=False)
    assert sp.issparse(X) and X.format == "csr"
    assert X.shape == (8124, 112) and X.dtype == np.float64
    assert y.shape == (8124,) and y.dtype == np.float64
    assert set(np.unique(y).tolist()) == {-1.0, 1.0}
    assert int((y == 1).sum()) == 3916 and int((y == -1).sum()) == 4208
    # binary one-hot encoding of categorical attributes: 21 active features per row
    assert set(np.unique(X.data).tolist()) == {1.0}
    assert_array_equal(np.diff(X.indptr), 21)


@needs_data
def test_mushrooms_matches_sklearn_parser():
    skd = pytest.importorskip("sklearn.datasets")
    X, y = data.load_libsvm("mushrooms", data_home=SHARED, download=False)
    X2, y2 = skd.load_svmlight_file(str(SHARED / "mushrooms.libsvm"), n_features=112)
    assert (X != X2).nnz == 0
    assert_array_equal(y, np.where(y2 == 1, 1.0, -1.0))


@needs_data
def test_canonical_names_are_accepted(tmp_path):
    shutil.copy(SHARED / "mnist-t10k-images-idx3-ubyte.gz", tmp_path / "t10k-images-idx3-ubyte.gz")
    shutil.copy(SHARED / "mnist-t10k-labels-idx1-ubyte.gz", tmp_path / "t10k-labels-idx1-ubyte.gz")
    X, y = data.load_mnist(data_home=tmp_path, download=False)
    assert X.shape == (10000, 28, 28)
    shutil.copy(SHARED / "mushrooms.libsvm", tmp_path / "mushrooms")
    A, b = data.load_libsvm(data_home=tmp_path, download=False)
    assert A.shape == (8124, 112)


# ---------------------------------------------------------------------------- checksums
@needs_data
def test_corrupted_copy_raises(tmp_path):
    src = SHARED / "mnist-t10k-labels-idx1-ubyte.gz"
    dst = tmp_path / src.name
    raw = bytearray(src.read_bytes())
    raw[-10] ^= 0xFF
    dst.write_bytes(bytes(raw))
    shutil.copy(SHARED / "mnist-t10k-images-idx3-ubyte.gz", tmp_path)
    with pytest.raises(ValueError, match="checksum mismatch") as info:
        data.load_mnist(data_home=tmp_path, download=False)
    msg = str(info.value)
    assert str(dst) in msg and "ec29112dd5afa0611ce80d1b7f02629c" in msg
    assert data.md5sum(dst) in msg


@needs_data
def test_corrupted_mushrooms_raises(tmp_path):
    text = (SHARED / "mushrooms.libsvm").read_text()
    (tmp_path / "mushrooms.libsvm").write_text(text.replace("1 3:1", "2 3:1", 1))
    with pytest.raises(ValueError, match="2a52251de564d72e772b25211a84f5f8"):
        data.load_libsvm(data_home=tmp_path, download=False)


def test_md5_is_recomputed_after_modification(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"abc")
    assert data.md5sum(p) == "900150983cd24fb0d6963f7d28e17f72"
    p.write_bytes(b"abcd")
    os.utime(p, ns=(1, 10**18))  # a different mtime for sure
    assert data.md5sum(p) == "e2fc714c4727ee9395f324cd2e7f331f"


# ---------------------------------------------------------------------------- missing files
def test_missing_file_no_download(tmp_path, monkeypatch):
    monkeypatch.delenv("OPTLAB_DATA", raising=False)
    with pytest.raises(FileNotFoundError) as info:
        data.load_mnist(data_home=tmp_path, download=False)
    msg = str(info.value)
    assert "download=False" in msg and "OPTLAB_DATA" in msg
    assert str(tmp_path / "mnist-t10k-images-idx3-ubyte.gz") in msg
    assert data.URLS["mnist"] + "t10k-images-idx3-ubyte.gz" in msg


def test_offline_env_blocks_default_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="OPTLAB_OFFLINE"):
        data.load_libsvm(data_home=tmp_path)


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    server = tmp_path / "server"
    server.mkdir()
    monkeypatch.setitem(data.URLS, "libsvm", server.as_uri() + "/")
    with pytest.raises(FileNotFoundError, match="download from file://") as info:
        data.load_libsvm(data_home=tmp_path / "home", download=True)
    assert "OPTLAB_DATA" in str(info.value)
    assert not list((tmp_path / "home").glob("*.part"))


# ---------------------------------------------------------------------------- downloads
@needs_data
def test_download_from_local_server(tmp_path, monkeypatch):
    server = tmp_path / "server"
    server.mkdir()
    shutil.copy(SHARED / "mnist-t10k-images-idx3-ubyte.gz", server / "t10k-images-idx3-ubyte.gz")
    shutil.copy(SHARED / "mnist-t10k-labels-idx1-ubyte.gz", server / "t10k-labels-idx1-ubyte.gz")
    shutil.copy(SHARED / "mushrooms.libsvm", server / "mushrooms")
    monkeypatch.setitem(data.URLS, "mnist", server.as_uri() + "/")
    monkeypatch.setitem(data.URLS, "libsvm", server.as_uri() + "/")
    home = tmp_path / "home"
    X, y = data.load_mnist(data_home=home, download=True)
    assert_array_equal(np.bincount(y), MNIST_TEST_COUNTS)
    assert (home / "mnist-t10k-images-idx3-ubyte.gz").is_file()
    A, b = data.load_libsvm(data_home=home, download=True)
    assert (home / "mushrooms.libsvm").is_file() and A.shape == (8124, 112)
    # second load reads the local copy (the server is gone)
    shutil.rmtree(server)
    X2, _ = data.load_mnist(data_home=home, download=False)
    assert_array_equal(X, X2)


@needs_data
def test_download_falls_back_to_user_cache_when_not_writable(tmp_path, monkeypatch):
    server = tmp_path / "server"
    server.mkdir()
    shutil.copy(SHARED / "mushrooms.libsvm", server / "mushrooms")
    monkeypatch.setitem(data.URLS, "libsvm", server.as_uri() + "/")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, so no folder can be made under it (even as root)")
    X, _ = data.load_libsvm(data_home=blocker / "data", download=True)
    assert X.shape == (8124, 112)
    assert (data.user_cache() / "mushrooms.libsvm").is_file()


def test_download_with_wrong_checksum_is_rejected(tmp_path, monkeypatch):
    server = tmp_path / "server"
    server.mkdir()
    (server / "mushrooms").write_text("1 1:1\n")
    monkeypatch.setitem(data.URLS, "libsvm", server.as_uri() + "/")
    home = tmp_path / "home"
    with pytest.raises(ValueError, match="checksum mismatch"):
        data.load_libsvm(data_home=home, download=True)
    assert not (home / "mushrooms.libsvm").exists()
    assert not list(home.glob("*.part"))


# ---------------------------------------------------------------------------- parsers
def _write_idx(path: Path, arr: np.ndarray, magic: int) -> None:
    header = magic.to_bytes(4, "big") + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.astype(np.uint8).tobytes())


def test_read_idx_roundtrip_and_magic(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    p = tmp_path / "a.gz"
    _write_idx(p, arr, 2051)
    assert_array_equal(data.read_idx(p, magic=2051), arr)
    with pytest.raises(ValueError, match="magic number is 2051, expected 2049"):
        data.read_idx(p, magic=2049)
    bad = tmp_path / "b.gz"
    _write_idx(bad, arr, 0x12345678)
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(bad)


def test_read_idx_truncated_and_not_gzip(tmp_path):
    arr = np.zeros((5, 2, 2), dtype=np.uint8)
    p = tmp_path / "t.gz"
    header = (2051).to_bytes(4, "big") + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    with gzip.open(p, "wb") as fh:
        fh.write(header + arr.tobytes()[:-3])
    with pytest.raises(ValueError, match="payload"):
        data.read_idx(p)
    q = tmp_path / "n.gz"
    q.write_bytes(b"this is not gzip")
    with pytest.raises(ValueError, match="not a readable IDX file"):
        data.read_idx(q)


def test_read_libsvm_small(tmp_path):
    p = tmp_path / "s.libsvm"
    p.write_text("+1 1:0.5 3:2\n-1 2:1.5  # comment\n\n1 3:-1e-3\n")
    X, y = data.read_libsvm(p, n_features=4)
    assert X.shape == (3, 4)
    assert_allclose(X.toarray(), [[0.5, 0, 2, 0], [0, 1.5, 0, 0], [0, 0, -1e-3, 0]])
    assert_allclose(y, [1, -1, 1])
    with pytest.raises(ValueError, match="exceeds n_features"):
        data.read_libsvm(p, n_features=2)
    bad = tmp_path / "bad.libsvm"
    bad.write_text("1 0:1\n")
    with pytest.raises(ValueError, match="indices"):
        data.read_libsvm(bad)
    bad.write_text("1 2 3\n")
    with pytest.raises(ValueError, match="malformed"):
        data.read_libsvm(bad)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="split"):
        data.load_mnist("validation", data_home=tmp_path)
    with pytest.raises(ValueError, match="name"):
        data.load_libsvm("a9a", data_home=tmp_path)
    with pytest.raises(TypeError, match="download"):
        data.load_mnist(data_home=tmp_path, download="yes")
