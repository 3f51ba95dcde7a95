"""Judging a DaemonSet rollout from what the API shows: done, still going, or stuck."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from integrations.kubernetes.views import DaemonSet, Pod

#: Container waiting reasons that mean a new pod will not become Ready on its own soon.
STUCK_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
    }
)


class Progress(StrEnum):
    """Where a rollout stands."""

    COMPLETE = "complete"
    PROGRESSING = "progressing"
    STUCK = "stuck"


@dataclass(frozen=True, slots=True)
class RolloutVerdict:
    """A rollout's progress, with the counters and pods behind it in words."""

    progress: Progress
    detail: str


def judge_rollout(
    daemon_set: DaemonSet, pods: Sequence[Pod], *, images: Iterable[str]
) -> RolloutVerdict:
    """Judge the rollout of the template whose container images are ``images``.

    Complete: the controller has seen the spec, and every desired pod is updated and available.
    Stuck: a pod running the new images is in a back-off it will not leave by itself (crash
    loop, image pull); the controller would wait on it for ever within ``maxUnavailable``.

    Args:
        daemon_set: The DaemonSet as read now.
        pods: Its pods as read now.
        images: The images of the template being rolled out.
    """
    status = daemon_set.status
    bound = daemon_set.update_strategy.max_unavailable
    counters = (
        f"{status.updated_number_scheduled}/{status.desired_number_scheduled} updated, "
        f"{status.number_available} available, {status.number_unavailable} unavailable "
        f"(maxUnavailable {1 if bound is None else bound})"
    )
    wanted = set(images)
    stuck = sorted(
        f"{pod.meta.name} on {pod.node_name or '?'}: {reason}"
        for pod in pods
        if pod.meta.deletion_timestamp is None
        for container in pod.container_statuses
        if container.image in wanted
        for reason in [container.waiting_reason]
        if reason in STUCK_REASONS
    )
    if stuck:
        return RolloutVerdict(Progress.STUCK, f"{counters}; new pods failing: {'; '.join(stuck)}")
    desired = status.desired_number_scheduled
    if (
        daemon_set.rollout_observed
        and status.updated_number_scheduled >= desired
        and status.number_available >= desired
        and status.number_unavailable == 0
    ):
        return RolloutVerdict(Progress.COMPLETE, counters)
    return RolloutVerdict(Progress.PROGRESSING, counters)
