"""Report pipeline: claims.json / REPORT.md / report.html come from the verdict log."""

import json

from optlab import claims
from optlab.__main__ import main
from optlab.report import LOG_NAME, REGISTRY_NAME, write_report


def _claim(cid, kind="upper_bound", expected=1.0, tol=0.0):
    return claims.Claim(
        id=cid, component="convex", paper="Bubeck (2015)", place="Theorem 3.3",
        statement="f(x_k) - f* <= L R^2/(2k)", kind=kind, expected=expected, tolerance=tol,
        quantity="max_k gap/bound",
    )


def test_report_from_log(tmp_path, monkeypatch):
    monkeypatch.setenv(claims.LOG_ENV, str(tmp_path / LOG_NAME))
    _claim("r.pass").verify(0.8, tier="full")
    _claim("r.fail").verify(1.2, tier="fast")
    never = _claim("r.never")
    (tmp_path / REGISTRY_NAME).write_text(
        json.dumps([{k: getattr(never, k) for k in never.__dataclass_fields__}])
    )
    summary = write_report(tmp_path)
    assert (summary["n_passed"], summary["n_failed"], summary["n_not_run"]) == (1, 1, 1)
    recs = {r["id"]: r for r in json.loads((tmp_path / "claims.json").read_text())}
    for key in ("component", "paper", "place", "statement", "kind", "expected", "measured",
                "passed", "tier"):
        assert key in recs["r.pass"]
    assert recs["r.pass"]["passed"] is True and recs["r.pass"]["measured"] == 0.8
    assert recs["r.fail"]["passed"] is False
    assert recs["r.never"]["passed"] is None
    md = (tmp_path / "REPORT.md").read_text()
    assert "`r.fail`" in md and "**FAIL**" in md and "not run" in md
    assert "<table>" in (tmp_path / "report.html").read_text()


def test_cli_report_exit_code(tmp_path, monkeypatch):
    monkeypatch.setenv(claims.LOG_ENV, str(tmp_path / LOG_NAME))
    _claim("c.ok").verify(0.5, tier="fast")
    assert main(["report", "--out", str(tmp_path)]) == 0
    _claim("c.bad").verify(2.0, tier="fast")
    assert main(["report", "--out", str(tmp_path)]) == 1


def test_report_renders_figure_tables(tmp_path):
    from optlab.sweep import save_records

    table = {"title": "Table 1 regenerated", "columns": ["case", "iterations", "ratio"],
             "rows": [["random", 61, 334.0], ["mnist", 46, None]], "note": "ratios where both converged"}
    save_records(tmp_path / "fig_x" / "data.json", [{"a": 1}], metadata={"report_tables": [table]})
    save_records(tmp_path / "fig_y" / "data.json", [{"a": 1}], metadata={"report_tables": [{"bad": 1}]})
    write_report(tmp_path)
    md = (tmp_path / "REPORT.md").read_text()
    assert "## Tables" in md and "### Table 1 regenerated" in md
    assert "| random | 61 | 334 |" in md and "| mnist | 46 | - |" in md
    assert "ratios where both converged" in md and "fig_y" not in md
    assert "<h3>Table 1 regenerated</h3>" in (tmp_path / "report.html").read_text()
