"""A run waiting at its approval gate past its deadline, as a flow leaves it: for the sweepers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import State
from prefect.input.run_input import keyset_from_paused_state
from prefect.states import Running, Suspended

from flows.approval import ApprovalItem, ApprovalRequest
from flows.approval.form import form_for
from flows.approval.store import request_key
from tests.prefect_runs import create_run_by_hand

GATE = "checklist-approval"


async def overdue_request(
    client: PrefectClient, deployment_id: UUID, parameters: dict[str, object]
) -> UUID:
    """A run of the deployment Suspended at `GATE` with its request kept, the deadline passed."""
    run = await create_run_by_hand(client, deployment_id, parameters=parameters)
    await client.set_flow_run_state(run.id, Running(), force=True)
    suspended: State[Any] = Suspended(timeout_seconds=3600, pause_key=GATE)
    keyset = keyset_from_paused_state(suspended)
    suspended.state_details.run_input_keyset = {str(key): value for key, value in keyset.items()}
    now = datetime.now(UTC)
    request = ApprovalRequest(
        gate=GATE,
        request_id=uuid.uuid4().hex[:16],
        flow_run_id=str(run.id),
        title="Approve 1 step",
        items=[ApprovalItem(key="k", description="d", blast_radius="b")],
        requested_at=now - timedelta(minutes=15),
        deadline=now,
    )
    await form_for(request).asave(keyset, flow_run_id=run.id)
    await client.create_flow_run_input(
        run.id, key=request_key(GATE), value=request.model_dump_json()
    )
    await client.set_flow_run_state(run.id, suspended, force=True)
    return run.id
