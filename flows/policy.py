"""Which approval policy a flow run follows: its runbook's, or the one for runs started by hand."""

from __future__ import annotations

from collections.abc import Iterable

from flows.run_identity import runbook_of
from runbooks import ApprovalPolicy, load_catalog

MANUAL_POLICY = ApprovalPolicy(auto_approve_for_drills=True)
"""Runs started by hand: every change needs approval, unless the operator marks a drill."""


def policy_for(tags: Iterable[str]) -> tuple[str | None, ApprovalPolicy]:
    """The runbook a run belongs to (by its ``runbook:<name>`` tag) and its approval policy."""
    name = runbook_of(tags)
    if name is None:
        return None, MANUAL_POLICY
    catalog = load_catalog()
    if name not in catalog:
        return name, MANUAL_POLICY
    return name, catalog.get(name).approval
