"""What the flows that change the cluster share: approval by policy or by a human, their record
kept across the approval pause, and their report published however the run ends."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State

from flows.approval import ApprovalGate, ApprovalRequest, Decision, keep_once
from flows.run_record import FlowRecord, StepStatus, answered, approved_by_policy
from flows.runtime import FlowRuntime
from integrations.kubernetes import KubeError
from runbooks.approval import ActionKind, ApprovalMode, ApprovalPolicy

R = TypeVar("R", bound=FlowRecord)
Ending = Literal["rejected", "timed_out", "failed"]


class ChangeRun(ABC, Generic[R]):
    """One run of a flow that changes the cluster; `execute` returns its final state."""

    def __init__(
        self, record: R, *, runtime: FlowRuntime, policy: ApprovalPolicy, drill: bool
    ) -> None:
        """Start from ``record``; approvals follow ``policy`` (``drill``: the run is a drill)."""
        self.record = record
        self._runtime = runtime
        self._policy = policy
        self._drill = drill
        self._now: Callable[[], datetime] = runtime.clock.now

    def execute(self) -> State[Any]:
        """Carry the run through to its outcome and publish the report."""
        try:
            self._conduct()
        except KubeError as error:
            self.record.add_step("error", StepStatus.FAILED, str(error), at=self._now())
            self._end("failed", f"stopped on a Kubernetes API error: {error}")
        self._publish()
        return self._final_state()

    @abstractmethod
    def _conduct(self) -> None:
        """The run's steps; each outcome is recorded on the record."""

    @abstractmethod
    def _report(self) -> tuple[str, str, str]:
        """The report now: its markdown, artifact key and description."""

    @abstractmethod
    def _end(self, ending: Ending, detail: str) -> None:
        """Record the run's end in the record's own outcome terms."""

    @abstractmethod
    def _final_state(self) -> State[Any]:
        """The run's final state, from the record."""

    def _publish(self) -> None:
        markdown, key, description = self._report()
        create_markdown_artifact(markdown=markdown, key=key, description=description)

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
            return True
        gate = ApprovalGate(self._runtime.notifier, now=self._now)
        asked = request(gate)
        if first:
            self._publish()  # the report shows what waits for approval
        approval = gate.ask(asked)
        self.record.approval = answered(approval)
        answer = approval.answer
        if answer.approved:
            return True
        why = f": {answer.reason}" if answer.reason else ""
        ending: Ending = "timed_out" if answer.decision is Decision.TIMED_OUT else "rejected"
        self._end(ending, f"{answer.decision.value} by {answer.by}{why}; {unchanged}")
        return False
