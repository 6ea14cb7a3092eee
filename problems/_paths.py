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
