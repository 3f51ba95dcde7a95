"""Watches see objects enter and leave their selection, and resume from the retained history."""

from __future__ import annotations

import pytest

from simcluster import resources
from simcluster.errors import GoneError
from simcluster.selectors import FieldSelector, parse_field_selector, parse_label_selector
from simcluster.watch import ChangeEvent, ChangeFeed, EventType, History, Subscription

WEB, DB = {"app": "web"}, {"app": "db"}


def _event(
    type_: EventType,
    *,
    labels: dict[str, str] = WEB,
    old_labels: dict[str, str] | None = None,
    namespace: str = "shop",
    resource: resources.ResourceType = resources.PODS,
    version: int = 1,
) -> ChangeEvent:
    fields = {"metadata.namespace": namespace}
    return ChangeEvent(
        type=type_,
        resource=resource,
        namespace=namespace,
        name="web-1",
        raw=b"{}",
        resource_version=version,
        labels=labels,
        fields=fields,
        old_labels=old_labels,
        old_fields=None if old_labels is None else fields,
    )


def _watch(
    selector: str = "app=web", *, namespace: str | None = "shop"
) -> tuple[Subscription, list[ChangeEvent]]:
    seen: list[ChangeEvent] = []
    subscription = Subscription(
        resources.PODS, namespace, parse_label_selector(selector), FieldSelector(), seen.append
    )
    return subscription, seen


@pytest.mark.parametrize(
    ("event", "delivered"),
    [
        (_event("ADDED"), "ADDED"),
        (_event("ADDED", labels=DB), None),
        (_event("MODIFIED", old_labels=WEB), "MODIFIED"),
        (_event("MODIFIED", labels=WEB, old_labels=DB), "ADDED"),
        (_event("MODIFIED", labels=DB, old_labels=WEB), "DELETED"),
        (_event("MODIFIED", labels=DB, old_labels=DB), None),
        (_event("DELETED", old_labels=WEB), "DELETED"),
        (_event("DELETED", labels=DB, old_labels=WEB), "DELETED"),
        (_event("DELETED", labels=DB, old_labels=DB), None),
        (_event("ADDED", namespace="default"), None),
        (_event("ADDED", resource=resources.SERVICES), None),
    ],
    ids=[
        "added in the selection",
        "added outside it",
        "modified within it",
        "modified into it",
        "modified out of it",
        "modified outside it",
        "deleted from it",
        "deleted after leaving it in the same change",
        "deleted outside it",
        "another namespace",
        "another resource",
    ],
)
def test_a_filtered_watch_sees_changes_as_its_selection_does(
    event: ChangeEvent, delivered: EventType | None
) -> None:
    subscription, seen = _watch()
    subscription.offer(event)
    assert [e.type for e in seen] == ([delivered] if delivered else [])
    assert all(e.resource_version == event.resource_version and e.name == event.name for e in seen)


def test_an_unfiltered_watch_of_every_namespace_sees_everything() -> None:
    subscription, seen = _watch("", namespace=None)
    for event in (
        _event("ADDED", namespace="default"),
        _event("MODIFIED", labels=DB, old_labels=DB),
    ):
        subscription.offer(event)
    assert [e.type for e in seen] == ["ADDED", "MODIFIED"]


def test_a_field_selector_filters_like_a_label_selector() -> None:
    seen: list[ChangeEvent] = []
    fields = parse_field_selector("metadata.namespace=kube-system", supported=lambda path: True)
    subscription = Subscription(resources.PODS, None, parse_label_selector(""), fields, seen.append)
    subscription.offer(_event("ADDED", namespace="shop"))
    subscription.offer(_event("ADDED", namespace="kube-system"))
    assert [e.namespace for e in seen] == ["kube-system"]


def test_a_cancelled_watch_sees_nothing() -> None:
    subscription, seen = _watch()
    subscription.cancel()
    subscription.offer(_event("ADDED"))
    assert seen == []


@pytest.mark.parametrize(
    ("since", "replayed"),
    [(2, [3, 4, 5]), (4, [5]), (5, []), (9, [])],
)
def test_history_replays_the_events_after_a_retained_revision(
    since: int, replayed: list[int]
) -> None:
    history = History(capacity=3)
    for version in range(1, 6):
        history.append(_event("MODIFIED", old_labels=WEB, version=version))
    assert [e.resource_version for e in history.since(since)] == replayed


@pytest.mark.parametrize("since", [0, 1])
def test_history_is_gone_for_revisions_it_forgot(since: int) -> None:
    history = History(capacity=3)
    for version in range(1, 6):
        history.append(_event("MODIFIED", old_labels=WEB, version=version))
    with pytest.raises(GoneError, match=f"too old resource version: {since} \\(2\\)"):
        history.since(since)


def test_a_feed_replays_history_then_delivers_live_changes() -> None:
    feed = ChangeFeed(History())
    feed.publish(_event("ADDED", version=1))
    feed.publish(_event("MODIFIED", old_labels=WEB, version=2))
    subscription, seen = _watch()
    feed.subscribe(subscription, since=1)
    feed.publish(_event("DELETED", old_labels=WEB, version=3))
    assert [(e.type, e.resource_version) for e in seen] == [("MODIFIED", 2), ("DELETED", 3)]


def test_a_feed_subscription_without_a_revision_sees_only_live_changes() -> None:
    feed = ChangeFeed(History())
    feed.publish(_event("ADDED", version=1))
    subscription, seen = _watch()
    feed.subscribe(subscription, since=None)
    feed.publish(_event("MODIFIED", old_labels=WEB, version=2))
    assert [e.resource_version for e in seen] == [2]


def test_listeners_hear_every_change_and_cancelled_watches_are_dropped() -> None:
    feed = ChangeFeed(History())
    heard: list[int] = []
    feed.listen(lambda e: heard.append(e.resource_version))
    subscription, seen = _watch()
    feed.subscribe(subscription, since=None)
    subscription.cancel()
    feed.publish(_event("ADDED", labels=DB, resource=resources.SERVICES, version=7))
    assert (heard, seen) == ([7], [])
