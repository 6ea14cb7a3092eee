"""Loaders for the real data sets the papers use: MNIST (IDX) and LIBSVM files.

Files are looked up in a *data folder* and verified against their published MD5
checksum on every load. When a file is missing and downloading is allowed, the
canonical public copy is fetched with :mod:`urllib` and verified before use.

Data folder resolution (:func:`data_home`):

1. the ``data_home`` argument,
2. the ``OPTLAB_DATA`` environment variable (the Makefile points it at
   ``../shared/data`` when that folder exists),
3. the user cache, ``$XDG_CACHE_HOME/optlab/data`` (default ``~/.cache/optlab/data``).

Reading also looks in the user cache when the file is not in the data folder,
and downloads go to the user cache when the data folder is read-only.

Downloading happens when a file is missing and ``download`` is ``True``, or
``None`` (the default) and ``OPTLAB_OFFLINE`` is not set to a true value
(``1``, ``true``, ``yes``). Base URLs live in :data:`URLS` and may be replaced
(e.g. by a ``file://`` URL for tests or a local mirror).

=================  =======================================  =================================
data set           files (first name is the one written)    source
=================  =======================================  =================================
MNIST test split   ``mnist-t10k-images-idx3-ubyte.gz``,     ``URLS["mnist"]`` +
                   ``mnist-t10k-labels-idx1-ubyte.gz``      ``t10k-images-idx3-ubyte.gz`` ...
                   (canonical ``t10k-*`` names accepted)
MNIST train split  ``train-images-idx3-ubyte.gz``,          ``URLS["mnist"]`` +
                   ``train-labels-idx1-ubyte.gz``           ``train-images-idx3-ubyte.gz`` ...
LIBSVM mushrooms   ``mushrooms.libsvm`` (``mushrooms``)     ``URLS["libsvm"]`` + ``mushrooms``
=================  =======================================  =================================

Examples
--------
>>> import os
>>> from optlab.data import data_home
>>> str(data_home("/tmp/somewhere"))
'/tmp/somewhere'
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = [
    "URLS",
    "DATA_ENV",
    "data_home",
    "user_cache",
    "load_mnist",
    "load_libsvm",
    "read_idx",
    "read_libsvm",
    "md5sum",
    "fetch",
]

logger = logging.getLogger("optlab")

DATA_ENV = "OPTLAB_DATA"
OFFLINE_ENV = "OPTLAB_OFFLINE"

#: Base URLs of the canonical copies; replace an entry to use a mirror (or a
#: ``file://`` folder in tests). A base must end with ``/``.
URLS: dict[str, str] = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "libsvm": "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary/",
}

#: Seconds before a download attempt gives up.
DOWNLOAD_TIMEOUT = 60.0


@dataclass(frozen=True)
class _FileSpec:
    names: tuple[str, ...]  # accepted local names; names[0] is the one written on download
    source: str  # key into URLS
    remote: str  # file name under the base URL
    md5: str


# Published checksums (the test-split and mushrooms ones are those of
# shared/data/README.md; the train-split ones are the widely published MNIST
# MD5s, as listed e.g. by torchvision).
_FILES: dict[str, _FileSpec] = {
    "mnist-test-images": _FileSpec(
        ("mnist-t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"),
        "mnist",
        "t10k-images-idx3-ubyte.gz",
        "9fb629c4189551a2d022fa330f9573f3",
    ),
    "mnist-test-labels": _FileSpec(
        ("mnist-t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
        "mnist",
        "t10k-labels-idx1-ubyte.gz",
        "ec29112dd5afa0611ce80d1b7f02629c",
    ),
    "mnist-train-images": _FileSpec(
        ("train-images-idx3-ubyte.gz", "mnist-train-images-idx3-ubyte.gz"),
        "mnist",
        "train-images-idx3-ubyte.gz",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    "mnist-train-labels": _FileSpec(
        ("train-labels-idx1-ubyte.gz", "mnist-train-labels-idx1-ubyte.gz"),
        "mnist",
        "train-labels-idx1-ubyte.gz",
        "d53e105ee54ea40749a09fcbcd1e9432",
    ),
    "mushrooms": _FileSpec(
        ("mushrooms.libsvm", "mushrooms"),
        "libsvm",
        "mushrooms",
        "2a52251de564d72e772b25211a84f5f8",
    ),
}

_MNIST_SHAPES = {"test": 10000, "train": 60000}

# LIBSVM sets: file key, n_samples, n_features, label map (raw label -> +-1).
_LIBSVM: dict[str, dict] = {
    "mushrooms": {
        "file": "mushrooms",
        "n_samples": 8124,
        "n_features": 112,
        "labels": {1.0: 1.0, 2.0: -1.0},
    },
}

_MD5_CACHE: dict[tuple[str, int, int], str] = {}


# ---------------------------------------------------------------------------- folders
def user_cache() -> Path:
    """The per-user download folder: ``$XDG_CACHE_HOME/optlab/data`` or ``~/.cache/optlab/data``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "optlab" / "data"


def data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Resolve the data folder: argument, else ``$OPTLAB_DATA``, else :func:`user_cache`.

    The folder is not created here (downloads create it when needed).

    Parameters
    ----------
    data_home : path-like, optional
        Explicit folder; wins over the environment.

    Returns
    -------
    pathlib.Path
    """
    if data_home is not None:
        return Path(os.fspath(data_home)).expanduser()
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    return user_cache()


_resolve_home = data_home


def _search_dirs(home: Path) -> list[Path]:
    dirs = [home]
    uc = user_cache()
    if uc.resolve() != home.resolve():
        dirs.append(uc)
    return dirs


def _download_allowed(download: bool | None) -> bool:
    if download is None:
        return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("1", "true", "yes", "on")
    if not isinstance(download, bool):
        raise TypeError(f"download must be True, False or None, got {download!r}")
    return download


# ---------------------------------------------------------------------------- checksums
def md5sum(path: str | os.PathLike) -> str:
    """MD5 hex digest of a file (memoised in-process by path, size and mtime)."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    hit = _MD5_CACHE.get(key)
    if hit is not None:
        return hit
    h = hashlib.md5()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    _MD5_CACHE[key] = digest
    return digest


def _verify(path: Path, expected: str) -> None:
    got = md5sum(path)
    if got != expected:
        raise ValueError(
            f"checksum mismatch for {path}: md5 is {got}, expected {expected}. "
            "The file is corrupt or not the canonical copy; delete it to download it again."
        )


# ---------------------------------------------------------------------------- download
def fetch(
    key: str, *, data_home: str | os.PathLike | None = None, download: bool | None = None
) -> Path:
    """Path of a verified data file, downloading it when missing (and allowed).

    Parameters
    ----------
    key : str
        One of ``"mnist-test-images"``, ``"mnist-test-labels"``,
        ``"mnist-train-images"``, ``"mnist-train-labels"``, ``"mushrooms"``.
    data_home : path-like, optional
        See :func:`data_home`.
    download : bool or None
        ``False`` never downloads; ``True`` downloads a missing file; ``None``
        downloads unless ``OPTLAB_OFFLINE`` is set.

    Raises
    ------
    FileNotFoundError
        The file is missing and could not be (or may not be) downloaded; the
        message lists where it looked, the environment variable and the URL.
    ValueError
        The file's MD5 differs from the published one.
    """
    if key not in _FILES:
        raise ValueError(f"key must be one of {sorted(_FILES)}, got {key!r}")
    spec = _FILES[key]
    dirs = _search_dirs(_resolve_home(data_home))
    for d in dirs:
        for name in spec.names:
            p = d / name
            if p.is_file():
                _verify(p, spec.md5)
                return p

    url = URLS[spec.source] + spec.remote
    looked = ", ".join(str(d / n) for d in dirs for n in spec.names)
    hint = (
        f"Looked for {looked}. Set {DATA_ENV} (or pass data_home=) to the folder holding the "
        f"file, or allow a download from {url}."
    )
    if not _download_allowed(download):
        why = "download=False" if download is False else f"{OFFLINE_ENV} is set"
        raise FileNotFoundError(f"data file {spec.names[0]!r} not found ({why}). {hint}")
    folder = next((d for d in dirs if _writable(d)), None)
    if folder is None:
        raise FileNotFoundError(
            f"data file {spec.names[0]!r} not found and no writable folder to download it into "
            f"({', '.join(map(str, dirs))}). {hint}"
        )
    target = folder / spec.names[0]
    try:
        _download(url, target, spec.md5)
    except (OSError, urllib.error.URLError) as exc:
        raise FileNotFoundError(
            f"data file {spec.names[0]!r} not found and the download from {url} failed ({exc}). {hint}"
        ) from exc
    return target


def _writable(d: Path) -> bool:
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(d, os.W_OK | os.X_OK)


def _download(url: str, target: Path, md5: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    try:
        logger.info("optlab.data: downloading %s -> %s", url, target)
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as resp,
        ):
            shutil.copyfileobj(resp, out)
        got = md5sum(tmp)
        if got != md5:
            raise ValueError(
                f"checksum mismatch for {url} (downloaded to {target}): md5 is {got}, "
                f"expected {md5}; the file was not kept."
            )
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ---------------------------------------------------------------------------- parsers
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike, *, magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed when the name ends in ``.gz``).

    The IDX header is a big-endian 32-bit magic number ``0x0000TTNN`` (``TT``
    the element type, ``NN`` the number of dimensions; MNIST images are 2051,
    labels 2049), then ``NN`` big-endian 32-bit sizes, then the data.

    Parameters
    ----------
    path : path-like
    magic : int, optional
        Required magic number; a different one raises ``ValueError``.

    Returns
    -------
    numpy.ndarray
        In the file's element type (native byte order), with the header's shape.

    Raises
    ------
    ValueError
        Bad gzip stream, wrong magic number or a size that does not match the header.
    """
    p = Path(path)
    try:
        if p.suffix == ".gz":
            with gzip.open(p, "rb") as fh:
                raw = fh.read()
        else:
            raw = p.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{p}: not a readable IDX file ({exc})") from exc
    if len(raw) < 4:
        raise ValueError(f"{p}: not an IDX file (only {len(raw)} bytes)")
    m = int.from_bytes(raw[:4], "big")
    if magic is not None and m != magic:
        raise ValueError(f"{p}: IDX magic number is {m}, expected {magic}")
    if m >> 16 != 0 or (m >> 8) & 0xFF not in _IDX_DTYPES:
        raise ValueError(f"{p}: not an IDX file (magic number {m})")
    ndim = m & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{p}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[(m >> 8) & 0xFF])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{p}: IDX payload has {len(raw) - header} bytes, the header {shape} needs {expected}"
        )
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def read_libsvm(
    path: str | os.PathLike, *, n_features: int | None = None
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Parse a LIBSVM / svmlight text file into a CSR matrix and raw labels.

    Each non-empty line is ``label index:value index:value ...`` with 1-based
    increasing indices; ``#`` starts a comment. Pure NumPy/SciPy (no
    scikit-learn needed).

    Parameters
    ----------
    path : path-like
    n_features : int, optional
        Number of columns; default the largest index found.

    Returns
    -------
    X : scipy.sparse.csr_matrix of float64, shape (n_samples, n_features)
    y : numpy.ndarray of float64, the labels as written in the file

    Raises
    ------
    ValueError
        A malformed line, an index < 1 or > ``n_features``.
    """
    p = Path(path)
    labels: list[str] = []
    counts: list[int] = []
    pairs: list[str] = []
    with open(p, encoding="ascii", errors="strict") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.split("#", 1)[0]
            parts = line.split()
            if not parts:
                continue
            feats = parts[1:]
            if any(":" not in t for t in feats) or ":" in parts[0]:
                raise ValueError(f"{p}, line {lineno}: malformed LIBSVM line")
            if feats and feats[0].startswith("qid:"):
                raise ValueError(f"{p}, line {lineno}: qid fields are not supported")
            labels.append(parts[0])
            counts.append(len(feats))
            pairs.extend(feats)
    try:
        y = np.array(labels, dtype=np.float64)
        flat = np.array(" ".join(pairs).replace(":", " ").split(), dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"{p}: malformed LIBSVM file ({exc})") from exc
    flat = flat.reshape(-1, 2)
    idx, val = flat[:, 0], flat[:, 1]
    if idx.size and (np.any(idx != np.round(idx)) or idx.min() < 1):
        raise ValueError(f"{p}: feature indices must be integers >= 1")
    cols = idx.astype(np.int64) - 1
    d = int(cols.max()) + 1 if cols.size else 0
    if n_features is not None:
        if d > n_features:
            raise ValueError(f"{p}: feature index {d} exceeds n_features={n_features}")
        d = n_features
    indptr = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
    X = sp.csr_matrix((val, cols, indptr), shape=(len(labels), d))
    X.sum_duplicates()
    X.sort_indices()
    return X, y


# ---------------------------------------------------------------------------- loaders
def load_mnist(
    split: str = "test",
    *,
    data_home: str | os.PathLike | None = None,
    download: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits from the IDX files, checksum-verified.

    Parameters
    ----------
    split : {"test", "train"}
        ``test``: 10,000 images (the copy beside the project); ``train``:
        60,000 images (download only).
    data_home : path-like, optional
        See :func:`data_home`.
    download : bool or None
        See :func:`fetch`.

    Returns
    -------
    images : numpy.ndarray of uint8, shape (n, 28, 28)
    labels : numpy.ndarray of uint8, shape (n,), digits 0..9

    Raises
    ------
    FileNotFoundError, ValueError
        See :func:`fetch` and :func:`read_idx`.

    Examples
    --------
    >>> from optlab.data import load_mnist
    >>> X, y = load_mnist("test", download=False)  # doctest: +SKIP
    >>> X.shape, y.shape  # doctest: +SKIP
    ((10000, 28, 28), (10000,))
    """
    if split not in _MNIST_SHAPES:
        raise ValueError(f"split must be one of {sorted(_MNIST_SHAPES)}, got {split!r}")
    img_path = fetch(f"mnist-{split}-images", data_home=data_home, download=download)
    lab_path = fetch(f"mnist-{split}-labels", data_home=data_home, download=download)
    images = read_idx(img_path, magic=2051)
    labels = read_idx(lab_path, magic=2049)
    n = _MNIST_SHAPES[split]
    if images.shape != (n, 28, 28) or images.dtype != np.uint8:
        raise ValueError(
            f"{img_path}: expected uint8 images of shape {(n, 28, 28)}, got {images.shape}"
        )
    if labels.shape != (n,) or labels.dtype != np.uint8:
        raise ValueError(f"{lab_path}: expected uint8 labels of shape {(n,)}, got {labels.shape}")
    return images, labels


def load_libsvm(
    name: str = "mushrooms",
    *,
    data_home: str | os.PathLike | None = None,
    download: bool | None = None,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """A LIBSVM binary classification set, checksum-verified, labels in {+1, -1}.

    ``mushrooms`` (Chang & Lin, LIBSVM data sets; from the UCI Mushroom data):
    8,124 samples, 112 binary features, raw labels {1, 2}, mapped as
    **1 -> +1, 2 -> -1** (3,916 positives, 4,208 negatives).

    Parameters
    ----------
    name : {"mushrooms"}
    data_home : path-like, optional
        See :func:`data_home`.
    download : bool or None
        See :func:`fetch`.

    Returns
    -------
    X : scipy.sparse.csr_matrix of float64, shape (n_samples, n_features)
    y : numpy.ndarray of float64 in {+1.0, -1.0}

    Examples
    --------
    >>> from optlab.data import load_libsvm
    >>> X, y = load_libsvm("mushrooms", download=False)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (8124, 112)
    """
    if name not in _LIBSVM:
        raise ValueError(f"name must be one of {sorted(_LIBSVM)}, got {name!r}")
    info = _LIBSVM[name]
    path = fetch(info["file"], data_home=data_home, download=download)
    X, raw = read_libsvm(path, n_features=info["n_features"])
    if X.shape != (info["n_samples"], info["n_features"]):
        raise ValueError(
            f"{path}: expected {info['n_samples']} x {info['n_features']}, got {X.shape}"
        )
    y = np.empty_like(raw)
    seen = np.zeros(raw.shape, dtype=bool)
    for k, v in info["labels"].items():
        mask = raw == k
        y[mask] = v
        seen |= mask
    if not seen.all():
        bad = np.unique(raw[~seen])
        raise ValueError(
            f"{path}: unexpected labels {bad.tolist()} (known: {list(info['labels'])})"
        )
    return X, y
