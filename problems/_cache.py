"""On-disk cache for solutions computed by an independent solver.

Solutions that need an iterative solver (cvxpy + Clarabel, scipy) are computed
once and stored as ``.npz`` under ``<repo>/.cache/problems/`` (git-ignored), or
under ``$OPTLAB_CACHE`` when that variable is set. The key is the SHA-256 of the
generator name, a recipe version, the parameters and the bytes (with dtype and
shape) of every data array, so any change to the data or the parameters gives a
new entry. A cache that cannot be read or written is ignored (the solution is
recomputed), never an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["cache_dir", "cache_key", "cached"]

logger = logging.getLogger("optlab")

CACHE_ENV = "OPTLAB_CACHE"
REPO = Path(__file__).resolve().parents[1]


def cache_dir() -> Path:
    """``$OPTLAB_CACHE`` when set, else ``<repo>/.cache/problems``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else REPO / ".cache" / "problems"


def _update_array(h: Any, name: str, a: Any) -> None:
    if sp.issparse(a):
        a = sp.csr_matrix(a, copy=True)
        a.sum_duplicates()
        a.sort_indices()
        h.update(f"{name}:sparse:{a.shape}".encode())
        for part in (a.data, a.indices.astype(np.int64), a.indptr.astype(np.int64)):
            _update_array(h, name, part)
        return
    arr = np.ascontiguousarray(np.asarray(a))
    h.update(f"{name}:{arr.dtype.str}:{arr.shape}".encode())
    h.update(arr.tobytes())


def cache_key(name: str, params: Mapping[str, Any], arrays: Mapping[str, Any]) -> str:
    """SHA-256 hex digest of ``name``, ``params`` (JSON, sorted keys) and the arrays' bytes."""
    h = hashlib.sha256()
    h.update(name.encode())
    h.update(json.dumps(dict(params), sort_keys=True, default=repr).encode())
    for k in sorted(arrays):
        _update_array(h, k, arrays[k])
    return h.hexdigest()


def cached(
    name: str,
    params: Mapping[str, Any],
    arrays: Mapping[str, Any],
    compute: Callable[[], Mapping[str, Any]],
    *,
    use_cache: bool = True,
) -> dict[str, np.ndarray]:
    """Load ``compute()``'s arrays from the cache, or compute and store them.

    Parameters
    ----------
    name : str
        Recipe name, including a version tag (change it when the recipe changes).
    params : mapping
        JSON-serialisable parameters of the instance.
    arrays : mapping of str to array
        The data defining the instance (dense or scipy.sparse).
    compute : callable
        Returns a mapping of names to arrays (scalars are stored as 0-d arrays).
    use_cache : bool
        ``False`` always recomputes and writes nothing.

    Returns
    -------
    dict of str to numpy.ndarray
    """
    if not use_cache:
        return {k: np.asarray(v) for k, v in compute().items()}
    key = cache_key(name, params, arrays)
    folder = cache_dir()
    path = folder / f"{name.split('(')[0]}-{key[:32]}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:  # truncated or corrupt: recompute
            logger.warning("problems cache: ignoring unreadable %s (%s)", path, exc)
    out = {k: np.asarray(v) for k, v in compute().items()}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp.npz", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **out)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        logger.warning("problems cache: could not write %s (%s)", path, exc)
    return out
