"""A plain-text table of the catalog, for `runbooks list`."""

from __future__ import annotations

from runbooks.approval import DEFAULT_TIMEOUT, ActionKind, ApprovalMode, ApprovalPolicy
from runbooks.model import Runbook
from runbooks.registry import Catalog

HEADERS = ("NAME", "MATCH", "DEPLOYMENT", "APPROVAL", "MANUAL-ONLY")


def format_table(catalog: Catalog) -> str:
    """Render one row per runbook: name, matcher, deployment, approval summary, manual-only."""
    rows = [HEADERS, *(_row(runbook) for runbook in catalog)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADERS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _row(runbook: Runbook) -> tuple[str, str, str, str, str]:
    return (
        runbook.name,
        _match(runbook),
        runbook.deployment,
        describe_approval(runbook.approval),
        "yes" if runbook.manual_only else "no",
    )


def _match(runbook: Runbook) -> str:
    if runbook.match is None:
        return "-"
    statuses = "" if runbook.statuses == ("firing",) else f" [{','.join(runbook.statuses)}]"
    return "{" + runbook.match.describe() + "}" + statuses


def describe_approval(policy: ApprovalPolicy) -> str:
    """Summarise a policy: which actions run unattended, whether drills auto-approve, and what
    differs from the defaults: how long a request waits, who answers, four-eyes."""
    auto = [str(action) for action in ActionKind if policy.mode_for(action) is ApprovalMode.AUTO]
    parts = [f"auto: {', '.join(auto)}; rest required" if auto else "all required"]
    if policy.auto_approve_for_drills:
        parts.append("drills: auto")
    if policy.timeout != DEFAULT_TIMEOUT or policy.timeouts:
        own = "".join(f", {kind} {duration}" for kind, duration in policy.timeouts.items())
        parts.append(f"wait {policy.timeout}{own}")
    if policy.approvers is not None:
        parts.append(f"approvers: {', '.join((*policy.approvers.users, *policy.approvers.groups))}")
    if policy.four_eyes:
        parts.append(
            "four-eyes: " + ", ".join(f"{kind} {rule}" for kind, rule in policy.four_eyes.items())
        )
    return "; ".join(parts)
