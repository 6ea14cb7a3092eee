"""REPORT.md, report.html and claims.json, generated from the recorded verdicts.

The claims suite (``theory_checks/``) appends one JSON line per verdict to the
log named by ``OPTLAB_CLAIMS_LOG`` (see :mod:`optlab.claims`) and dumps the
registry of every claim it knows at the end of the session. This module reads
both and writes, into the output folder:

- ``claims.json``: one object per claim (component, paper, place, statement,
  kind, expected, measured, passed, tier, ...), the ``full`` verdict when the
  claim was checked at full size, else the ``fast`` one; claims registered but
  not run in that session appear with ``passed: null``;
- ``REPORT.md`` and ``report.html``: the same table, then every figure found in
  the folder (with the first line of its script's docstring as caption).

Nothing in the table is written by hand.
"""

from __future__ import annotations

import ast
import datetime as _dt
import html
import json
import math
import os
from pathlib import Path
from typing import Any

from .claims import COMPONENTS, read_log, summarize

__all__ = ["build_records", "write_report", "LOG_NAME", "REGISTRY_NAME"]

LOG_NAME = "claims_log.jsonl"
REGISTRY_NAME = "claims_registry.json"

_FIELDS = (
    "id",
    "component",
    "paper",
    "place",
    "statement",
    "kind",
    "expected",
    "tolerance",
    "quantity",
    "test",
    "measured",
    "passed",
    "tier",
    "n_checks",
    "details",
)


def build_records(out_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Summarise the verdict log in ``out_dir`` (plus never-run registered claims)."""
    out = Path(out_dir)
    recs = summarize(read_log(out / LOG_NAME))
    seen = {r["id"] for r in recs}
    reg_path = out / REGISTRY_NAME
    if reg_path.exists():
        for c in json.loads(reg_path.read_text(encoding="utf-8")):
            if c["id"] not in seen:
                rec = dict(c)
                rec.update(measured=None, passed=None, tier=None, n_checks=0, details={}, test="")
                recs.append(rec)
    recs.sort(
        key=lambda r: (COMPONENTS.index(r["component"]) if r["component"] in COMPONENTS else 99, r["id"])
    )
    return [{k: r.get(k) for k in _FIELDS} for r in recs]


def _verdict_txt(passed: bool | None) -> str:
    return {True: "PASS", False: "**FAIL**", None: "not run"}[passed]


def _num(x: Any) -> str:
    if x is None:
        return "-"
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(f):
        return str(f)
    return f"{f:.4g}"


def _cells(r: dict[str, Any], *, md: bool) -> list[Any]:
    """The table row of one claim record (Markdown marks the id as code and FAIL in bold)."""
    verdict = _verdict_txt(r["passed"])
    return [
        r["component"],
        f"`{r['id']}`" if md else r["id"],
        r["paper"],
        r["place"],
        r["statement"],
        r["kind"],
        r["test"] or "-",
        _num(r["measured"]) + (f" ({r['quantity']})" if r.get("quantity") else ""),
        verdict if md else verdict.replace("*", ""),
        r["tier"] or "-",
    ]


def _md_cell(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _figures(out: Path, scripts_dir: Path | None) -> list[tuple[str, str]]:
    figs = []
    for png in sorted(out.glob("*.png")):
        caption = png.stem
        if scripts_dir is not None:
            script = scripts_dir / f"{png.stem}.py"
            if not script.exists():
                script = scripts_dir / f"fig_{png.stem}.py"
            if script.exists():
                doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
                first = doc.strip().splitlines()[0] if doc.strip() else ""
                caption = f"{png.stem}: {first}" if first else png.stem
        figs.append((png.name, caption))
    return figs


def _tables(out: Path) -> list[dict[str, Any]]:
    """Tables that figure scripts publish for the report.

    A figure's ``<name>/data.json`` may carry ``metadata["report_tables"]``: a list of
    ``{"title": str, "columns": [str], "rows": [[cell, ...]], "note": str (optional)}``
    (e.g. a paper's table regenerated from the run).
    """
    tables = []
    for data in sorted(out.glob("*/data.json")):
        try:
            meta = json.loads(data.read_text(encoding="utf-8")).get("metadata", {})
        except (OSError, ValueError, AttributeError):
            continue
        for t in meta.get("report_tables", []) or []:
            if isinstance(t, dict) and t.get("columns") and isinstance(t.get("rows"), list):
                tables.append(dict(t, source=data.parent.name))
    return tables


def _tcell(c: Any) -> str:
    return _num(c) if c is None or isinstance(c, float) else str(c)


def _table_md(t: dict[str, Any]) -> list[str]:
    cols = [str(c) for c in t["columns"]]
    lines = [f"### {t.get('title', t['source'])}", "", f"From `{t['source']}/data.json`.", ""]
    lines += ["| " + " | ".join(_md_cell(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_md_cell(_tcell(c)) for c in row) + " |"
              for row in t["rows"]]
    if t.get("note"):
        lines += ["", str(t["note"])]
    return lines + [""]


def write_report(
    out_dir: str | os.PathLike,
    *,
    scripts_dir: str | os.PathLike | None = None,
    title: str = "optlab: claims vs measurements",
) -> dict[str, Any]:
    """Write claims.json, REPORT.md and report.html into ``out_dir``.

    Returns a summary dict: ``n_claims``, ``n_passed``, ``n_failed``,
    ``n_not_run`` and the paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    recs = build_records(out)
    (out / "claims.json").write_text(json.dumps(recs, indent=2), encoding="utf-8")
    n_pass = sum(r["passed"] is True for r in recs)
    n_fail = sum(r["passed"] is False for r in recs)
    n_none = sum(r["passed"] is None for r in recs)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    figs = _figures(out, Path(scripts_dir) if scripts_dir else None)
    tables = _tables(out)

    header = ["component", "claim", "paper", "place", "statement", "kind", "required", "measured", "verdict", "tier"]
    lines = [
        f"# {title}",
        "",
        f"Generated {stamp} from the verdicts recorded by the claims suite (`theory_checks/`). "
        f"{len(recs)} claims: {n_pass} pass, {n_fail} fail, {n_none} not run.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for r in recs:
        lines.append("| " + " | ".join(_md_cell(c) for c in _cells(r, md=True)) + " |")
    if tables:
        lines += ["", "## Tables", ""]
        for t in tables:
            lines += _table_md(t)
    if figs:
        lines += ["", "## Figures", ""]
        for name, caption in figs:
            lines += [f"### {caption}", "", f"![{caption}]({name})", ""]
    (out / "REPORT.md").write_text("\n".join(lines) + "\n", encoding="utf-8")

    esc = html.escape
    rows_html = []
    for r in recs:
        cls = {True: "pass", False: "fail", None: "none"}[r["passed"]]
        cells = "".join(f"<td>{esc(str(c))}</td>" for c in _cells(r, md=False))
        rows_html.append(f'<tr class="{cls}">{cells}</tr>')
    tab_html = "".join(
        f"<h3>{esc(str(t.get('title', t['source'])))}</h3><table><tr>"
        + "".join(f"<th>{esc(str(c))}</th>" for c in t["columns"]) + "</tr>"
        + "".join("<tr>" + "".join(f"<td>{esc(_tcell(c))}</td>" for c in row)
                  + "</tr>" for row in t["rows"])
        + "</table>" + (f"<p>{esc(str(t['note']))}</p>" if t.get("note") else "")
        for t in tables
    )
    fig_html = "".join(
        f'<figure><img src="{esc(n)}" alt="{esc(c)}"><figcaption>{esc(c)}</figcaption></figure>'
        for n, c in figs
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; font-size: 0.85em; }}
td, th {{ border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; }}
tr.pass td:nth-child(9) {{ background: #d9f2d9; }}
tr.fail td:nth-child(9) {{ background: #f7c6c6; font-weight: bold; }}
tr.none td:nth-child(9) {{ background: #eee; }}
figure {{ display: inline-block; margin: 1em; max-width: 48%; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{esc(title)}</h1>
<p>Generated {esc(stamp)} from the recorded verdicts. {len(recs)} claims: {n_pass} pass, {n_fail} fail,
{n_none} not run.</p>
<table><tr>{"".join(f"<th>{esc(h)}</th>" for h in header)}</tr>
{"".join(rows_html)}
</table>
{"<h2>Tables</h2>" + tab_html if tables else ""}
<h2>Figures</h2>
{fig_html}
</body></html>
"""
    (out / "report.html").write_text(page, encoding="utf-8")
    return {
        "n_claims": len(recs),
        "n_passed": n_pass,
        "n_failed": n_fail,
        "n_not_run": n_none,
        "paths": [str(out / "claims.json"), str(out / "REPORT.md"), str(out / "report.html")],
    }
