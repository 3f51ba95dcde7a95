"""How a run with no step ends: nothing found, a cause left to its owner, or not recovered."""

from __future__ import annotations

import pytest

from flows.checklist import Finding, FindingCode, Outcome, Severity
from flows.checklist.verdicts import outcome_after_verification, outcome_without_steps

C = FindingCode


def _finding(code: FindingCode, severity: Severity = Severity.WARNING) -> Finding:
    return Finding(code=code, severity=severity, summary=f"{code.value} seen", subject="shop/web")


DOWN = _finding(C.NO_READY_ENDPOINTS, Severity.CRITICAL)


@pytest.mark.parametrize(
    ("findings", "outcome"),
    [
        pytest.param([], Outcome.NOTHING_TO_DO, id="nothing found"),
        pytest.param(
            [_finding(C.SINGLE_SERVICE_AFFECTED, Severity.INFO)],
            Outcome.NOTHING_TO_DO,
            id="only information",
        ),
        pytest.param(
            [_finding(C.WORKLOAD_SCALED_TO_ZERO), DOWN],
            Outcome.SCALED_TO_ZERO,
            id="scaled to zero explains the missing endpoints",
        ),
        pytest.param(
            [
                _finding(C.WORKLOAD_ROLLING_OUT),
                _finding(C.NO_PODS_READY, Severity.CRITICAL),
                DOWN,
            ],
            Outcome.ROLLOUT_IN_PROGRESS,
            id="a rollout explains pods not Ready yet",
        ),
        pytest.param(
            [_finding(C.PODS_UNSCHEDULABLE, Severity.CRITICAL), DOWN],
            Outcome.PODS_UNSCHEDULABLE,
            id="pods no node has room for",
        ),
        pytest.param(
            [
                _finding(C.PODS_UNSCHEDULABLE, Severity.CRITICAL),
                _finding(C.NO_PODS_READY, Severity.CRITICAL),
            ],
            Outcome.NOT_RECOVERED,
            id="unschedulable pods do not explain other pods failing",
        ),
        pytest.param(
            [_finding(C.SERVICE_MISSING, Severity.CRITICAL)],
            Outcome.NOT_RECOVERED,
            id="a fault the run cannot change",
        ),
        pytest.param(
            [_finding(C.WORKLOAD_SCALED_TO_ZERO), _finding(C.KUBE_PROXY_DAEMONSET_MISSING)],
            Outcome.NOT_RECOVERED,
            id="a cause left to its owner beside a fault",
        ),
    ],
)
def test_a_run_without_steps_ends_by_what_it_found(
    findings: list[Finding], outcome: Outcome
) -> None:
    assert outcome_without_steps(findings)[0] is outcome


def test_a_workload_scaled_to_zero_ends_the_run_saying_why_and_that_nothing_changes() -> None:
    scaled = Finding(
        code=C.WORKLOAD_SCALED_TO_ZERO,
        severity=Severity.WARNING,
        summary="Deployment shop/web is scaled to 0 replicas",
        subject="shop/deployment/web",
    )

    assert outcome_without_steps([scaled, DOWN]) == (
        Outcome.SCALED_TO_ZERO,
        "Deployment shop/web is scaled to 0 replicas; nothing for this run to change",
    )


@pytest.mark.parametrize(
    ("changed", "deferred", "outcome"),
    [
        pytest.param(False, (), Outcome.NOTHING_TO_DO, id="only checks ran"),
        pytest.param(True, (), Outcome.RECOVERED, id="every change verified"),
        pytest.param(True, ("node-4",), Outcome.PARTIALLY_MITIGATED, id="some nodes deferred"),
    ],
)
def test_a_verified_run_ends_by_what_it_changed_and_what_it_left(
    changed: bool, deferred: tuple[str, ...], outcome: Outcome
) -> None:
    verdict = outcome_after_verification(
        changed=changed, deferred=deferred, checked=["2 ready"], unavailable=[]
    )

    assert verdict[0] is outcome


def test_a_partial_mitigation_names_what_was_verified_and_the_deferred_nodes() -> None:
    assert outcome_after_verification(
        changed=True,
        deferred=("node-4", "node-5"),
        checked=["kube-proxy Ready without sync errors on the 1 restarted node(s): node-2"],
        unavailable=["no Alertmanager URL configured (RUNBOOKS_ALERTMANAGER_URL)"],
    ) == (
        Outcome.PARTIALLY_MITIGATED,
        "verified what this run did (checked: kube-proxy Ready without sync errors on the 1 "
        "restarted node(s): node-2; unavailable: no Alertmanager URL configured "
        "(RUNBOOKS_ALERTMANAGER_URL)); deferred: kube-proxy still needs a restart on 2 node(s) "
        "over this run's budget: node-4, node-5",
    )


def test_a_recovery_says_which_signals_it_rests_on_and_which_were_unavailable() -> None:
    assert outcome_after_verification(
        changed=True,
        deferred=(),
        checked=["targetPort 'http' declared by all 2 selected pod(s)", "TCP connect succeeded"],
        unavailable=["no Alertmanager URL configured (RUNBOOKS_ALERTMANAGER_URL)"],
    ) == (
        Outcome.RECOVERED,
        "verified: checked: targetPort 'http' declared by all 2 selected pod(s); TCP connect "
        "succeeded; unavailable: no Alertmanager URL configured (RUNBOOKS_ALERTMANAGER_URL)",
    )
