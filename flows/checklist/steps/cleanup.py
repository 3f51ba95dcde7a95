"""Removing the emergency NodePort Service once its Service has recovered (this run or later)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flows.checklist.actions import Phase
from flows.checklist.observation import emergency_service_name
from flows.checklist.parameters import ChecklistParameters
from flows.checklist.record import ActionRecord, ActionStatus, RunRecord
from flows.checklist.tasks import remove_emergency
from runbooks.approval import ActionKind


def remove_recovered_emergency(
    record: RunRecord, parameters: ChecklistParameters, *, now: Callable[[], datetime]
) -> None:
    """Delete the Service's emergency NodePort Service and record it as a verify-phase step."""
    namespace, service = parameters.namespace, parameters.service
    if namespace is None or service is None:
        return
    name = emergency_service_name(service)
    detail = remove_emergency(namespace, name)
    record.actions.append(
        ActionRecord(
            key=f"remove-emergency:{namespace}/{service}",
            kind=ActionKind.CREATE_EMERGENCY_NODEPORT,
            phase=Phase.VERIFY,
            description=f"Remove the emergency NodePort Service {namespace}/{name}: "
            f"{namespace}/{service} has recovered",
            blast_radius=f"Service {namespace}/{name} (its node ports close)",
            needs_approval=False,
            status=ActionStatus.DONE,
            detail=detail,
            finished_at=now(),
        )
    )
