"""Planning minute 4: exact Service patches when the fix is unambiguous, else manual notes."""

from __future__ import annotations

from flows.checklist.actions import PatchServiceSelector, PatchServiceTargetPort, Phase
from flows.checklist.mitigation import NeedsApproval
from flows.checklist.notes import Note, NoteKind
from flows.checklist.observation import Observation
from flows.checklist.proposals import (
    SelectorCandidate,
    port_resolves,
    propose_selector,
    propose_target_port,
)
from runbooks.approval import ActionKind

Repair = PatchServiceSelector | PatchServiceTargetPort


def _manual(text: str, details: tuple[str, ...] = ()) -> Note:
    return Note(kind=NoteKind.MANUAL_ACTION, phase=Phase.FIX, text=text, details=details)


def plan_selector_fix(
    observation: Observation, needs_approval: NeedsApproval
) -> tuple[tuple[Repair, ...], tuple[Note, ...]]:
    """Patch the selector to the one label set of pods that nearly matches; never guess."""
    service = observation.service
    if service is None or not service.selector:
        return (), ()
    if observation.namespace_pods is None:
        return (), (_manual("Find the pods the selector should match (pods were not listed)"),)
    proposal = propose_selector(service.selector, observation.namespace_pods)
    if not isinstance(proposal, SelectorCandidate):
        return (), (_manual(f"Fix the selector by hand: {proposal.reason}", proposal.candidates),)
    action = PatchServiceSelector(
        namespace=service.namespace,
        service=service.name,
        before=service.selector,
        after=proposal.selector,
        needs_approval=needs_approval(ActionKind.PATCH_SERVICE),
    )
    return (action,), ()


def plan_target_port_fixes(
    observation: Observation, needs_approval: NeedsApproval
) -> tuple[tuple[Repair, ...], tuple[Note, ...]]:
    """Patch each targetPort no pod serves to the one port the pods expose.

    A port that only some pods lack (e.g. mid-rollout) is left to a human: patching it would
    cut off the pods that still serve it.
    """
    service = observation.service
    pods = observation.pods
    if service is None or not pods:
        return (), ()
    actions: list[Repair] = []
    notes: list[Note] = []
    approval = needs_approval(ActionKind.PATCH_SERVICE)
    for index, port in enumerate(service.ports):
        verdicts = [port_resolves(port, pod) for pod in pods]
        if False not in verdicts:
            continue
        where = f"targetPort {port.target_port!r} of port {port.port}"
        if any(v is not False for v in verdicts):
            notes.append(_manual(f"Only some pods lack {where}: fix pods or Service by hand"))
            continue
        proposal = propose_target_port(port, pods)
        if isinstance(proposal, int | str):
            actions.append(
                PatchServiceTargetPort(
                    namespace=service.namespace,
                    service=service.name,
                    index=index,
                    port=port.port,
                    before=port.target_port,
                    after=proposal,
                    needs_approval=approval,
                )
            )
        else:
            notes.append(_manual(f"Fix {where} by hand: {proposal.reason}", proposal.candidates))
    return tuple(actions), tuple(notes)
