"""Claims-suite plumbing: dump the claim registry at the end of the session.

Verdicts are logged by ``Claim.verify`` itself (``OPTLAB_CLAIMS_LOG``); this hook
writes every *registered* claim to ``OPTLAB_CLAIMS_REGISTRY`` so that the report
can list claims that were collected but not run (``passed: null``).
"""

from __future__ import annotations

import dataclasses
import json
import os

from optlab import claims


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("OPTLAB_CLAIMS_REGISTRY")
    if not path:
        return
    regs = [dataclasses.asdict(c) for c in claims.registry().values()]
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(regs, fh, indent=1)
