"""Where the lab finds the real data sets when run from the repository."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def default_data_home() -> Path | None:
    """``None`` when ``OPTLAB_DATA`` is set (optlab.data resolves it), else
    ``<repo>/../shared/data`` when that folder exists, else ``None``."""
    if os.environ.get("OPTLAB_DATA"):
        return None
    shared = REPO.parent / "shared" / "data"
    return shared if shared.is_dir() else None


def shared_data_dir() -> Path | None:
    """The folder holding the real data files: ``$OPTLAB_DATA`` if set, else
    ``<repo>/../shared/data``; ``None`` when it lacks them (tests skip, saying where)."""
    env = os.environ.get("OPTLAB_DATA")
    cand = Path(env) if env else REPO.parent / "shared" / "data"
    return cand if (cand / "mushrooms.libsvm").is_file() else None


def missing_data_reason() -> str:
    where = os.environ.get("OPTLAB_DATA") or str(REPO.parent / "shared" / "data")
    return f"real data folder not found at {where}: set OPTLAB_DATA or place shared/data next to the repo"
