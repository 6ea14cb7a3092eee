"""Claims as data: what a paper states, what we measured, and the verdict.

A :class:`Claim` names the paper, the place (theorem, equation, table), the
statement, its kind, the expected value and the tolerance. ``theory_checks/``
registers claims at import time and calls :meth:`Claim.verify` with a figure
measured from a solver's history; the returned :class:`Verdict` says whether
the claim held, and the test asserts ``verdict.passed``. Every verdict is also
appended (one JSON line) to the file named by ``OPTLAB_CLAIMS_LOG`` when that
variable is set, which is how ``python -m optlab check|figures`` collects them
for ``claims.json`` and the report, so that what the report says is exactly
what the assertions checked.

Kinds and their test (``m`` measured, ``e`` expected, ``t`` tolerance):

==============  =====================================================  ==================================
kind            passes when                                            typical measured figure
==============  =====================================================  ==================================
upper_bound     ``m <= e * (1 + t)``                                   max over iterates of error / bound
tight           ``|m - e| <= t * |e|``                                 worst-case value vs PEPit's tau
order           ``|m - e| <= t``                                       fitted rate / exponent / Q-order
scaling         ``|m - e| <= t``                                       fitted cost exponent
comparison      ``m >= e * (1 - t)``                                   ratio baseline cost / method cost
==============  =====================================================  ==================================

Examples
--------
>>> c = Claim(id="demo.bound", component="convex", paper="Bubeck (2015)",
...           place="Thm 3.3", statement="f(x_k) - f* <= 2 L R^2 / (k + 3)",
...           kind="upper_bound", expected=1.0, tolerance=1e-9,
...           quantity="max_k gap_k / bound_k")
>>> v = c.verify(0.7, tier="fast", register=False)
>>> v.passed
True
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Claim",
    "Verdict",
    "KINDS",
    "COMPONENTS",
    "TIERS",
    "register",
    "registry",
    "verdicts",
    "read_log",
    "summarize",
]

KINDS = ("upper_bound", "tight", "order", "scaling", "comparison")
COMPONENTS = ("convex", "ot", "bcd", "lowrank", "newton", "relu", "bilevel")
TIERS = ("fast", "full")
LOG_ENV = "OPTLAB_CLAIMS_LOG"

_REGISTRY: dict[str, Claim] = {}
_VERDICTS: list[Verdict] = []


@dataclass(frozen=True)
class Claim:
    """One statement of a paper, as checkable data.

    Parameters
    ----------
    id : str
        Unique dotted name, ``<component>.<topic>.<what>``.
    component : str
        The optlab subpackage the claim is about (one of :data:`COMPONENTS`).
    paper : str
        Short citation (authors, year, title or arXiv id).
    place : str
        Where in the paper: ``"Theorem 3.3"``, ``"eq. (3.4)"``, ``"Table 1"``.
    statement : str
        The claim in words/formula, as the paper states it.
    kind : str
        One of :data:`KINDS` (see the module docstring for each test).
    expected : float
        The paper's value (for ``upper_bound`` checks on ratios, 1.0).
    tolerance : float
        Relative slack (upper_bound, tight, comparison) or absolute band
        (order, scaling).
    quantity : str
        What ``measured`` is, in words (e.g. ``"max_k (f_k - f*) / bound_k"``).
    """

    id: str
    component: str
    paper: str
    place: str
    statement: str
    kind: str
    expected: float
    tolerance: float
    quantity: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.component not in COMPONENTS:
            raise ValueError(f"component must be one of {COMPONENTS}, got {self.component!r}")
        if not (isinstance(self.tolerance, int | float) and self.tolerance >= 0):
            raise ValueError(f"tolerance must be a number >= 0, got {self.tolerance!r}")
        if not isinstance(self.expected, int | float) or not math.isfinite(self.expected):
            raise ValueError(f"expected must be a finite number, got {self.expected!r}")

    # -- the test -----------------------------------------------------------------
    def holds(self, measured: float) -> bool:
        """Apply the kind's test to a measured figure (NaN never passes)."""
        m, e, t = float(measured), float(self.expected), float(self.tolerance)
        if not math.isfinite(m):
            return False
        if self.kind == "upper_bound":
            return m <= e * (1.0 + t) if e >= 0 else m <= e * (1.0 - t)
        if self.kind == "tight":
            return abs(m - e) <= t * abs(e)
        if self.kind in ("order", "scaling"):
            return abs(m - e) <= t
        return m >= e * (1.0 - t)  # comparison

    def describe_test(self) -> str:
        e, t = self.expected, self.tolerance
        return {
            "upper_bound": f"<= {e:g} (1 + {t:g})",
            "tight": f"= {e:.6g} +- {t:g} rel",
            "order": f"= {e:g} +- {t:g}",
            "scaling": f"= {e:g} +- {t:g}",
            "comparison": f">= {e:g} (1 - {t:g})",
        }[self.kind]

    def verify(
        self,
        measured: float,
        *,
        tier: str = "fast",
        details: dict[str, Any] | None = None,
        register: bool = True,
    ) -> Verdict:
        """Judge ``measured`` against the claim and record the verdict.

        Parameters
        ----------
        measured : float
            The figure measured from solver histories.
        tier : {"fast", "full"}
            ``fast`` instances run in ``make test``; ``full`` ones are ``slow``.
        details : dict, optional
            JSON-serialisable context (instance, n, seeds, fit quality...).
        register : bool
            Keep the verdict in this process and append it to the
            ``OPTLAB_CLAIMS_LOG`` file when that variable is set.
        """
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}, got {tier!r}")
        v = Verdict(
            claim=self,
            measured=float(measured),
            passed=self.holds(measured),
            tier=tier,
            details=_jsonable(details or {}),
        )
        if register:
            _VERDICTS.append(v)
            path = os.environ.get(LOG_ENV)
            if path:
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(v.to_dict()) + "\n")
        return v


@dataclass
class Verdict:
    """A measured figure judged against a :class:`Claim`."""

    claim: Claim
    measured: float
    passed: bool
    tier: str
    details: dict[str, Any] = field(default_factory=dict)
    timestamp: float = field(default_factory=time.time)

    @property
    def message(self) -> str:
        c = self.claim
        status = "holds" if self.passed else "FAILS"
        return (
            f"[{c.id}] {c.paper}, {c.place}: {c.statement} -- measured {c.quantity or 'value'} "
            f"= {self.measured:.6g}, required {c.describe_test()}: {status}. details={self.details}"
        )

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self.claim)
        d.update(
            measured=self.measured,
            passed=bool(self.passed),
            tier=self.tier,
            test=self.claim.describe_test(),
            details=self.details,
            timestamp=self.timestamp,
        )
        return d


def register(claim: Claim) -> Claim:
    """Add ``claim`` to the registry (idempotent for an identical claim)."""
    old = _REGISTRY.get(claim.id)
    if old is not None and old != claim:
        raise ValueError(f"claim id {claim.id!r} registered twice with different content")
    _REGISTRY[claim.id] = claim
    return claim


def registry() -> dict[str, Claim]:
    """The claims registered in this process, by id."""
    return dict(_REGISTRY)


def verdicts() -> list[Verdict]:
    """The verdicts recorded in this process, in order."""
    return list(_VERDICTS)


def read_log(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read the JSON-lines verdict log written through ``OPTLAB_CLAIMS_LOG``."""
    p = Path(path)
    if not p.exists():
        return []
    rows = []
    for line in p.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            rows.append(json.loads(line))
    return rows


def summarize(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per claim: its ``full`` verdict when there is one, else ``fast``.

    When a claim was verified several times in one tier (several instances),
    it passes only if every verdict passed; ``measured`` is the last one and
    ``n_checks`` counts them. Records are sorted by component then id.
    """
    by_id: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for r in rows:
        by_id.setdefault(r["id"], {}).setdefault(r["tier"], []).append(r)
    out = []
    for tiers in by_id.values():
        tier = "full" if "full" in tiers else "fast"
        group = tiers[tier]
        rec = dict(group[-1])
        rec["passed"] = all(g["passed"] for g in group)
        rec["n_checks"] = len(group)
        rec["tiers_run"] = sorted(tiers)
        if not rec["passed"]:
            failing = [g for g in group if not g["passed"]]
            rec["measured"] = failing[-1]["measured"]
            rec["details"] = failing[-1]["details"]
        out.append(rec)
    out.sort(key=lambda r: (COMPONENTS.index(r["component"]) if r["component"] in COMPONENTS else 99, r["id"]))
    return out


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, bool | int | str) or obj is None:
        return obj
    try:
        f = float(obj)
    except (TypeError, ValueError):
        return str(obj)
    return f if math.isfinite(f) else str(f)
