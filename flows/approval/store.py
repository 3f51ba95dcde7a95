"""Where a request and its answer are kept: inputs of the waiting flow run, each written once.

Per request, in Prefect, with the run (so they survive an engine restart and every replica reads
the same):

- ``approval-request-<gate>``: the request as first made (its id, deadline, rules), written
  once, so a re-run reads it back and notifiers hear of it once;
- Prefect's own answer input of the gate's suspension (``suspended-<gate>-response``): the
  answer, stored by Prefect in the same transaction that resumes the run, so the first answer
  wins and a second is refused. The engine's answers name the request id, the channel, who
  and when; a form's time is the input's creation;
- ``approval-vote-<request id>``: the first of two approvals a four-eyes request needs;
- ``approval-decided-<gate>``: that the answer was announced (once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient, SyncPrefectClient, get_client
from prefect.client.schemas.objects import FlowRunInput
from prefect.input.run_input import keyset_from_paused_state
from prefect.states import Suspended

from flows.approval.form import EngineAnswer, Submitted, Vote, read_submitted
from flows.approval.models import ApprovalRequest

_CONFLICT = 409
_NOT_FOUND = 404


def request_key(gate: str) -> str:
    """The flow-run-input key holding the request of `gate`."""
    return f"approval-request-{gate}"


def decided_key(gate: str) -> str:
    """The flow-run-input key marking that the answer to `gate` was announced."""
    return f"approval-decided-{gate}"


def answer_key(gate: str) -> str:
    """The flow-run-input key where Prefect keeps the answer that resumed the run at `gate`."""
    return keyset_from_paused_state(Suspended(pause_key=gate))["response"]


def vote_key(request_id: str) -> str:
    """The flow-run-input key holding the first approval of a two-approver request."""
    return f"approval-vote-{request_id}"


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """An answer as Prefect keeps it: what was submitted, and when Prefect took it."""

    submitted: Submitted
    stored_at: datetime

    @property
    def answered_at(self) -> datetime:
        """When the answer was given: the engine's stamp for its own, else when stored."""
        if isinstance(self.submitted, EngineAnswer):
            return self.submitted.answered_at
        return self.stored_at


def _stored(inputs: list[FlowRunInput], key: str) -> StoredAnswer | None:
    found = next((i for i in inputs if i.key == key), None)
    if found is None or found.created is None:
        return None
    value: Any = found.decoded_value
    return StoredAnswer(read_submitted(value), found.created)


def _create_once(client: SyncPrefectClient, flow_run_id: UUID, key: str, value: str) -> bool:
    try:
        client.create_flow_run_input(flow_run_id, key=key, value=value)
    except httpx.HTTPStatusError as error:
        if error.response.status_code == _CONFLICT:
            return False
        raise
    return True


def keep_once(flow_run_id: UUID, key: str, value: str) -> tuple[str, bool]:
    """Keep `value` as the run's input `key` unless one is kept already.

    Returns:
        The value kept (the first one written) and whether it was this one.
    """
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        if _create_once(client, flow_run_id, key, value):
            return value, True
        return client.read_flow_run_input(flow_run_id, key), False


def read_kept(flow_run_id: UUID, key: str) -> str | None:
    """The value kept as the run's input `key`, or None when none is."""
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        try:
            return client.read_flow_run_input(flow_run_id, key)
        except httpx.HTTPStatusError as error:
            if error.response.status_code == _NOT_FOUND:
                return None
            raise


def keep_request(request: ApprovalRequest) -> tuple[ApprovalRequest, bool]:
    """Keep `request` with its flow run unless one is kept already for the same gate.

    Returns:
        The request kept (the first one made for the gate) and whether it was new.
    """
    kept, new = keep_once(
        UUID(request.flow_run_id), request_key(request.gate), request.model_dump_json()
    )
    return (request if new else ApprovalRequest.model_validate_json(kept)), new


def mark_decided(request: ApprovalRequest) -> bool:
    """Mark that the answer to `request` was announced; False when it already was."""
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        return _create_once(
            client, UUID(request.flow_run_id), decided_key(request.gate), request.gate
        )


def read_answer(request: ApprovalRequest) -> StoredAnswer | None:
    """The answer that resumed the run at `request`'s gate, if any (from a flow)."""
    key = answer_key(request.gate)
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        found = client.filter_flow_run_input(
            UUID(request.flow_run_id), key_prefix=key, limit=1, exclude_keys=set()
        )
    return _stored(found, key)


def read_vote(request: ApprovalRequest) -> Vote | None:
    """The first approval of a two-approver request, if one was given (from a flow)."""
    kept = read_kept(UUID(request.flow_run_id), vote_key(request.request_id))
    return None if kept is None else Vote.model_validate_json(kept)


async def read_request(
    client: PrefectClient, flow_run_id: UUID, gate: str
) -> ApprovalRequest | None:
    """The request a run keeps for `gate`, or None when it keeps none (not one of ours)."""
    try:
        kept = await client.read_flow_run_input(flow_run_id, request_key(gate))
    except httpx.HTTPStatusError as error:
        if error.response.status_code == _NOT_FOUND:
            return None
        raise
    return ApprovalRequest.model_validate_json(kept)


async def aread_answer(client: PrefectClient, request: ApprovalRequest) -> StoredAnswer | None:
    """The answer that resumed the run at `request`'s gate, if any (from the engine)."""
    key = answer_key(request.gate)
    found = await client.filter_flow_run_input(
        UUID(request.flow_run_id), key_prefix=key, limit=1, exclude_keys=set()
    )
    return _stored(found, key)


async def aread_vote(client: PrefectClient, request: ApprovalRequest) -> Vote | None:
    """The first approval of a two-approver request, if one was given (from the engine)."""
    try:
        kept = await client.read_flow_run_input(
            UUID(request.flow_run_id), vote_key(request.request_id)
        )
    except httpx.HTTPStatusError as error:
        if error.response.status_code == _NOT_FOUND:
            return None
        raise
    return Vote.model_validate_json(kept)


async def akeep_vote(client: PrefectClient, request: ApprovalRequest, vote: Vote) -> Vote:
    """Keep ``vote`` as the request's first approval unless one is kept; the one kept."""
    run_id = UUID(request.flow_run_id)
    try:
        await client.create_flow_run_input(
            run_id, key=vote_key(request.request_id), value=vote.model_dump_json()
        )
    except httpx.HTTPStatusError as error:
        if error.response.status_code != _CONFLICT:
            raise
        return Vote.model_validate_json(
            await client.read_flow_run_input(run_id, vote_key(request.request_id))
        )
    return vote
