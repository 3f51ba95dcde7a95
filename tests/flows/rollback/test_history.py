"""What is known of the revision a rollback goes to: its image, when it was last current, how
its pods fared (pods that still run it, their Events), and "unknown" where nothing tells."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flows.rollback.history import Health, target_history
from integrations.kubernetes.views import (
    ControllerRevision,
    Event,
    Pod,
    parse_controller_revision,
    parse_event,
    parse_pod,
)

GOOD = "registry.k8s.io/kube-proxy:v1.30.4"
BROKEN = "registry.k8s.io/kube-proxy:v1.30.99-broken"


def _revision(number: int, image: str, *, created: str) -> ControllerRevision:
    template = {"spec": {"containers": [{"name": "kube-proxy", "image": image}]}}
    return parse_controller_revision(
        {
            "metadata": {
                "name": f"kube-proxy-h{number}",
                "labels": {"controller-revision-hash": f"h{number}"},
                "creationTimestamp": created,
            },
            "revision": number,
            "data": {"spec": {"template": {**template, "$patch": "replace"}}},
        }
    )


def _pod(name: str, revision: int, *, ready: bool) -> Pod:
    status: dict[str, Any] = {"conditions": [{"type": "Ready", "status": str(ready)}]}
    return parse_pod(
        {
            "metadata": {"name": name, "labels": {"controller-revision-hash": f"h{revision}"}},
            "status": status,
        }
    )


def _event(pod: str, reason: str, message: str) -> Event:
    return parse_event(
        {
            "metadata": {"name": f"{pod}.{reason}"},
            "involvedObject": {"kind": "Pod", "name": pod},
            "reason": reason,
            "message": message,
            "type": "Warning" if reason == "BackOff" else "Normal",
        }
    )


ONE = _revision(1, GOOD, created="2026-12-01T10:00:00Z")
TWO = _revision(2, BROKEN, created="2026-12-03T09:00:00Z")
THREE = _revision(3, "registry.k8s.io/kube-proxy:v1.30.5", created="2026-12-03T09:30:00Z")


def test_a_target_still_run_by_ready_pods_is_known_healthy_with_when_it_was_replaced() -> None:
    history = target_history(
        ONE,
        [ONE, TWO],
        pods=[_pod("kube-proxy-a", 1, ready=True), _pod("kube-proxy-b", 2, ready=False)],
        events=[],
    )

    assert history.health is Health.HEALTHY
    assert history.warning is None
    assert history.lines() == [
        f"Target revision 1: image {GOOD}",
        "Last current: until 2026-12-03T09:00:00+00:00, when revision 2 was created",
        "Its pods then: 1 pod(s) still run it now, 1 Ready",
    ]


def test_a_target_whose_pods_crash_looped_on_its_image_is_flagged() -> None:
    events = [
        _event("kube-proxy-x", "Pulled", f'Container image "{BROKEN}" already present on machine'),
        _event("kube-proxy-x", "BackOff", "Back-off restarting failed container"),
        _event("kube-proxy-y", "Pulled", f'Container image "{GOOD}" already present on machine'),
        _event("kube-proxy-y", "Started", "Started container kube-proxy"),
    ]

    history = target_history(TWO, [ONE, TWO, THREE], pods=[], events=events)

    assert history.health is Health.UNHEALTHY
    assert history.warning == (
        "revision 2 did not run healthily the last time it was current: pods crash-looped on "
        "its image (kube-proxy-x)"
    )
    assert (
        history.lines()[2] == "Its pods then: crash-looping (BackOff) in the Events of kube-proxy-x"
    )
    assert history.lines()[3].startswith("WARNING: revision 2 did not run healthily")


def test_a_target_whose_image_never_pulled_is_flagged() -> None:
    events = [
        _event("kube-proxy-z", "Failed", f'Failed to pull image "{BROKEN}": not found'),
        _event("kube-proxy-z", "BackOff", f'Back-off pulling image "{BROKEN}"'),
    ]

    history = target_history(TWO, [ONE, TWO, THREE], pods=[], events=events)

    assert history.pull_failed == ("kube-proxy-z",)
    assert history.crashed == ()
    assert history.health is Health.UNHEALTHY


def test_a_target_nothing_tells_about_is_unknown_not_guessed() -> None:
    history = target_history(ONE, [ONE, TWO], pods=[], events=[])

    assert history.health is Health.UNKNOWN
    assert history.warning is None
    assert history.lines()[2] == (
        "Its pods then: unknown: no pod runs it now and no Event about one remains (Events are "
        "kept about an hour)"
    )


def test_a_successor_older_than_the_target_leaves_the_end_of_its_time_unknown() -> None:
    # Rolling back renumbers the old revision: revision 3 may be an object created long before.
    renumbered = _revision(3, GOOD, created="2026-12-01T10:00:00Z")

    history = target_history(TWO, [TWO, renumbered], pods=[], events=[])

    assert history.replaced_at is None
    assert history.lines()[1] == (
        "Last current: unknown (revision 3 replaced it; when is not recorded)"
    )


def test_events_of_pods_that_ran_the_target_and_another_image_are_not_taken_as_evidence() -> None:
    events = [
        _event("kube-proxy-w", "Pulled", f'Container image "{GOOD}" already present on machine'),
        _event("kube-proxy-w", "Pulled", f'Container image "{BROKEN}" already present on machine'),
        _event("kube-proxy-w", "BackOff", "Back-off restarting failed container"),
    ]

    history = target_history(ONE, [ONE, TWO], pods=[], events=events)

    assert history.crashed == ()
    assert history.health is Health.UNKNOWN


def test_the_known_history_is_dated() -> None:
    history = target_history(ONE, [ONE, TWO], pods=[], events=[])

    assert history.created_at == datetime(2026, 12, 1, 10, tzinfo=UTC)
