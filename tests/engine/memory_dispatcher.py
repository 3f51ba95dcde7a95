"""An in-memory `RunDispatcher` for receiver tests: records what it is asked, can go down."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from engine.handoff import (
    HandoffUnavailableError,
    ResolvedAlert,
    RunHandle,
    RunRejectedError,
    RunRequest,
)


@dataclass
class InMemoryDispatcher:
    """Keeps runs in a dict keyed by idempotency key, like the run store does durably.

    Attributes:
        unavailable: While True, every call raises `HandoffUnavailableError` (Prefect down).
        submitted: Every request submitted, in order, including duplicates.
        resolved: Every resolve received, in order.
        runs: Idempotency key -> the run created for it.
        refused_pods: Alerts with a ``pod`` label in here are refused (`RunRejectedError`), as
            the run store refuses parameters that do not fit the flow.
    """

    unavailable: bool = False
    refused_pods: set[str] = field(default_factory=set)
    submitted: list[RunRequest] = field(default_factory=list)
    resolved: list[ResolvedAlert] = field(default_factory=list)
    runs: dict[str, uuid.UUID] = field(default_factory=dict)
    _requests: dict[uuid.UUID, RunRequest] = field(default_factory=dict)

    async def submit(self, request: RunRequest) -> RunHandle:
        """Create the run for the request's key, or return the one already there."""
        self._raise_if_down()
        self.submitted.append(request)
        if request.labels.get("pod") in self.refused_pods:
            raise RunRejectedError(f"parameter 'pod': {request.labels['pod']!r} is not valid")
        existing = self.runs.get(request.idempotency_key)
        if existing is not None:
            return RunHandle(flow_run_id=existing, created=False)
        run_id = uuid.uuid4()
        self.runs[request.idempotency_key] = run_id
        self._requests[run_id] = request
        return RunHandle(flow_run_id=run_id, created=True)

    async def resolve(self, alert: ResolvedAlert) -> list[uuid.UUID]:
        """Return the runs of that alert's episode."""
        self._raise_if_down()
        self.resolved.append(alert)
        return [
            run_id
            for run_id, request in self._requests.items()
            if request.alert_fingerprint == alert.alert_fingerprint
            and request.alert_starts_at == alert.alert_starts_at
        ]

    async def check_ready(self) -> None:
        """Raise while unavailable."""
        self._raise_if_down()

    def request_of(self, run_id: uuid.UUID) -> RunRequest:
        """The request a run was created for."""
        return self._requests[run_id]

    def _raise_if_down(self) -> None:
        if self.unavailable:
            raise HandoffUnavailableError("run store unreachable (simulated)")
