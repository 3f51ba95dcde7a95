"""An open kube-proxy incident owned by a run a test made, as a checklist run owns one."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect.client.schemas.objects import FlowRun

from flows.incident import ledger
from flows.incident.records import Incident


def own_kube_proxy_incident(
    cluster: str, owner: FlowRun, *, cause: str = "kube-proxy needs a restart on 1 node(s): node-2"
) -> Incident:
    """Claim `cluster`'s kube-proxy incident for `owner` (a live run); the incident as opened."""
    claim = ledger.claim_incident(
        Incident(
            cluster=cluster,
            shared="kube-proxy",
            owner_run_id=str(owner.id),
            owner_run_name=owner.name,
            cause=cause,
            opened_at=datetime.now(UTC),
        )
    )
    assert claim.owned
    return claim.incident
