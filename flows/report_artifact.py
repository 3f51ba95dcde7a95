"""A run's report as one Prefect artifact under its key, updated in place as the run goes on.

Prefect keeps every artifact created under a key as a version, and a run's page lists each one:
a report published when the run asks for approval and again when it ends would show twice
("in progress", then the outcome). So the first publication creates it and later ones update
that artifact's data (which also updates the key's latest version).
"""

from __future__ import annotations

from uuid import UUID

from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import ArtifactUpdate
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)


def publish_report(
    *, key: str, markdown: str, description: str, flow_run_id: str | None, known: UUID | None
) -> UUID:
    """Publish the run's report under ``key``: update the run's artifact, or create it.

    Args:
        key: The report's artifact key.
        markdown: The report.
        description: Shown beside it.
        flow_run_id: The run (None: outside a run, always create).
        known: The artifact's id, when this process published it before.

    Returns:
        The artifact's id, for the next publication.
    """
    artifact_id = known or (_existing(key, flow_run_id) if flow_run_id else None)
    if artifact_id is None:
        created = create_markdown_artifact(markdown=markdown, key=key, description=description)
        if not isinstance(created, UUID):  # only from async code, which flows are not
            raise TypeError("create_markdown_artifact ran asynchronously; call from a sync flow")
        return created
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        client.update_artifact(artifact_id, ArtifactUpdate(data=markdown, description=description))
    return artifact_id


def _existing(key: str, flow_run_id: str) -> UUID | None:
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[key]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(flow_run_id)]),
            ),
            limit=1,
        )
    return found[0].id if found else None
