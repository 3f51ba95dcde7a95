"""ControllerRevisions of a DaemonSet: one per distinct pod template, numbered like Kubernetes."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simcluster.naming import template_hash

Obj = dict[str, Any]


def revision_data(template: Obj) -> Obj:
    """The patch a DaemonSet ControllerRevision stores (what ``rollout undo`` applies)."""
    return {"spec": {"template": {**copy.deepcopy(template), "$patch": "replace"}}}


def template_of(revision: Obj) -> Obj:
    """The pod template a ControllerRevision holds."""
    template = dict(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


@dataclass(frozen=True)
class RevisionPlan:
    """The current revision of a template, and whether it must be created or renumbered.

    Attributes:
        name: The ControllerRevision's name.
        hash: The ``controller-revision-hash`` label its pods carry.
        number: Its ``revision`` after the plan is carried out.
        create: No revision holds this template yet.
        renumber: An older revision holds it and becomes the newest (a rollback).
    """

    name: str
    hash: str
    number: int
    create: bool
    renumber: bool


def plan_revision(owner_name: str, template: Obj, existing: Sequence[Obj]) -> RevisionPlan:
    """Find or plan the ControllerRevision for ``template`` among ``existing`` ones."""
    newest = max((int(r.get("revision", 0)) for r in existing), default=0)
    for revision in existing:
        if template_of(revision) == template:
            number = int(revision.get("revision", 0))
            labels = revision["metadata"].get("labels") or {}
            name = revision["metadata"]["name"]
            hash_ = labels.get("controller-revision-hash") or name.rsplit("-", 1)[-1]
            if number == newest:
                return RevisionPlan(name, hash_, number, create=False, renumber=False)
            return RevisionPlan(name, hash_, newest + 1, create=False, renumber=True)
    hash_ = template_hash(template)
    return RevisionPlan(f"{owner_name}-{hash_}", hash_, newest + 1, create=True, renumber=False)


def revisions_to_prune(existing: Sequence[Obj], *, keep: int, current: str) -> list[str]:
    """Names of the oldest revisions beyond the history limit (never the current one)."""
    ordered = sorted(existing, key=lambda r: int(r.get("revision", 0)), reverse=True)
    old = [r["metadata"]["name"] for r in ordered if r["metadata"]["name"] != current]
    return old[keep:]
