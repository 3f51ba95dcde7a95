"""The incident report: every section a responder needs, rendered from the run record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from flows.approval import Channel, Decision
from flows.checklist import (
    ActionStatus,
    AlertInfo,
    Outcome,
    Phase,
    RunRecord,
    StepsApproval,
    diagnose,
    plan,
    render_report,
)
from runbooks.approval import ApprovalPolicy
from tests.flows.checklist.builders import healthy, kube_proxy, parameters, proxy, service

T0 = datetime(2026, 11, 25, 17, 10, 0, tzinfo=UTC)
PARAMS = parameters(
    alertname="ServiceDown",
    alert_fingerprint="3f1c9a",
    alert_starts_at=T0 - timedelta(minutes=2),
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def kube_proxy_incident(*, wait_seconds: float, end: float) -> RunRecord:
    observation = replace(
        healthy(), kube_proxy=kube_proxy(3, broken={"node-2": proxy("node-2", crash=True)})
    )
    findings = diagnose(observation)
    steps = plan(findings, observation, PARAMS, ApprovalPolicy())
    record = RunRecord(
        parameters=PARAMS,
        started_at=T0,
        runbook="service-down",
        flow_run_id="run-42",
        alert=AlertInfo(
            alertname="ServiceDown",
            fingerprint="3f1c9a",
            starts_at=T0 - timedelta(minutes=2),
            labels={"alertname": "ServiceDown", "namespace": "shop", "service": "web"},
        ),
        findings=list(findings),
    )
    record.start_phase(Phase.SCOPE, at=at(0))
    record.record_plan(steps)
    record.start_phase(Phase.MITIGATE, at=at(20))
    record.approval = StepsApproval(
        action_keys=[a.key for a in steps.needs_approval],
        phase=Phase.MITIGATE,
        requested_at=at(21),
        decided_at=at(21 + wait_seconds),
        decision=Decision.APPROVED,
        by="alice",
        channel=Channel.SLACK,
        reason="kube-proxy on node-2 is down",
    )
    restart, emergency, *verify = steps.actions
    record.record_result(restart.key, ActionStatus.DONE, at=at(60 + wait_seconds), detail="Ready")
    record.record_result(
        emergency.key,
        ActionStatus.SKIPPED,
        at=at(61 + wait_seconds),
        detail="kube-proxy is healthy on every node again",
    )
    record.start_phase(Phase.VERIFY, at=at(end - 30))
    for step in verify:
        record.record_result(step.key, ActionStatus.DONE, at=at(end))
    record.finish(Outcome.RECOVERED, "endpoints ready, alert resolved", at=at(end))
    return record


def test_the_report_carries_alert_findings_plan_actions_approvals_and_timeline() -> None:
    report = render_report(kube_proxy_incident(wait_seconds=90, end=200))

    expected_lines = [
        "# Incident report: ServiceDown on shop/web",
        "**Outcome: recovered**: endpoints ready, alert resolved",
        "- Fingerprint: `3f1c9a`",
        "- startsAt: 2026-11-25 17:08:00 UTC",
        "- Labels: `alertname=ServiceDown`, `namespace=shop`, `service=web`",
        "- **critical** `kube_proxy_crash_looping` kube-system/kube-proxy-node-2: "
        "kube-proxy on node node-2 is crash-looping",
        "  - kube-proxy pod kube-proxy-node-2 on node-2: CrashLoopBackOff, 5 restarts",
        "1. [mitigate] Restart kube-proxy on node node-2 (wave 1): delete pod "
        "kube-system/kube-proxy-node-2 and wait until its replacement is Ready (needs approval)",
        "   - Blast radius: Pod kube-system/kube-proxy-node-2 "
        "(rule updates on node node-2 pause until the new pod is Ready)",
        "| 2 | mitigate | Open fallback access: create NodePort Service shop/web-emergency "
        "(selector app=web, same ports as web) | skipped | "
        "kube-proxy is healthy on every node again |",
        "| restart_kube_proxy_pod:node-2, create_emergency_nodeport:shop/web | approved | alice "
        "| slack | 2026-11-25 17:10:21 UTC | 2026-11-25 17:11:51 UTC | 1m 30s "
        "| kube-proxy on node-2 is down |",
        "| scope | 2026-11-25 17:10:00 UTC | 20s | 0s | 20s | 1m 00s | yes |",
        "| mitigate | 2026-11-25 17:10:20 UTC | 2m 30s | 1m 30s | 1m 00s | 2m 00s | yes |",
        "| fix | not run | - | - | - | 1m 00s | - |",
        "| verify | 2026-11-25 17:12:50 UTC | 30s | 0s | 30s | 1m 00s | yes |",
        "Total 3m 20s, of which 1m 30s waiting for a human and 1m 50s working. "
        "Inside five minutes.",
    ]
    lines = report.splitlines()
    missing = [line for line in expected_lines if line not in lines]
    assert missing == []


def test_the_sections_come_in_reading_order() -> None:
    report = render_report(kube_proxy_incident(wait_seconds=90, end=200))

    headings = [line for line in report.splitlines() if line.startswith("#")]
    assert headings == [
        "# Incident report: ServiceDown on shop/web",
        "## Alert",
        "## Findings",
        "## Plan",
        "## Actions",
        "## Recovery signals",
        "## Approvals",
        "## Timeline",
    ]


def test_a_run_over_five_minutes_because_of_a_human_says_so() -> None:
    report = render_report(kube_proxy_incident(wait_seconds=240, end=400))

    assert (
        "Total 6m 40s, of which 4m 00s waiting for a human and 2m 40s working. "
        "Over five minutes only because of the wait for a human."
    ) in report


def test_a_healthy_dry_run_reports_that_nothing_was_done() -> None:
    dry = parameters(dry_run=True)
    observation = healthy()
    findings = diagnose(observation)
    record = RunRecord(parameters=dry, started_at=T0, findings=list(findings))
    record.start_phase(Phase.SCOPE, at=at(0))
    record.record_plan(plan(findings, observation, dry, ApprovalPolicy()))
    record.finish(Outcome.NOTHING_TO_DO, at=at(12))

    report = render_report(record)

    for line in [
        "# Incident report: Checklist run on shop/web",
        "**Outcome: nothing_to_do**",
        "- Dry run: yes; drill: no",
        "No steps planned.",
        "- [scope] no_action: No action: nothing of warning or critical severity was found",
        "No action was taken.",
        "No approval was requested.",
        "Total 12s, of which 0s waiting for a human and 12s working. Inside five minutes.",
    ]:
        assert line in report.splitlines()


def test_a_patch_shows_its_diff_in_the_plan() -> None:
    record = RunRecord(parameters=PARAMS, started_at=T0)
    observation = replace(
        healthy(),
        service=service(selector={"app": "web-v2"}),
        pods=(),
        namespace_pods=healthy().pods,
    )
    record.record_plan(plan(diagnose(observation), observation, PARAMS, ApprovalPolicy()))

    report = render_report(record)

    assert "   ```diff\n     spec.selector:\n   -   app: web-v2\n   +   app: web\n   ```" in report


def test_the_record_survives_a_json_round_trip() -> None:
    record = kube_proxy_incident(wait_seconds=90, end=200)

    again = RunRecord.model_validate_json(record.model_dump_json())

    assert again == record
    assert render_report(again) == render_report(record)


def test_the_report_says_which_recovery_signals_were_checked_and_which_were_unavailable() -> None:
    record = kube_proxy_incident(wait_seconds=90, end=200)
    alert_check = next(a for a in record.actions if a.key.startswith("verify:alert/"))
    record.record_result(
        alert_check.key,
        ActionStatus.SKIPPED,
        at=at(200),
        detail="unavailable: no Alertmanager URL configured (RUNBOOKS_ALERTMANAGER_URL)",
    )
    endpoints = next(a for a in record.actions if a.key.endswith(":endpoints"))
    record.record_result(endpoints.key, ActionStatus.DONE, at=at(200), detail="2 ready")

    report = render_report(record)

    assert (
        "| Verify Service shop/web has ready endpoints again | checked: passed | 2 ready |"
    ) in report
    assert (
        "| Verify alert ServiceDown (3f1c9a) has stopped firing | unavailable | "
        "no Alertmanager URL configured (RUNBOOKS_ALERTMANAGER_URL) |"
    ) in report


def test_a_run_no_alert_started_says_the_alert_signal_does_not_apply() -> None:
    record = RunRecord(parameters=parameters(), started_at=T0)

    report = render_report(record)

    assert "| Alert stopped firing | not applicable | no alert started this run |" in report
