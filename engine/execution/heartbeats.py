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
from prefect.exceptions import PrefectHTTPStatusError
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY

AUTOMATION_NAME = "service-runbooks: crash unresponsive runs"
HEARTBEAT_EVENT = "prefect.flow-run.heartbeat"
WATCH_AFTER = frozenset({HEARTBEAT_EVENT, "prefect.flow-run.Pending", "prefect.flow-run.Running"})
ANY_RUN_EVENT = "prefect.flow-run.*"
#: How the message of a run the automation marked Crashed begins (`crash_message`).
CRASH_MESSAGE_START = "No heartbeat or state change for"
#: Looks at the stored copies before giving up; two settle every race (`ensure_automation`).
INSTALL_ATTEMPTS = 5
_NOT_FOUND = 404


class AutomationInstallError(RuntimeError):
    """The automation could not be brought to one up-to-date copy."""


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
        f"{CRASH_MESSAGE_START} {silent_seconds}s: the runbook engine executing "
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

    Safe to repeat and to run from several replicas at once. Prefect has no upsert by name, so
    a replica that creates a copy looks again before it settles, and every replica keeps the
    copy with the lowest id among those it sees and removes the others. The last replica to
    look sees every copy, so one is left; the lowest id of all is the lowest of every view that
    holds it, so no replica removes it, and one is always left.

    Returns:
        The id of the automation in force (as this replica saw it).

    Raises:
        AutomationInstallError: the stored copies kept changing under it (not seen in practice).
    """
    for _ in range(INSTALL_ATTEMPTS):
        stored = sorted(
            await client.read_automations_by_name(automation.name), key=lambda a: str(a.id)
        )
        if not stored:
            await client.create_automation(automation)
            continue  # a replica starting beside this one may have created a copy too
        keep, *duplicates = stored
        for duplicate in duplicates:
            await _delete_if_present(client, duplicate.id)
        if _definition(keep) == _definition(automation):
            return keep.id
        try:
            await client.update_automation(keep.id, automation)
        except PrefectHTTPStatusError as error:
            if error.response.status_code != _NOT_FOUND:
                raise
            continue  # removed meanwhile by a replica that saw a copy with a lower id
        return keep.id
    raise AutomationInstallError(
        f"the automation {automation.name!r} kept changing while being installed"
    )


async def _delete_if_present(client: PrefectClient, automation_id: UUID) -> None:
    # Prefect's client raises on the 404 of a copy another replica removed first.
    try:
        await client.delete_automation(automation_id)
    except PrefectHTTPStatusError as error:
        if error.response.status_code != _NOT_FOUND:
            raise


def _definition(automation: AutomationCore) -> dict[str, object]:
    dumped = automation.model_dump(mode="json", include=set(AutomationCore.model_fields))
    # Sets (the trigger's `after`, `expect`) dump in hash-seed order: sorted, two engines
    # compare equal definitions as equal, and a rewrite (which gives the trigger a new id and
    # drops Prefect's watches of runs already silent) happens only for a real change.
    return {key: _sorted_lists(item) for key, item in dumped.items()}


def _sorted_lists(value: object) -> object:
    if isinstance(value, dict):
        return {key: _sorted_lists(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [_sorted_lists(item) for item in value]
        strings = [item for item in items if isinstance(item, str)]
        return sorted(strings) if len(strings) == len(items) else items
    return value


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
