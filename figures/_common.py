"""Boilerplate shared by the figure scripts (``figures/fig_*.py``).

Every script is run from the repository root as::

    python figures/fig_<name>.py [--quick] [--out DIR] [--jobs N] [--scheduler ADDR] [--plot-only]

and works in two stages: ``compute`` runs the experiment through :func:`optlab.sweep.sweep`
and writes ``<out>/<name>/data.json``; ``plot`` reads that file only and writes
``<out>/<name>.png`` and ``<out>/<name>.pdf``. ``<name>`` is the script's file name
without the ``fig_`` prefix and the ``.py`` suffix (``fig_convex_rates.py`` ->
``convex_rates``); the report (``optlab.report``) finds the script back from it.

Example (a script's ``main``)::

    args = parse_args(__doc__)
    paths = figure_paths(__file__, args.out)
    if not args.plot_only:
        save_data(paths.data, compute(args), metadata={...})
    plot(paths)
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "figures" / "out"

# the lab folders (problems/, theory_checks/) are imported from the repository root
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def parse_args(doc: str | None, argv: list[str] | None = None) -> argparse.Namespace:
    """The common command line (``--quick``, ``--out``, ``--jobs``, ``--scheduler``, ``--plot-only``)."""
    first = (doc or "").strip().splitlines()[0] if (doc or "").strip() else None
    p = argparse.ArgumentParser(description=first)
    p.add_argument("--quick", action="store_true", help="small instances (< 1 min), what CI runs")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default figures/out)")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes for the sweep (default $OPTLAB_JOBS, else all cores)")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address (default $OPTLAB_DASK_SCHEDULER, else local processes)")
    p.add_argument("--plot-only", action="store_true", help="re-plot from the existing data.json")
    args = p.parse_args(argv)
    if args.jobs is None and os.environ.get("OPTLAB_JOBS"):
        args.jobs = int(os.environ["OPTLAB_JOBS"])
    args.out = Path(args.out)
    if not args.out.is_absolute():
        args.out = Path.cwd() / args.out
    return args


def sweep_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for :func:`optlab.sweep.sweep` from the command line."""
    return {"n_jobs": args.jobs, "scheduler": args.scheduler}


@dataclass(frozen=True)
class FigurePaths:
    name: str
    folder: Path
    data: Path
    png: Path
    pdf: Path


def figure_paths(script_file: str, out: str | os.PathLike) -> FigurePaths:
    """Where a figure script writes: ``<out>/<name>/data.json``, ``<out>/<name>.png|pdf``."""
    stem = Path(script_file).stem
    name = stem[len("fig_"):] if stem.startswith("fig_") else stem
    out = Path(out)
    return FigurePaths(name=name, folder=out / name, data=out / name / "data.json",
                       png=out / f"{name}.png", pdf=out / f"{name}.pdf")


def save_data(path: Path, records: list[dict], metadata: dict | None = None) -> Path:
    """Write the plotted data (tidy records, :func:`optlab.sweep.save_records` format)."""
    from optlab.sweep import save_records

    return save_records(path, records, metadata=metadata or {})


def load_data(path: Path) -> tuple[list[dict], dict]:
    """Read ``data.json``: ``(records, metadata)``."""
    from optlab.sweep import load_records

    if not Path(path).exists():
        raise SystemExit(f"{path} does not exist: run the script without --plot-only first")
    return load_records(path, with_metadata=True)


def setup_matplotlib():
    """Headless matplotlib with a readable default style; returns ``pyplot``."""
    import matplotlib

    matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "legend.fontsize": 8.5,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "lines.linewidth": 1.6,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
    })
    return plt


def savefig(fig, paths: FigurePaths) -> None:
    """Write ``<out>/<name>.png`` and ``.pdf`` and close the figure."""
    paths.png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(paths.png)
    fig.savefig(paths.pdf)
    import matplotlib.pyplot as plt

    plt.close(fig)
    print(f"wrote {paths.png} and {paths.pdf.name}", flush=True)


def run_figure(doc: str, file: str, compute, plot, *, claims=(), argv=None) -> None:
    """The common ``main`` of a figure script: parse the options, compute the data
    (unless ``--plot-only``) and save it with the figure name and the claims it shows,
    then plot from the saved data."""
    args = parse_args(doc, argv)
    paths = figure_paths(file, args.out)
    if not args.plot_only:
        records, meta = compute(args)
        meta.update({"figure": paths.name, "claims": list(claims)})
        save_data(paths.data, records, meta)
    plot(paths)
