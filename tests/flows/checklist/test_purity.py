"""The checklist's deciding code stays pure: importing it loads no Prefect."""

from __future__ import annotations

import subprocess
import sys

PROBE = (
    "import sys, flows.checklist, flows.checklist.conversion; "
    "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'prefect', 'slack_sdk'}); "
    "print(','.join(loaded))"
)


def test_importing_the_checklist_loads_neither_prefect_nor_slack() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )

    assert result.stdout.strip() == ""
