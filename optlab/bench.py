"""Side-by-side benchmark bookkeeping: timing, rows, and the ratio table.

Each ``benchmarks/bench_*.py`` script times an optlab solver and a peer library
on the same instances in the same run, to a matched accuracy, and saves rows
with :func:`save_rows`. ``python -m optlab bench`` then calls
:func:`write_ratio_table`, which collects every ``*.json`` row file in the
output folder into ``ratios.md``. ``ratio = peer_time / optlab_time`` (above 1:
optlab is faster).

Examples
--------
>>> t, out = best_time(lambda: sum(range(1000)), repeat=3)
>>> out, t > 0
(499500, True)
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["best_time", "save_rows", "write_ratio_table", "machine_info"]


def best_time(fn: Callable[[], Any], *, repeat: int = 3) -> tuple[float, Any]:
    """Best wall-clock time of ``repeat`` calls of ``fn`` and its last output."""
    best = float("inf")
    out = None
    for _ in range(max(1, int(repeat))):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def machine_info() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


def save_rows(out_dir: str | os.PathLike, name: str, rows: list[dict[str, Any]]) -> Path:
    """Save benchmark rows (dicts with at least benchmark, instance, optlab, peer,
    t_optlab, t_peer; optional metric columns) to ``<out_dir>/<name>.json``."""
    required = {"benchmark", "instance", "optlab", "peer", "t_optlab", "t_peer"}
    for r in rows:
        missing = required - set(r)
        if missing:
            raise ValueError(f"benchmark row is missing {sorted(missing)}: {r}")
        r["ratio"] = r["t_peer"] / r["t_optlab"] if r["t_optlab"] > 0 else float("nan")
    path = Path(out_dir) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine_info(), "rows": rows}, indent=1), encoding="utf-8")
    return path


def write_ratio_table(out_dir: str | os.PathLike) -> Path:
    """Collect every row file in ``out_dir`` into ``ratios.md`` and return its path."""
    out = Path(out_dir)
    lines = [
        "# optlab vs peers: time ratios (peer time / optlab time; > 1 means optlab is faster)",
        "",
        "Same instances, same run, matched accuracy (see each row's accuracy columns).",
        "",
        "| benchmark | instance | optlab | peer | t_optlab (s) | t_peer (s) | ratio | accuracy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in sorted(out.glob("*.json")):
        data = json.loads(f.read_text(encoding="utf-8"))
        for r in data.get("rows", []):
            acc = r.get("accuracy", "")
            lines.append(
                f"| {r['benchmark']} | {r['instance']} | {r['optlab']} | {r['peer']} | "
                f"{r['t_optlab']:.4g} | {r['t_peer']:.4g} | {r['ratio']:.3g} | {acc} |"
            )
    path = out / "ratios.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
