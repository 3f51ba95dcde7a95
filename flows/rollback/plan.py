"""Deciding a kube-proxy rollback: which ControllerRevision to go back to, and the exact patch.

This is what ``kubectl rollout undo daemonset/kube-proxy [--to-revision=N]`` decides: the
current revision is the newest; undo goes to the newest one before it, or to revision N; and
a target whose template the DaemonSet already has is a no-op. The patch is the revision's own
``data`` (a strategic merge patch replacing ``spec.template``), as kubectl applies it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from integrations.kubernetes.views import ControllerRevision, DaemonSet

JsonObject = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RollbackPlan:
    """Roll the DaemonSet from its current template back to a revision's template.

    Attributes:
        from_revision: The newest revision (what runs now, or is rolling out).
        to_revision: The revision rolled back to.
        from_template: The DaemonSet's pod template now (restored if the rollback fails).
        to_template: The revision's pod template.
        desired_pods: Pods the DaemonSet wants (one per eligible node).
        max_unavailable: The rolling update's bound, as the DaemonSet states it.
    """

    from_revision: int
    to_revision: int
    from_template: JsonObject
    to_template: JsonObject
    desired_pods: int
    max_unavailable: int | str | None

    @property
    def image_changes(self) -> list[str]:
        """``container: old -> new`` for each container whose image changes."""
        return image_changes(self.from_template, self.to_template)

    @property
    def diff(self) -> list[str]:
        """The template change as unified-diff lines (what the approver reads)."""
        return template_diff(self.from_template, self.to_template)


@dataclass(frozen=True, slots=True)
class NoRollback:
    """Nothing to roll back to, and why."""

    reason: str


def template_of(revision: ControllerRevision) -> dict[str, Any]:
    """The pod template a DaemonSet ControllerRevision holds (its patch without ``$patch``)."""
    spec = revision.data.get("spec")
    template = spec.get("template") if isinstance(spec, Mapping) else None
    held = dict(template) if isinstance(template, Mapping) else {}
    held.pop("$patch", None)
    return held


def current_template(daemon_set: DaemonSet) -> dict[str, Any]:
    """The DaemonSet's pod template now."""
    spec = daemon_set.raw.get("spec")
    template = spec.get("template") if isinstance(spec, Mapping) else None
    return dict(template) if isinstance(template, Mapping) else {}


def rollback_patch(template: JsonObject) -> dict[str, Any]:
    """The strategic merge patch that makes ``template`` the DaemonSet's template, whole."""
    return {"spec": {"template": {**template, "$patch": "replace"}}}


def plan_rollback(
    daemon_set: DaemonSet, revisions: Sequence[ControllerRevision], *, to_revision: int | None
) -> RollbackPlan | NoRollback:
    """Decide the rollback, or say why there is none.

    Args:
        daemon_set: The DaemonSet as read now.
        revisions: The ControllerRevisions it owns, in any order.
        to_revision: Roll back to this revision number; None: to the one before the newest.
    """
    if not revisions:
        return NoRollback("the DaemonSet has no ControllerRevisions (has its controller run?)")
    ordered = sorted(revisions, key=lambda revision: revision.revision)
    newest = ordered[-1]
    numbers = ", ".join(str(revision.revision) for revision in ordered)
    if to_revision is None:
        if len(ordered) < 2:
            return NoRollback(f"only revision {newest.revision} exists: no previous revision")
        target = ordered[-2]
    else:
        found = [revision for revision in ordered if revision.revision == to_revision]
        if not found:
            return NoRollback(f"revision {to_revision} does not exist (revisions: {numbers})")
        target = found[0]
    now, wanted = current_template(daemon_set), template_of(target)
    if now == wanted:
        return NoRollback(
            f"the DaemonSet's template already matches revision {target.revision}: nothing to do"
        )
    return RollbackPlan(
        from_revision=newest.revision,
        to_revision=target.revision,
        from_template=now,
        to_template=wanted,
        desired_pods=daemon_set.status.desired_number_scheduled,
        max_unavailable=daemon_set.update_strategy.max_unavailable,
    )


def image_changes(before: JsonObject, after: JsonObject) -> list[str]:
    """``container: old -> new`` for each container whose image differs between two templates."""
    old, new = container_images(before), container_images(after)
    return [
        f"{name}: {old.get(name, '(none)')} -> {new.get(name, '(none)')}"
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    ]


def template_diff(before: JsonObject, after: JsonObject) -> list[str]:
    """The change between two pod templates as unified-diff lines of their YAML."""
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(
            _yaml_lines(before), _yaml_lines(after), "current", "rollback", n=2
        )
    ]


def container_images(template: JsonObject) -> dict[str, str]:
    """The image of each container of a pod template, by container name."""
    spec = template.get("spec")
    containers = spec.get("containers") if isinstance(spec, Mapping) else None
    return {
        str(container.get("name")): str(container.get("image"))
        for container in containers or []
        if isinstance(container, Mapping)
    }


def _yaml_lines(template: JsonObject) -> list[str]:
    text = yaml.safe_dump(dict(template), sort_keys=True, default_flow_style=False)
    return text.splitlines(keepends=True)
