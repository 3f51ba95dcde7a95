"""What a plan leaves to humans: notes on what it does not do itself, and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flows.checklist.actions import Phase


class NoteKind(StrEnum):
    """What a note asks of the humans reading the plan."""

    NO_ACTION = "no_action"
    MANUAL_ACTION = "manual_action"
    RECOMMEND_ROLLBACK = "recommend_rollback"
    DEFERRED = "deferred"
    DIRECT_POD_ACCESS = "direct_pod_access"
    ALREADY_IN_PLACE = "already_in_place"


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """Something the plan does not do itself, and says so."""

    kind: NoteKind
    phase: Phase
    text: str
    details: tuple[str, ...] = ()
