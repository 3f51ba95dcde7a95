"""Where a waiting flow keeps its approval request: inputs of its own flow run, written once.

Written once, so that a flow re-run after its answer reads back the request as first made
(its deadline and time of request), and notifiers hear about each request exactly once.
"""

from __future__ import annotations

from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient, SyncPrefectClient, get_client

from flows.approval.models import ApprovalRequest

_CONFLICT = 409
_NOT_FOUND = 404


def request_key(gate: str) -> str:
    """The flow-run-input key holding the request of `gate`."""
    return f"approval-request-{gate}"


def decided_key(gate: str) -> str:
    """The flow-run-input key marking that the answer to `gate` was announced."""
    return f"approval-decided-{gate}"


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
