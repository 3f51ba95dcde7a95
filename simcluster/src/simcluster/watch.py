"""Change events of the store: the retained history and the subscriptions that receive them."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from simcluster.errors import GoneError
from simcluster.resources import ResourceType
from simcluster.selectors import FieldSelector, LabelSelector

EventType = Literal["ADDED", "MODIFIED", "DELETED"]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One committed change of one object.

    Attributes:
        type: ADDED, MODIFIED or DELETED.
        resource: The object's resource type.
        namespace: Its namespace ('' when cluster-scoped).
        name: Its name.
        raw: The serialized object after the change (before it, for DELETED).
        resource_version: The store revision this change committed.
        labels: Labels after the change.
        fields: Selectable fields after the change.
        old_labels: Labels before the change (None for ADDED).
        old_fields: Selectable fields before the change (None for ADDED).
    """

    type: EventType
    resource: ResourceType
    namespace: str
    name: str
    raw: bytes
    resource_version: int
    labels: Mapping[str, str]
    fields: Mapping[str, str]
    old_labels: Mapping[str, str] | None = None
    old_fields: Mapping[str, str] | None = None


Sink = Callable[[ChangeEvent], None]


@dataclass(eq=False)
class Subscription:
    """A filtered stream of change events for one resource type (a watch).

    Events whose object moves into the filter arrive as ADDED and out of it as DELETED, as the
    apiserver's watch cache does, so a watcher's view stays consistent with a fresh list.
    """

    resource: ResourceType
    namespace: str | None
    label_selector: LabelSelector
    field_selector: FieldSelector
    sink: Sink
    active: bool = True

    def _matches(self, labels: Mapping[str, str], fields: Mapping[str, str]) -> bool:
        return self.label_selector.matches(labels) and self.field_selector.matches(fields)

    def offer(self, event: ChangeEvent) -> None:
        """Deliver the event, translated for this subscription's filter, if it concerns it."""
        if not self.active or event.resource != self.resource:
            return
        if self.namespace is not None and event.namespace != self.namespace:
            return
        now = self._matches(event.labels, event.fields)
        before = (
            event.old_labels is not None
            and event.old_fields is not None
            and self._matches(event.old_labels, event.old_fields)
        )
        if event.type == "ADDED":
            if now:
                self.sink(event)
        elif event.type == "DELETED":
            if now or before:
                self.sink(event)
        elif now and before:
            self.sink(event)
        elif now:
            self.sink(_retyped(event, "ADDED"))
        elif before:
            self.sink(_retyped(event, "DELETED"))

    def cancel(self) -> None:
        """Stop delivering events to this subscription."""
        self.active = False


def _retyped(event: ChangeEvent, type_: EventType) -> ChangeEvent:
    return ChangeEvent(
        type=type_,
        resource=event.resource,
        namespace=event.namespace,
        name=event.name,
        raw=event.raw,
        resource_version=event.resource_version,
        labels=event.labels,
        fields=event.fields,
        old_labels=event.old_labels,
        old_fields=event.old_fields,
    )


@dataclass
class History:
    """The most recent change events, so a watch can resume from a recent resourceVersion."""

    capacity: int = 20_000
    events: deque[ChangeEvent] = field(default_factory=deque)
    oldest_retained: int = 0

    def append(self, event: ChangeEvent) -> None:
        """Record an event, forgetting the oldest past capacity."""
        self.events.append(event)
        while len(self.events) > self.capacity:
            dropped = self.events.popleft()
            self.oldest_retained = dropped.resource_version

    def since(self, resource_version: int) -> list[ChangeEvent]:
        """Events after ``resource_version``.

        Raises:
            GoneError: that revision is older than the retained history (HTTP 410).
        """
        if resource_version < self.oldest_retained:
            raise GoneError(
                f"too old resource version: {resource_version} ({self.oldest_retained})"
            )
        return [e for e in self.events if e.resource_version > resource_version]


class ChangeFeed:
    """Fans committed changes out to watches and listeners, and keeps the recent history.

    Not thread-safe by itself: the store calls it under its lock.
    """

    def __init__(self, history: History) -> None:
        self._history = history
        self._subscriptions: list[Subscription] = []
        self._listeners: list[Sink] = []

    def subscribe(self, subscription: Subscription, *, since: int | None) -> None:
        """Replay history after ``since`` (when given) into the subscription, then keep it live.

        Raises:
            GoneError: ``since`` is older than the retained history.
        """
        if since is not None:
            for event in self._history.since(since):
                subscription.offer(event)
        self._subscriptions.append(subscription)

    def listen(self, listener: Sink) -> None:
        """Deliver every future change, unfiltered, to ``listener``."""
        self._listeners.append(listener)

    def publish(self, event: ChangeEvent) -> None:
        """Record a change and deliver it to every active subscription and listener."""
        self._history.append(event)
        self._subscriptions = [s for s in self._subscriptions if s.active]
        for subscription in self._subscriptions:
            subscription.offer(event)
        for listener in self._listeners:
            listener(event)
