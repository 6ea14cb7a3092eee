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
