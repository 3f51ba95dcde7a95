"""Minute 5 in the flow: run the plan's verification steps and record what each saw."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import assert_never

from flows.checklist.actions import Phase
from flows.checklist.parameters import ChecklistParameters
from flows.checklist.plans import Plan
from flows.checklist.record import ActionStatus, RunRecord
from flows.checklist.steps.act import StepFailedError
from flows.checklist.tasks import check_alert, check_endpoints, check_kube_proxy
from flows.checklist.verification import (
    VerifyAlertResolved,
    VerifyKubeProxyReady,
    VerifyServiceEndpoints,
)
from flows.runtime import AlertRef

VerificationStep = VerifyServiceEndpoints | VerifyKubeProxyReady | VerifyAlertResolved
NO_ALERTMANAGER = "not checked: no Alertmanager URL configured (RUNBOOKS_ALERTMANAGER_URL)"


def run_verification(
    record: RunRecord,
    plan: Plan,
    parameters: ChecklistParameters,
    *,
    now: Callable[[], datetime],
) -> list[str]:
    """Run each verification step, recording its result; returns what failed (empty: all ok)."""
    steps = [s for s in plan.in_phase(Phase.VERIFY) if isinstance(s, VerificationStep)]
    if steps:
        record.start_phase(Phase.VERIFY, at=now())
    timeout = parameters.verify_timeout_seconds
    failures: list[str] = []
    for step in steps:
        status = ActionStatus.DONE
        try:
            match step:
                case VerifyServiceEndpoints():
                    detail = check_endpoints(step.namespace, step.service, timeout)
                case VerifyKubeProxyReady():
                    detail = check_kube_proxy(step.nodes, timeout)
                case VerifyAlertResolved():
                    alert = AlertRef(
                        fingerprint=step.fingerprint,
                        starts_at=parameters.alert_starts_at,
                        alertname=step.alertname,
                    )
                    seen = check_alert(alert, timeout)
                    detail = NO_ALERTMANAGER if seen is None else seen
                    status = ActionStatus.SKIPPED if seen is None else status
                case _:
                    assert_never(step)
        except StepFailedError as error:
            status, detail = ActionStatus.FAILED, str(error)
            failures.append(detail)
        record.record_result(step.key, status, at=now(), detail=detail)
    return failures
