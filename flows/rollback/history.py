"""What can honestly be known of the revision a rollback goes to: was it ever healthy?

A ControllerRevision keeps a template, not how it fared. What is left to tell: when the next
revision was created (the target stopped being current then, if the next one is newer), the
pods that still run it (a rollout stuck part way leaves many), and the Events about kube-proxy
pods that ran its image (kept about an hour): ``BackOff`` means they crash-looped, a failed pull
that the image never ran. Where none of that is left, the answer is "unknown", never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flows.rollback.plan import container_images
from integrations.kubernetes.views import ControllerRevision, Event, Pod

_IMAGE = re.compile(r'image "([^"]+)"')
CRASH_REASONS = frozenset({"BackOff"})
_PULL_FAILED = "Failed to pull image"
EVENT_RETENTION = "Events are kept about an hour"


class Health(StrEnum):
    """What is known of how the target's pods fared."""

    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TargetHistory:
    """The target revision as far as the cluster still tells.

    Attributes:
        revision: Its number.
        images: Its containers' images.
        created_at: When its ControllerRevision was created.
        replaced_by: The next revision, which made it not current; None when it is the newest.
        replaced_at: When that one was created, if after the target (else unknown).
        ready_now: Of the pods that run it now, how many are Ready (None: none runs it).
        running_now: How many pods run it now.
        crashed: Pods that crash-looped on its image, by their Events.
        pull_failed: Pods that could not pull its image, by their Events.
        ran_quietly: Pods that started its image with no crash or failed pull in their Events.
    """

    revision: int
    images: tuple[str, ...]
    created_at: datetime | None
    replaced_by: int | None
    replaced_at: datetime | None
    ready_now: int | None
    running_now: int
    crashed: tuple[str, ...]
    pull_failed: tuple[str, ...]
    ran_quietly: tuple[str, ...]

    @property
    def health(self) -> Health:
        """Unhealthy when its pods are seen failing (now, or in Events) and none Ready now;
        healthy when pods of it are Ready now; else unknown."""
        if self.ready_now:
            return Health.HEALTHY
        if self.crashed or self.pull_failed or self.running_now:
            return Health.UNHEALTHY
        return Health.UNKNOWN

    @property
    def warning(self) -> str | None:
        """Why the target may never have run healthily; None when nothing says so."""
        if self.health is not Health.UNHEALTHY:
            return None
        seen = []
        if self.crashed:
            seen.append(f"pods crash-looped on its image ({', '.join(self.crashed)})")
        if self.pull_failed:
            seen.append(f"pods could not pull its image ({', '.join(self.pull_failed)})")
        if self.running_now:
            seen.append(f"none of the {self.running_now} pod(s) running it now is Ready")
        return (
            f"revision {self.revision} did not run healthily the last time it was current: "
            + "; ".join(seen)
        )

    def lines(self) -> list[str]:
        """What is known, one fact a line, for the approver and the report."""
        lines = [
            f"Target revision {self.revision}: image {', '.join(self.images) or '(none)'}",
            f"Last current: {self._last_current()}",
            f"Its pods then: {self._pods()}",
        ]
        if self.warning:
            lines.append(f"WARNING: {self.warning}")
        return lines

    def _last_current(self) -> str:
        if self.replaced_by is None:
            return "it is the newest revision"
        if self.replaced_at is None:
            return f"unknown (revision {self.replaced_by} replaced it; when is not recorded)"
        return f"until {self.replaced_at.isoformat()}, when revision {self.replaced_by} was created"

    def _pods(self) -> str:
        facts = []
        if self.running_now:
            facts.append(f"{self.running_now} pod(s) still run it now, {self.ready_now} Ready")
        if self.crashed:
            facts.append(f"crash-looping (BackOff) in the Events of {', '.join(self.crashed)}")
        if self.pull_failed:
            facts.append(f"image pull failed in the Events of {', '.join(self.pull_failed)}")
        if self.ran_quietly:
            facts.append(
                f"started with no crash or failed pull in the Events of "
                f"{', '.join(self.ran_quietly)} (Ready is not recorded in Events)"
            )
        if not facts:
            return f"unknown: no pod runs it now and no Event about one remains ({EVENT_RETENTION})"
        return "; ".join(facts)


def target_history(
    target: ControllerRevision,
    revisions: Sequence[ControllerRevision],
    *,
    pods: Sequence[Pod],
    events: Sequence[Event],
) -> TargetHistory:
    """What the cluster still tells of ``target``: its successor, its pods now, their Events.

    Args:
        target: The revision the rollback goes to.
        revisions: Every revision of the DaemonSet.
        pods: The DaemonSet's pods now.
        events: The namespace's Events about pods.
    """
    images = tuple(container_images(target.template).values())
    later = [r for r in revisions if r.revision > target.revision]
    successor = min(later, key=lambda r: r.revision, default=None)
    replaced_at = None
    if successor is not None:
        created, replaced = target.meta.creation_timestamp, successor.meta.creation_timestamp
        # A successor renumbered from an older template predates the target: no end time then.
        if created is not None and replaced is not None and replaced >= created:
            replaced_at = replaced
    running = [p for p in pods if p.meta.labels.get("controller-revision-hash") == target.hash]
    crashed, pull_failed, quiet = _event_evidence(events, images, running)
    return TargetHistory(
        revision=target.revision,
        images=images,
        created_at=target.meta.creation_timestamp,
        replaced_by=successor.revision if successor else None,
        replaced_at=replaced_at,
        ready_now=sum(1 for p in running if p.ready) if running else None,
        running_now=len(running),
        crashed=crashed,
        pull_failed=pull_failed,
        ran_quietly=quiet,
    )


def _event_evidence(
    events: Sequence[Event], images: tuple[str, ...], running: Sequence[Pod]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Pods (gone or not running it now) whose Events show the target's image: crashed, pull
    failed, or started quietly."""
    now = {p.meta.name for p in running}
    by_pod: dict[str, list[Event]] = {}
    for event in events:
        if event.involved_object.kind == "Pod" and event.involved_object.name not in now:
            by_pod.setdefault(event.involved_object.name, []).append(event)
    crashed, pull_failed, quiet = [], [], []
    for pod, about in sorted(by_pod.items()):
        seen = {m.group(1) for e in about if (m := _IMAGE.search(e.message))}
        if not seen or not seen <= set(images):
            continue  # no image named, or (also) another image: not the target's to judge
        if any(e.message.startswith(_PULL_FAILED) for e in about):
            pull_failed.append(pod)
        elif any(e.reason in CRASH_REASONS and "pulling" not in e.message for e in about):
            crashed.append(pod)
        elif any(e.reason == "Started" for e in about):
            quiet.append(pod)
    return tuple(crashed), tuple(pull_failed), tuple(quiet)
