"""A change run of any flow: its final state, its report, its endings, its approval by policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

import pytest
from prefect.client.schemas.objects import StateType
from prefect.states import Completed

from flows.approval import (
    ApprovalAnswer,
    ApprovalRequest,
    Channel,
    Decision,
    RunEnding,
    RunSubject,
    StepNote,
    StepStatus,
)
from flows.approval.gate import ApprovalGate
from flows.approval.notifier import LogNotifier, Notifier
from flows.change_run import ChangeRun, RunReport, final_state, final_states
from flows.checklist.record import Outcome as ChecklistOutcome
from flows.conntrack.record import Outcome as CleanupOutcome
from flows.rollback.record import Outcome as RollbackOutcome
from flows.run_record import Ending, StepsRecord
from flows.runtime import FlowRuntime
from integrations.kubernetes import Kube, PermanentKubeError
from runbooks.approval import ActionKind, ApprovalMode, ApprovalPolicy, FourEyes

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Outcome(StrEnum):
    """A flow's outcomes: one of its own, and every shared ending."""

    DONE = "done"
    NOTHING_TO_DO = "nothing_to_do"
    DRY_RUN = "dry_run"
    REJECTED = "rejected"
    APPROVAL_TIMED_OUT = "approval_timed_out"
    FAILED = "failed"


STATES = final_states(Outcome, {Outcome.DONE: (Completed, "Done")})


class Record(StepsRecord[Outcome]):
    """The record of a run of the test's flow."""


class StoppedClock:
    """A clock that stays at T0."""

    def now(self) -> datetime:
        """T0."""
        return T0

    def monotonic(self) -> float:
        """Always 0."""
        return 0.0

    def sleep(self, seconds: float) -> None:
        """Returns at once."""


def no_cluster() -> Kube:
    raise AssertionError("a unit test opens no cluster")


class Run(ChangeRun[Record, Outcome]):
    """A run of a flow whose steps the test writes."""

    outcomes = Outcome
    states = STATES
    report = RunReport(
        title="test report",
        key=lambda flow_run_id: f"test-report-{flow_run_id}",
        render=lambda record: f"# report ({len(record.steps)} steps)",
    )

    def __init__(
        self,
        steps: Callable[[Run], None],
        *,
        policy: ApprovalPolicy | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        runtime = FlowRuntime(
            kube_factory=no_cluster, clock=StoppedClock(), notifier=notifier or LogNotifier()
        )
        record = Record(flow_run_id="run-7", started_at=T0)
        super().__init__(record, runtime=runtime, policy=policy or ApprovalPolicy(), drill=False)
        self._steps = steps

    def _conduct(self) -> None:
        self._steps(self)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The reports a run publishes (instead of Prefect artifacts)."""
    reports: list[dict[str, Any]] = []

    def publish(**report: Any) -> UUID:
        reports.append(report)
        return report["known"] or uuid4()

    monkeypatch.setattr("flows.change_run.publish_report", publish)
    return reports


@pytest.mark.parametrize(
    ("detail", "message"), [("all good", "done: all good"), (None, "done")], ids=["detail", "none"]
)
def test_an_outcome_ends_in_its_named_state_with_its_detail_as_message(
    detail: str | None, message: str
) -> None:
    state = final_state(STATES, Outcome.DONE, detail)

    assert (state.type, state.name, state.message) == (StateType.COMPLETED, "Done", message)


def test_the_endings_every_flow_shares_end_in_the_same_states_and_a_flow_adds_its_own() -> None:
    assert {outcome: (kind.__name__, name) for outcome, (kind, name) in STATES.items()} == {
        Outcome.DONE: ("Completed", "Done"),
        Outcome.NOTHING_TO_DO: ("Completed", "NothingToDo"),
        Outcome.DRY_RUN: ("Completed", "DryRun"),
        Outcome.REJECTED: ("Cancelled", "Rejected"),
        Outcome.APPROVAL_TIMED_OUT: ("Cancelled", "ApprovalTimedOut"),
        Outcome.FAILED: ("Failed", "Failed"),
    }


@pytest.mark.parametrize(
    "outcomes",
    [ChecklistOutcome, RollbackOutcome, CleanupOutcome],
    ids=["checklist", "rollback", "conntrack"],
)
@pytest.mark.parametrize("ending", list(Ending), ids=[e.name for e in Ending])
def test_every_flows_outcomes_hold_the_endings_every_run_shares(
    outcomes: type[StrEnum], ending: Ending
) -> None:
    assert outcomes(ending.value).value == ending.value


def finish_done(run: Run) -> None:
    run.record.add_step("assess", StepStatus.DONE, "1 node", at=T0)
    run._finish(Outcome.DONE, "all good")


def stop_on_the_api(run: Run) -> None:
    raise PermanentKubeError("pods is forbidden")


def do_nothing(run: Run) -> None:
    del run


@pytest.mark.parametrize(
    ("steps", "state", "steps_logged"),
    [
        (finish_done, (StateType.COMPLETED, "Done", "done: all good"), ["assess"]),
        (
            stop_on_the_api,
            (
                StateType.FAILED,
                "Failed",
                "failed: stopped on a Kubernetes API error: pods is forbidden",
            ),
            ["error"],
        ),
        (do_nothing, (StateType.FAILED, "Failed", "failed"), []),
    ],
    ids=["finished", "api-error", "no-outcome"],
)
def test_a_run_publishes_its_report_and_ends_in_the_state_of_its_outcome(
    published: list[dict[str, Any]],
    steps: Callable[[Run], None],
    state: tuple[StateType, str, str],
    steps_logged: list[str],
) -> None:
    run = Run(steps)

    final = run.execute()

    assert (final.type, final.name, final.message) == state
    assert [step.name for step in run.record.steps] == steps_logged
    [report] = published
    assert report["key"] == "test-report-run-7"
    assert report["description"] == f"test report ({run.record.outcome_text})"


def test_an_error_that_is_not_the_clusters_is_a_bug_and_fails_the_run_as_prefect_does(
    published: list[dict[str, Any]],
) -> None:
    def break_down(run: Run) -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        Run(break_down).execute()
    assert published == []


def answer(decision: Decision, *, reason: str = "") -> ApprovalAnswer:
    return ApprovalAnswer(
        decision=decision, by="bob", reason=reason, channel=Channel.SLACK, decided_at=T0
    )


@pytest.mark.parametrize(
    ("given", "goes_ahead", "outcome", "detail"),
    [
        (answer(Decision.APPROVED), True, None, None),
        (
            answer(Decision.REJECTED, reason="not now"),
            False,
            Outcome.REJECTED,
            "rejected by bob: not now; nothing was changed",
        ),
        (
            answer(Decision.TIMED_OUT),
            False,
            Outcome.APPROVAL_TIMED_OUT,
            "timed_out by bob; nothing was changed",
        ),
        (
            answer(Decision.WITHDRAWN, reason="the alert ServiceDown resolved while waiting"),
            False,
            Outcome.REJECTED,
            "withdrawn: the alert ServiceDown resolved while waiting; nothing was changed",
        ),
    ],
    ids=["approved", "rejected", "timed-out", "withdrawn"],
)
def test_only_an_approval_lets_the_steps_go_ahead(
    given: ApprovalAnswer, goes_ahead: bool, outcome: Outcome | None, detail: str | None
) -> None:
    run = Run(do_nothing)

    assert run._go_ahead(given, unchanged="nothing was changed") is goes_ahead
    assert (run.record.outcome, run.record.outcome_detail) == (outcome, detail)


def test_a_change_the_policy_approves_goes_ahead_without_asking_anyone() -> None:
    policy = ApprovalPolicy(actions={ActionKind.ROLLBACK_KUBE_PROXY: ApprovalMode.AUTO})
    run = Run(do_nothing, policy=policy)

    def never_asked(gate: ApprovalGate) -> ApprovalRequest:
        raise AssertionError("the policy approves: no request is made")

    approved = run._approved(
        ActionKind.ROLLBACK_KUBE_PROXY, never_asked, first=True, unchanged="nothing"
    )

    assert approved
    assert run.record.approval is not None
    assert (run.record.approval.by, run.record.approval.channel) == (
        "runbook policy",
        Channel.POLICY,
    )


def test_a_run_publishes_one_report_updated_in_place(published: list[dict[str, Any]]) -> None:
    def ask_then_finish(run: Run) -> None:
        run._publish()  # as when the run asks for approval
        finish_done(run)

    Run(ask_then_finish).execute()

    first, last = published
    assert first["known"] is None
    assert last["known"] is not None  # the same artifact, updated
    assert [report["description"] for report in published] == [
        "test report (in progress)",
        "test report (done)",
    ]


@dataclass
class Told:
    """What a run told its notifier (the parts these tests look at)."""

    steps: list[StepNote] = field(default_factory=list)
    endings: list[RunEnding] = field(default_factory=list)

    def approval_requested(self, run: RunSubject, request: ApprovalRequest) -> None:
        raise AssertionError("nobody is asked in these tests")

    def approval_updated(self, run: RunSubject, request: ApprovalRequest) -> None:
        raise AssertionError("nobody is asked in these tests")

    def approval_decided(
        self, run: RunSubject, request: ApprovalRequest, answer: ApprovalAnswer
    ) -> None:
        raise AssertionError("nobody is asked in these tests")

    def step_done(self, run: RunSubject, step: StepNote) -> None:
        self.steps.append(step)

    def run_finished(self, run: RunSubject, ending: RunEnding) -> None:
        self.endings.append(ending)


def test_steps_are_told_once_the_run_may_change_things_and_the_ending_always(
    published: list[dict[str, Any]],
) -> None:
    told = Told()
    policy = ApprovalPolicy(actions={ActionKind.ROLLBACK_KUBE_PROXY: ApprovalMode.AUTO})

    def assess_approve_act(run: Run) -> None:
        run.record.add_step("assess", StepStatus.DONE, "1 node", at=T0)
        run._approved(ActionKind.ROLLBACK_KUBE_PROXY, never_asked, first=True, unchanged="-")
        run.record.add_step("roll-back", StepStatus.DONE, "revision 1 applied", at=T0)
        run._finish(Outcome.DONE, "all good")

    Run(assess_approve_act, policy=policy, notifier=told).execute()

    assert [step.text for step in told.steps] == ["roll-back: revision 1 applied"]
    assert [(e.state, e.detail, e.ok) for e in told.endings] == [("Done", "all good", True)]


def never_asked(gate: ApprovalGate) -> ApprovalRequest:
    raise AssertionError("the policy approves: no request is made")


@pytest.mark.parametrize(
    ("actions", "seconds", "four_eyes"),
    [
        ([ActionKind.DELETE_STALE_CONNTRACK], 900, frozenset()),
        (
            [ActionKind.DELETE_STALE_CONNTRACK, ActionKind.FLUSH_CONNTRACK],
            120,
            frozenset({FourEyes.TWO_APPROVERS}),
        ),
    ],
    ids=["one-kind", "the-shortest-timeout-and-every-rule"],
)
def test_a_request_is_made_on_the_runbooks_terms_for_its_actions(
    actions: list[ActionKind], seconds: int, four_eyes: frozenset[FourEyes]
) -> None:
    policy = ApprovalPolicy.model_validate(
        {
            "approvers": {"users": ["U0ALICE"], "groups": ["S0ONCALL"]},
            "timeouts": {"flush_conntrack": "2m"},
            "four_eyes": {"flush_conntrack": "two_approvers"},
        }
    )

    gate = Run(do_nothing, policy=policy)._gate(actions)

    terms = gate._terms
    assert terms.timeout_seconds == seconds
    assert (terms.rules.approvers, terms.rules.approver_groups) == (("U0ALICE",), ("S0ONCALL",))
    assert terms.rules.four_eyes == four_eyes
