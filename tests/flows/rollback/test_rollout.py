"""Unit tests of `flows.rollback.rollout`: judging a DaemonSet rollout from counters and pods."""

from __future__ import annotations

from typing import Any

import pytest

from flows.rollback.rollout import Progress, judge_rollout
from integrations.kubernetes.views import DaemonSet, Pod, parse_daemon_set, parse_pod

OLD_IMAGE = "registry.k8s.io/kube-proxy:v1.30.1"
NEW_IMAGE = "registry.k8s.io/kube-proxy:v1.30.2"
IMAGES = [NEW_IMAGE]


def daemon_set(
    *,
    desired: int = 3,
    updated: int = 3,
    available: int = 3,
    unavailable: int = 0,
    generation: int = 5,
    observed: int | None = 5,
    max_unavailable: int | str | None = 1,
) -> DaemonSet:
    """The kube-proxy DaemonSet rolling out ``NEW_IMAGE``, with the given status counters."""
    status: dict[str, Any] = {
        "desiredNumberScheduled": desired,
        "currentNumberScheduled": desired,
        "updatedNumberScheduled": updated,
        "numberReady": available,
        "numberAvailable": available,
        "numberUnavailable": unavailable,
    }
    if observed is not None:
        status["observedGeneration"] = observed
    strategy: dict[str, Any] = {"type": "RollingUpdate"}
    if max_unavailable is not None:
        strategy["rollingUpdate"] = {"maxUnavailable": max_unavailable}
    return parse_daemon_set(
        {
            "metadata": {
                "name": "kube-proxy",
                "namespace": "kube-system",
                "generation": generation,
            },
            "spec": {
                "template": {"spec": {"containers": [{"name": "kube-proxy", "image": NEW_IMAGE}]}},
                "updateStrategy": strategy,
            },
            "status": status,
        }
    )


def pod(
    name: str,
    *,
    node: str = "node-1",
    image: str = NEW_IMAGE,
    waiting: str | None = None,
    terminating: bool = False,
) -> Pod:
    """A kube-proxy pod on ``node`` running ``image``, waiting for ``waiting`` when given."""
    state: dict[str, Any] = (
        {"waiting": {"reason": waiting}}
        if waiting
        else {"running": {"startedAt": "2024-05-01T00:00:00Z"}}
    )
    metadata: dict[str, Any] = {"name": name, "namespace": "kube-system"}
    if terminating:
        metadata["deletionTimestamp"] = "2024-05-01T00:05:00Z"
    return parse_pod(
        {
            "metadata": metadata,
            "spec": {"nodeName": node, "containers": [{"name": "kube-proxy", "image": image}]},
            "status": {
                "phase": "Running",
                "containerStatuses": [
                    {
                        "name": "kube-proxy",
                        "image": image,
                        "ready": waiting is None,
                        "restartCount": 4 if waiting else 0,
                        "state": state,
                    }
                ],
            },
        }
    )


HEALTHY = [pod("kube-proxy-a", node="node-1"), pod("kube-proxy-b", node="node-2")]


@pytest.mark.parametrize(
    ("counters", "pods", "expected"),
    [
        pytest.param({}, HEALTHY, Progress.COMPLETE, id="all-updated-and-available"),
        pytest.param({}, [], Progress.COMPLETE, id="complete-without-pods-listed"),
        pytest.param(
            {"generation": 6, "observed": 5}, HEALTHY, Progress.PROGRESSING, id="spec-not-observed"
        ),
        pytest.param({"observed": None}, HEALTHY, Progress.PROGRESSING, id="never-observed"),
        pytest.param({"updated": 2}, HEALTHY, Progress.PROGRESSING, id="fewer-updated"),
        pytest.param(
            {"available": 2, "unavailable": 1}, HEALTHY, Progress.PROGRESSING, id="one-unavailable"
        ),
        pytest.param(
            {"unavailable": 1}, HEALTHY, Progress.PROGRESSING, id="unavailable-counter-not-zero"
        ),
        pytest.param(
            {"updated": 1},
            [*HEALTHY, pod("kube-proxy-c", waiting="CrashLoopBackOff")],
            Progress.STUCK,
            id="new-pod-crash-looping",
        ),
        pytest.param(
            {"updated": 1},
            [pod("kube-proxy-c", waiting="ImagePullBackOff")],
            Progress.STUCK,
            id="new-pod-image-pull-back-off",
        ),
        pytest.param(
            {},
            [pod("kube-proxy-c", waiting="ErrImagePull")],
            Progress.STUCK,
            id="stuck-wins-over-complete-counters",
        ),
        pytest.param(
            {"updated": 1},
            [*HEALTHY, pod("kube-proxy-old", image=OLD_IMAGE, waiting="CrashLoopBackOff")],
            Progress.PROGRESSING,
            id="old-pod-crash-looping-is-being-replaced",
        ),
        pytest.param(
            {"updated": 2},
            [pod("kube-proxy-c", waiting="CrashLoopBackOff", terminating=True)],
            Progress.PROGRESSING,
            id="terminating-pod-in-back-off-ignored",
        ),
        pytest.param(
            {"updated": 2},
            [pod("kube-proxy-c", waiting="ContainerCreating")],
            Progress.PROGRESSING,
            id="container-creating-is-not-stuck",
        ),
    ],
)
def test_the_rollout_is_judged_from_counters_generation_and_pods(
    counters: dict[str, Any], pods: list[Pod], expected: Progress
) -> None:
    verdict = judge_rollout(daemon_set(**counters), pods, images=IMAGES)

    assert verdict.progress is expected


@pytest.mark.parametrize(
    ("waiting", "node"),
    [("CrashLoopBackOff", "node-7"), ("ImagePullBackOff", "node-9")],
)
def test_a_stuck_verdict_names_the_failing_pod_its_node_and_the_reason(
    waiting: str, node: str
) -> None:
    pods = [pod("kube-proxy-a"), pod("kube-proxy-x", node=node, waiting=waiting)]

    verdict = judge_rollout(daemon_set(updated=1), pods, images=IMAGES)

    assert verdict.progress is Progress.STUCK
    assert f"new pods failing: kube-proxy-x on {node}: {waiting}" in verdict.detail
    assert "kube-proxy-a" not in verdict.detail


def test_a_stuck_verdict_lists_every_failing_pod_in_order() -> None:
    pods = [
        pod("kube-proxy-z", node="node-3", waiting="CrashLoopBackOff"),
        pod("kube-proxy-b", node="node-2", waiting="ImagePullBackOff"),
    ]

    verdict = judge_rollout(daemon_set(updated=1), pods, images=IMAGES)

    assert verdict.detail.endswith(
        "new pods failing: kube-proxy-b on node-2: ImagePullBackOff; "
        "kube-proxy-z on node-3: CrashLoopBackOff"
    )


@pytest.mark.parametrize(
    ("counters", "expected"),
    [
        pytest.param(
            {"desired": 3, "updated": 1, "available": 2, "unavailable": 1},
            "1/3 updated, 2 available, 1 unavailable (maxUnavailable 1)",
            id="mid-rollout",
        ),
        pytest.param(
            {"desired": 5000, "updated": 5000, "available": 5000, "max_unavailable": "10%"},
            "5000/5000 updated, 5000 available, 0 unavailable (maxUnavailable 10%)",
            id="percentage-bound",
        ),
        pytest.param(
            {"max_unavailable": None},
            "3/3 updated, 3 available, 0 unavailable (maxUnavailable 1)",
            id="default-bound",
        ),
    ],
)
def test_the_detail_shows_the_updated_available_and_unavailable_counters(
    counters: dict[str, Any], expected: str
) -> None:
    verdict = judge_rollout(daemon_set(**counters), [], images=IMAGES)

    assert verdict.detail == expected


def test_only_the_images_given_count_as_new() -> None:
    pods = [pod("kube-proxy-c", image=OLD_IMAGE, waiting="CrashLoopBackOff")]

    as_new = judge_rollout(daemon_set(updated=1), pods, images=[OLD_IMAGE])
    as_old = judge_rollout(daemon_set(updated=1), pods, images=[NEW_IMAGE])

    assert (as_new.progress, as_old.progress) == (Progress.STUCK, Progress.PROGRESSING)
