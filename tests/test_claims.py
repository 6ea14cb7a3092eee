"""Claims: the test of each kind, the registry, the verdict log and the summary."""

import json

import pytest

from optlab import claims
from optlab.claims import Claim


def make(kind, expected, tol, cid="t.demo"):
    return Claim(
        id=cid, component="convex", paper="P", place="Thm 1", statement="s",
        kind=kind, expected=expected, tolerance=tol, quantity="q",
    )


@pytest.mark.parametrize(
    ("kind", "expected", "tol", "measured", "passed"),
    [
        ("upper_bound", 1.0, 0.0, 1.0, True),
        ("upper_bound", 1.0, 0.0, 1.0 + 1e-12, False),
        ("upper_bound", 1.0, 0.01, 1.009, True),
        ("tight", 0.5, 1e-3, 0.5004, True),
        ("tight", 0.5, 1e-3, 0.5006, False),
        ("tight", 0.5, 1e-3, 0.4994, False),
        ("order", 2.0, 0.2, 1.85, True),
        ("order", 2.0, 0.2, 1.75, False),
        ("scaling", 1.0, 0.1, 1.12, False),
        ("comparison", 5.0, 0.0, 6.0, True),
        ("comparison", 5.0, 0.0, 4.9, False),
        ("order", 2.0, 0.2, float("nan"), False),
    ],
)
def test_kind_semantics(kind, expected, tol, measured, passed):
    assert make(kind, expected, tol).holds(measured) is passed


def test_bad_claims_rejected():
    with pytest.raises(ValueError, match="kind"):
        make("lower", 1.0, 0.0)
    with pytest.raises(ValueError, match="tolerance"):
        make("order", 1.0, -0.1)
    with pytest.raises(ValueError, match="component"):
        Claim(id="x", component="nope", paper="", place="", statement="", kind="order",
              expected=1.0, tolerance=0.1)
    with pytest.raises(ValueError, match="tier"):
        make("order", 1.0, 0.1).verify(1.0, tier="medium", register=False)


def test_register_is_idempotent_but_rejects_conflicts():
    c = claims.register(make("order", 1.0, 0.1, cid="t.reg"))
    assert claims.register(make("order", 1.0, 0.1, cid="t.reg")) == c
    with pytest.raises(ValueError, match="registered twice"):
        claims.register(make("order", 2.0, 0.1, cid="t.reg"))


def test_verdict_log_and_summary(tmp_path, monkeypatch):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(claims.LOG_ENV, str(log))
    a = make("upper_bound", 1.0, 0.0, cid="t.a")
    b = make("order", 2.0, 0.1, cid="t.b")
    v = a.verify(0.5, tier="fast", details={"n": 3})
    assert v.passed and "holds" in v.message
    a.verify(1.5, tier="fast")  # a second fast instance fails
    a.verify(0.9, tier="full")  # the full tier is the one reported
    b.verify(1.95, tier="fast")
    b.verify(1.5, tier="fast")  # one failing instance fails the claim
    rows = claims.read_log(log)
    assert len(rows) == 5 and json.loads(log.read_text().splitlines()[0])["details"] == {"n": 3}
    summ = {r["id"]: r for r in claims.summarize(rows)}
    assert summ["t.a"]["tier"] == "full" and summ["t.a"]["passed"] is True
    assert summ["t.a"]["tiers_run"] == ["fast", "full"]
    assert summ["t.b"]["passed"] is False and summ["t.b"]["measured"] == 1.5
    assert summ["t.b"]["n_checks"] == 2
