"""The checklist's pure wiring: answers, the policy of a run, the flow's form, step batches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows.approval import ApprovalInput, Channel, Decision, answer_from_input
from flows.checklist.actions import RestartAppPod, RestartKubeProxyPod
from flows.checklist.flow import service_checklist
from flows.checklist.parameters import ChecklistParameters
from flows.checklist.steps.batches import step_groups
from flows.policy import MANUAL_POLICY, policy_for
from runbooks.approval import ActionKind, ApprovalMode

NOW = datetime(2025, 1, 10, 9, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("form", "decision"),
    [
        ({"approve": True, "by": "alice"}, Decision.APPROVED),
        ({"approve": False, "by": "bob"}, Decision.REJECTED),
        ({"by": "bob"}, Decision.REJECTED),
        ({"approve": True, "by": "runbook-engine", "timed_out": True}, Decision.TIMED_OUT),
    ],
)
def test_a_submitted_form_reads_as_a_typed_decision(
    form: dict[str, object], decision: Decision
) -> None:
    answer = answer_from_input(ApprovalInput.model_validate(form), decided_at=NOW)

    assert answer.decision is decision
    assert answer.channel is Channel.PREFECT_UI


def test_a_form_without_who_answers_is_refused() -> None:
    with pytest.raises(ValueError, match="by"):
        ApprovalInput.model_validate({"approve": True})


def test_a_run_of_a_runbook_gets_that_runbooks_policy() -> None:
    runbook, policy = policy_for(["alert:ServiceDown", "runbook:service-down"])

    assert runbook == "service-down"
    assert policy.mode_for(ActionKind.PATCH_SERVICE) is ApprovalMode.REQUIRED
    assert policy.auto_approve_for_drills


def test_a_run_started_by_hand_needs_approval_unless_it_is_a_drill() -> None:
    runbook, policy = policy_for([])

    assert runbook is None
    assert policy is MANUAL_POLICY
    assert policy.mode_for(ActionKind.RESTART_APP_POD) is ApprovalMode.REQUIRED
    assert policy.mode_for(ActionKind.RESTART_APP_POD, drill=True) is ApprovalMode.AUTO


def test_the_flows_form_is_the_parameter_models_fields_with_their_defaults() -> None:
    form = service_checklist.parameters.properties

    assert list(form) == list(ChecklistParameters.model_fields)
    for name, field in ChecklistParameters.model_fields.items():
        assert form[name]["description"] == field.description
        if not field.is_required():
            assert form[name].get("default") == field.default, name


def _restart(node: str, wave: int) -> RestartKubeProxyPod:
    return RestartKubeProxyPod(
        pod=f"kube-proxy-{node}", uid="u", node=node, wave=wave, needs_approval=True
    )


def test_kube_proxy_restarts_of_one_wave_run_together_and_other_steps_alone() -> None:
    app = RestartAppPod(
        namespace="shop", pod="web-1", uid="u", owner="ReplicaSet web", needs_approval=True
    )
    steps = (_restart("node-1", 0), _restart("node-2", 0), _restart("node-3", 1), app)

    groups = step_groups(steps)

    assert [[s.key for s in group] for group in groups] == [
        ["restart_kube_proxy_pod:node-1", "restart_kube_proxy_pod:node-2"],
        ["restart_kube_proxy_pod:node-3"],
        ["restart_app_pod:shop/web-1"],
    ]
