"""What every flow that changes the cluster does alike in a run: approve, keep, end, report.

Its changes are approved by the runbook's policy or by a human (the runbook says how long to
wait and who may answer); its record is kept across the approval pause; once it may change
things, each step it notes is told to the runtime's notifier as it is done; however it ends,
its report is published (one artifact, updated in place) and its final state named and told.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar
from uuid import UUID

from prefect.client.schemas.objects import State
from prefect.states import Cancelled, Completed, Failed

from flows.approval import (
    Approval,
    ApprovalAnswer,
    ApprovalRequest,
    ApprovalRules,
    Decision,
    RunEnding,
    RunSubject,
    StepNote,
)
from flows.approval.gate import ApprovalGate, ApprovalTerms
from flows.approval.store import keep_once
from flows.report_artifact import publish_report
from flows.run_record import Ending, FlowRecord, answered, approved_by_policy
from flows.runtime import FlowRuntime
from integrations.kubernetes import KubeError
from runbooks.approval import ActionKind, ApprovalMode, ApprovalPolicy

OutcomeT = TypeVar("OutcomeT", bound=StrEnum)
RecordT = TypeVar("RecordT", bound=FlowRecord[Any])

#: How an outcome ends its run: the kind of final state (Completed, Cancelled, Failed) and the
#: state's name shown in the Prefect UI.
FinalState = tuple[Callable[..., State[Any]], str]

#: The final state of the endings every flow shares: a run that changed nothing because nothing
#: needed changing (or it was a dry run) completed; one a human stopped (or nobody answered
#: for) was cancelled; one that stopped on an error failed.
ENDING_STATES: Mapping[Ending, FinalState] = {
    Ending.NOTHING_TO_DO: (Completed, "NothingToDo"),
    Ending.DRY_RUN: (Completed, "DryRun"),
    Ending.REJECTED: (Cancelled, "Rejected"),
    Ending.APPROVAL_TIMED_OUT: (Cancelled, "ApprovalTimedOut"),
    Ending.FAILED: (Failed, "Failed"),
}


def final_states(
    outcomes: type[OutcomeT], own: Mapping[OutcomeT, FinalState]
) -> Mapping[OutcomeT, FinalState]:
    """Every outcome's final state: the shared endings' (`ENDING_STATES`) and the flow's ``own``."""
    shared = {outcomes(ending.value): state for ending, state in ENDING_STATES.items()}
    return {**shared, **own}


def final_state(
    states: Mapping[OutcomeT, FinalState], outcome: OutcomeT, detail: str | None
) -> State[Any]:
    """The final state ``states`` gives ``outcome``, with ``outcome: detail`` as its message."""
    kind, name = states[outcome]
    return kind(name=name, message=outcome.value + (f": {detail}" if detail else ""))


# Not slotted: a frozen, slotted generic dataclass cannot be built subscripted (RunReport[R](...)).
@dataclass(frozen=True, kw_only=True)
class RunReport(Generic[RecordT]):
    """How a flow's runs are reported: the artifact's title, its key for a run, its markdown."""

    title: str
    key: Callable[[str], str]
    render: Callable[[RecordT], str]


class ChangeRun(ABC, Generic[RecordT, OutcomeT]):
    """One run of a flow that changes the cluster; `execute` returns its final state.

    A flow's run names its outcomes (`outcomes`, which hold every `Ending`), the final state of
    each (`states`, see `final_states`) and its report (`report`), and conducts its steps.
    """

    outcomes: type[OutcomeT]
    states: Mapping[OutcomeT, FinalState]
    report: RunReport[RecordT]
    #: The errors that end a run as failed; any other is a bug and fails it as Prefect does.
    stops_on: tuple[type[Exception], ...] = (KubeError,)

    def __init__(
        self, record: RecordT, *, runtime: FlowRuntime, policy: ApprovalPolicy, drill: bool
    ) -> None:
        """Start from ``record``; approvals follow ``policy`` (``drill``: the run is a drill)."""
        self._runtime = runtime
        self._policy = policy
        self._drill = drill
        self._now: Callable[[], datetime] = runtime.clock.now
        self._changing = False
        self._report_id: UUID | None = None
        self.record = record

    @property
    def record(self) -> RecordT:
        """What the run saw, decided and did so far."""
        return self._record

    @record.setter
    def record(self, record: RecordT) -> None:
        self._record = record
        record.listen(self._step_done)

    def execute(self) -> State[Any]:
        """Carry the run through to its outcome, publish the report, name the final state."""
        try:
            self._conduct()
        except self.stops_on as error:
            self._fail(error)
        self._wind_up()
        self._publish()
        outcome = self.record.outcome or self.outcomes(Ending.FAILED.value)
        state = final_state(self.states, outcome, self.record.outcome_detail)
        ending = RunEnding(
            state=state.name or outcome.value,
            detail=self.record.outcome_detail or outcome.value,
            ok=state.is_completed(),
            at=self.record.finished_at or self._now(),
        )
        self._runtime.notifier.run_finished(self._subject(), ending)
        return state

    @abstractmethod
    def _conduct(self) -> None:
        """The run's steps; each outcome is recorded on the record."""

    def _wind_up(self) -> None:
        """What the run owes others once its outcome is known (before its report is final)."""

    def _topic(self) -> str:
        """What the run is about, in a few words (its conversation's title)."""
        return self.report.title.removesuffix(" report")

    def _subject(self) -> RunSubject:
        flow_run_id = self.record.flow_run_id or "unknown"
        return RunSubject(
            flow_run_id=flow_run_id, title=self._topic(), report_key=self.report.key(flow_run_id)
        )

    def _publish(self) -> None:
        """Publish the report as the record stands now (one artifact, updated in place)."""
        self._report_id = publish_report(
            key=self.report.key(self.record.flow_run_id or "unknown"),
            markdown=self.report.render(self.record),
            description=f"{self.report.title} ({self.record.outcome_text})",
            flow_run_id=self.record.flow_run_id,
            known=self._report_id,
        )

    def _begin_changes(self) -> None:
        """From now on the run changes things: tell each step it notes as it is done."""
        self._changing = True

    def _step_done(self, note: StepNote) -> None:
        # Steps before any change (assessing, a dry run) are the report's, not news.
        if self._changing:
            self._runtime.notifier.step_done(self._subject(), note)

    def _finish(self, outcome: OutcomeT, detail: str) -> None:
        """End the run with ``outcome``."""
        self.record.finish(outcome, detail, at=self._now())

    def _end(self, ending: Ending, detail: str) -> None:
        """End the run in one of the endings every flow shares."""
        self._finish(self.outcomes(ending.value), detail)

    def _fail(self, error: Exception) -> None:
        """End the run failed on ``error`` (one of `stops_on`)."""
        self.record.note_error(str(error), at=self._now())
        self._end(Ending.FAILED, f"stopped on a Kubernetes API error: {error}")

    def _checkpoint(self, gate: str) -> bool:
        """Keep the record as it is before ``gate``; on the re-run after the answer, take back
        the one kept (with its first times) and return False."""
        if self.record.flow_run_id is None:
            return True
        kept, first = keep_once(
            UUID(self.record.flow_run_id), f"record-{gate}", self.record.model_dump_json()
        )
        if not first:
            self.record = type(self.record).model_validate_json(kept)
        return first

    def _gate(self, actions: Iterable[ActionKind]) -> ApprovalGate:
        """The approval gate for ``actions``, on the runbook's terms for them."""
        kinds = list(actions)
        approvers = self._policy.approvers
        terms = ApprovalTerms(
            timeout_seconds=self._policy.timeout_seconds(kinds),
            rules=ApprovalRules(
                approvers=approvers.users if approvers else (),
                approver_groups=approvers.groups if approvers else (),
                four_eyes=self._policy.four_eyes_for(kinds),
            ),
        )
        return ApprovalGate(self._runtime.notifier, run=self._subject(), terms=terms, now=self._now)

    def _ask(self, gate: ApprovalGate, request: ApprovalRequest, *, first: bool) -> Approval:
        """Wait at ``gate`` for the answer to ``request`` (the first time: publish the report)."""
        if first:
            self._publish()  # the report shows what waits for approval
        return gate.ask(request)

    def _go_ahead(self, answer: ApprovalAnswer, *, unchanged: str) -> bool:
        """Whether ``answer`` lets the steps run; if not, the run ends rejected or timed out.

        Args:
            answer: The answer to the run's request.
            unchanged: What was not changed, said when the answer is no.
        """
        if answer.approved:
            self._begin_changes()
            return True
        why = f": {answer.reason}" if answer.reason else ""
        if answer.decision is Decision.WITHDRAWN:
            self._end(Ending.REJECTED, f"withdrawn{why}; {unchanged}")
            return False
        timed_out = answer.decision is Decision.TIMED_OUT
        ending = Ending.APPROVAL_TIMED_OUT if timed_out else Ending.REJECTED
        self._end(ending, f"{answer.decision.value} by {answer.by}{why}; {unchanged}")
        return False

    def _approved(
        self,
        action: ActionKind,
        request: Callable[[ApprovalGate], ApprovalRequest],
        *,
        first: bool,
        unchanged: str,
    ) -> bool:
        """Whether ``action`` may go ahead: by policy, or once a human approved the request.

        Args:
            action: The kind of change, as the policy names it.
            request: Builds the request on the gate, when a human must answer.
            first: The run reached the gate for the first time (publish the report then).
            unchanged: What was not changed, said when the answer is no.
        """
        if self._policy.mode_for(action, drill=self._drill) is ApprovalMode.AUTO:
            self.record.approval = approved_by_policy(self._now(), drill=self._drill)
            self._begin_changes()
            return True
        gate = self._gate([action])
        approval = self._ask(gate, request(gate), first=first)
        self.record.approval = answered(approval)
        return self._go_ahead(approval.answer, unchanged=unchanged)
