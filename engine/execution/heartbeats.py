"""Runs whose engine died: a Prefect automation marks them Crashed once they fall silent.

An engine that stops cleanly marks its unfinished runs Crashed itself. One that is SIGKILLed,
OOM-killed or loses its node cannot, and its runs would stay Pending or Running for ever,
holding their target: every later run for that Service would wait behind a run nobody
executes. Prefect's documented answer is a proactive automation over flow-run heartbeats; the
server evaluates it, so it works with every engine replica down.

A run is watched from its claim (Pending), its start (Running) and each heartbeat. Any later
event of the run ends the watch: the next heartbeat, or a state change such as Suspended at
its approval gate, after which nothing of it runs and no heartbeat is due.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from uuid import UUID

from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import StateType
from prefect.context import SettingsContext
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY

AUTOMATION_NAME = "service-runbooks: crash unresponsive runs"
HEARTBEAT_EVENT = "prefect.flow-run.heartbeat"
WATCH_AFTER = frozenset({HEARTBEAT_EVENT, "prefect.flow-run.Pending", "prefect.flow-run.Running"})
ANY_RUN_EVENT = "prefect.flow-run.*"


def with_heartbeats(context: SettingsContext, seconds: int | None) -> SettingsContext:
    """Prefect settings under which flows send a heartbeat every ``seconds`` (None: unchanged)."""
    if seconds is None:
        return context
    settings = context.settings.copy_with_update(
        updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: seconds}
    )
    return SettingsContext(profile=context.profile, settings=settings)


def crash_message(silent_seconds: int) -> str:
    """The message on a run the automation marks Crashed."""
    return (
        f"No heartbeat or state change for {silent_seconds}s: the runbook engine executing "
        "this run stopped (killed, out of memory, or its node lost). Marked Crashed so its "
        "target is free for the next run; check what it changed in its report before re-running."
    )


def unresponsive_run_automation(
    deployment_ids: Iterable[UUID], *, silent_seconds: int
) -> AutomationCore:
    """The automation that marks our deployments' runs Crashed after ``silent_seconds`` of silence.

    Args:
        deployment_ids: The engine's deployments; runs of other deployments are left alone.
        silent_seconds: How long a watched run may go without any event of its own.

    Returns:
        The automation, ready to create or compare with the stored one.
    """
    deployments = sorted(f"prefect.deployment.{deployment_id}" for deployment_id in deployment_ids)
    return AutomationCore(
        name=AUTOMATION_NAME,
        description=(
            "Marks a service-runbooks flow run Crashed when it goes silent for "
            f"{silent_seconds}s while Pending or Running (its engine died). Managed by the "
            "engine at start-up; edits here are overwritten."
        ),
        trigger=EventTrigger(
            match=ResourceSpecification({"prefect.resource.id": "prefect.flow-run.*"}),
            match_related=ResourceSpecification(
                {"prefect.resource.role": "deployment", "prefect.resource.id": deployments}
            ),
            after=set(WATCH_AFTER),
            expect={ANY_RUN_EVENT},
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=silent_seconds),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED, name="Crashed", message=crash_message(silent_seconds)
            )
        ],
    )


async def ensure_automation(client: PrefectClient, automation: AutomationCore) -> UUID:
    """Create the automation, or bring the one stored under its name up to date.

    Safe to repeat and to run from several replicas at once: when a race stored it twice, every
    replica keeps the same one (the lowest id) and removes the others.

    Returns:
        The id of the automation in force.
    """
    stored = sorted(await client.read_automations_by_name(automation.name), key=lambda a: str(a.id))
    if not stored:
        return await client.create_automation(automation)
    keep, *duplicates = stored
    for duplicate in duplicates:
        await client.delete_automation(duplicate.id)  # a 404 (another replica was first) is fine
    if _definition(keep) != _definition(automation):
        await client.update_automation(keep.id, automation)
    return keep.id


def _definition(automation: AutomationCore) -> dict[str, object]:
    return automation.model_dump(mode="json", include=set(AutomationCore.model_fields))


async def watch_for_unresponsive_runs(
    deployment_ids: Iterable[UUID], *, silent_seconds: int
) -> UUID:
    """Install (or update) the automation for the engine's deployments on the current Prefect API.

    Returns:
        The automation's id.
    """
    automation = unresponsive_run_automation(deployment_ids, silent_seconds=silent_seconds)
    async with get_client() as client:
        return await ensure_automation(client, automation)
