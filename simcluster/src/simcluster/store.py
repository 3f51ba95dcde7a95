"""The simulated cluster's object store: versioned, indexed, serialized objects and their changes.

Objects are kept serialized (orjson bytes) beside the few fields selectors need. That keeps a
100,000-Pod cluster within memory, lets list responses be assembled without re-encoding, and
makes every read a fresh copy, so no caller can mutate stored state by accident.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

import orjson

from simcluster import resources
from simcluster.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidError,
    NotFoundError,
)
from simcluster.metadata import (
    generate_name,
    replacement,
    resolve_namespace,
    stamp_new_object,
)
from simcluster.objects import (
    Entry,
    ListResult,
    Obj,
    field_value,
    format_time,
    selectable_fields,
    supports_field,
    utc_now,
)
from simcluster.resources import ResourceType
from simcluster.selectors import FieldSelector, LabelSelector
from simcluster.watch import ChangeEvent, ChangeFeed, EventType, History, Sink, Subscription

Mutator = Callable[[Obj], None]


class Store:
    """Thread-safe, revisioned storage for every served resource type.

    Args:
        clock: Source of the current time (tests may inject a fixed or fake clock).
        history: How many change events are kept for watches that resume.
    """

    def __init__(self, *, clock: Callable[[], datetime] = utc_now, history: int = 20_000) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._revision = 1
        self._tables: dict[ResourceType, dict[str, dict[str, Entry]]] = {
            rt: {} for rt in resources.ALL
        }
        self._feed = ChangeFeed(History(capacity=history))

    @property
    def resource_version(self) -> int:
        """The latest committed revision."""
        return self._revision

    # -- reads ---------------------------------------------------------------------------------

    def get_raw(self, rt: ResourceType, namespace: str | None, name: str) -> bytes:
        """Return one object serialized.

        Raises:
            NotFoundError: no such object.
        """
        entry = self._tables[rt].get(namespace or "", {}).get(name)
        if entry is None:
            raise NotFoundError.of(rt, name)
        return entry.raw

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        """Return one object as a fresh dict.

        Raises:
            NotFoundError: no such object.
        """
        return orjson.loads(self.get_raw(rt, namespace, name))  # type: ignore[no-any-return]  # orjson is untyped

    def exists(self, rt: ResourceType, namespace: str | None, name: str) -> bool:
        """Tell whether an object exists."""
        return name in self._tables[rt].get(namespace or "", {})

    def list(
        self,
        rt: ResourceType,
        *,
        namespace: str | None = None,
        label_selector: LabelSelector | None = None,
        field_selector: FieldSelector | None = None,
    ) -> ListResult:
        """Return the objects that match, in namespace then name order."""
        with self.lock:
            items = [
                entry.raw
                for entry in self._scan(rt, namespace)
                if (label_selector is None or label_selector.matches(entry.labels))
                and (field_selector is None or field_selector.matches(entry.fields))
            ]
            return ListResult(items, self._revision)

    def list_objects(
        self,
        rt: ResourceType,
        *,
        namespace: str | None = None,
        label_selector: LabelSelector | None = None,
        field_selector: FieldSelector | None = None,
    ) -> builtins.list[Obj]:
        """Like `list`, decoded into dicts (for controllers and tests)."""
        return self.list(
            rt, namespace=namespace, label_selector=label_selector, field_selector=field_selector
        ).objects()

    def count(self, rt: ResourceType) -> int:
        """How many objects of a type exist."""
        return sum(len(names) for names in self._tables[rt].values())

    def _scan(self, rt: ResourceType, namespace: str | None) -> Iterator[Entry]:
        table = self._tables[rt]
        if namespace is not None:
            names = table.get(namespace, {})
            yield from (names[n] for n in sorted(names))
            return
        for ns in sorted(table):
            names = table[ns]
            yield from (names[n] for n in sorted(names))

    # -- writes --------------------------------------------------------------------------------

    def create(self, rt: ResourceType, obj: Obj, *, namespace: str | None = None) -> Obj:
        """Store a new object, setting the server-owned metadata.

        Args:
            rt: Its resource type.
            obj: The object; ``metadata.name`` or ``metadata.generateName`` is required.
            namespace: The namespace from the URL (wins over ``metadata.namespace``).

        Raises:
            InvalidError: no name, or a namespace on a cluster-scoped object.
            NotFoundError: the namespace does not exist.
            AlreadyExistsError: the name is taken.
        """
        with self.lock:
            meta = obj.setdefault("metadata", {})
            ns = resolve_namespace(
                rt,
                meta,
                from_url=namespace,
                namespace_exists=lambda n: self.exists(resources.NAMESPACES, None, n),
            )
            name = meta.get("name") or generate_name(
                meta.get("generateName"), taken=lambda n: self.exists(rt, ns, n)
            )
            if not name:
                raise InvalidError.of(
                    rt, "", [("metadata.name", "FieldValueRequired", "Required value")]
                )
            if self.exists(rt, ns, name):
                raise AlreadyExistsError.of(rt, name)
            stamp_new_object(rt, obj, name=name, namespace=ns, now=self.clock())
            return self._commit(rt, ns, name, obj, "ADDED", None)

    def replace(self, rt: ResourceType, obj: Obj, *, subresource: str | None = None) -> Obj:
        """Replace an object (PUT), honouring ``metadata.resourceVersion`` as a precondition.

        Args:
            rt: Its resource type.
            obj: The full new object.
            subresource: ``status`` to replace only the status; None for the main resource,
                whose status is kept as stored (as with a real status subresource).

        Raises:
            NotFoundError: no such object.
            ConflictError: ``metadata.resourceVersion`` is set and stale.
        """
        meta = obj.get("metadata") or {}
        ns, name = meta.get("namespace") or "", meta.get("name") or ""
        expected = meta.get("resourceVersion")

        def apply(current: Obj) -> None:
            if expected and str(expected) != current["metadata"]["resourceVersion"]:
                raise ConflictError.stale(rt, name)
            replaced = replacement(rt, current, obj, subresource=subresource)
            current.clear()
            current.update(replaced)

        return self.update(rt, ns or None, name, apply)

    def update(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        mutate: Mutator,
    ) -> Obj:
        """Atomically read, change in place with ``mutate``, and write one object.

        Bumps ``metadata.generation`` when the spec changed and records no change (and no new
        revision) when ``mutate`` left the object as it was, so repeated updates are cheap.

        Raises:
            NotFoundError: no such object.
        """
        with self.lock:
            ns = namespace or ""
            entry = self._tables[rt].get(ns, {}).get(name)
            if entry is None:
                raise NotFoundError.of(rt, name)
            original: Obj = orjson.loads(entry.raw)
            current: Obj = orjson.loads(entry.raw)
            mutate(current)
            meta = current.setdefault("metadata", {})
            meta["name"], meta["resourceVersion"] = name, str(entry.resource_version)
            if rt.namespaced:
                meta["namespace"] = ns
            current["apiVersion"], current["kind"] = rt.api_version, rt.kind
            if current == original:
                return current
            if "generation" in meta and current.get("spec") != original.get("spec"):
                meta["generation"] = int(meta["generation"]) + 1
            return self._commit(rt, ns, name, current, "MODIFIED", entry)

    def delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        *,
        uid: str | None = None,
        resource_version: str | None = None,
    ) -> Obj:
        """Delete an object, optionally only if it is still the one the caller saw.

        Raises:
            NotFoundError: no such object.
            ConflictError: a precondition (uid or resourceVersion) does not hold.
        """
        with self.lock:
            ns = namespace or ""
            entry = self._tables[rt].get(ns, {}).get(name)
            if entry is None:
                raise NotFoundError.of(rt, name)
            obj: Obj = orjson.loads(entry.raw)
            if uid is not None and obj["metadata"].get("uid") != uid:
                raise ConflictError(
                    f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
                    f"{obj['metadata'].get('uid')}"
                )
            if resource_version is not None and resource_version != str(entry.resource_version):
                raise ConflictError.stale(rt, name)
            del self._tables[rt][ns][name]
            self._revision += 1
            obj["metadata"]["resourceVersion"] = str(self._revision)
            # A pod that went through its grace period keeps the deadline it was given.
            obj["metadata"].setdefault("deletionTimestamp", format_time(self.clock()))
            self._publish("DELETED", rt, ns, name, orjson.dumps(obj), entry, entry)
            return obj

    # -- changes -------------------------------------------------------------------------------

    def subscribe(
        self,
        rt: ResourceType,
        sink: Sink,
        *,
        namespace: str | None = None,
        label_selector: LabelSelector | None = None,
        field_selector: FieldSelector | None = None,
        since: int | None = None,
    ) -> Subscription:
        """Start a watch: replay changes after revision ``since`` (if given), then stream live.

        The sink is called under the store lock: it must only enqueue.

        Raises:
            GoneError: ``since`` is older than the retained history.
        """
        subscription = Subscription(
            rt,
            namespace,
            label_selector or LabelSelector(),
            field_selector or FieldSelector(),
            sink,
        )
        with self.lock:
            self._feed.subscribe(subscription, since=since)
        return subscription

    def listen(self, listener: Sink) -> None:
        """Receive every change of every type, synchronously under the lock (controllers)."""
        with self.lock:
            self._feed.listen(listener)

    def _commit(
        self, rt: ResourceType, ns: str, name: str, obj: Obj, type_: EventType, old: Entry | None
    ) -> Obj:
        self._revision += 1
        obj["metadata"]["resourceVersion"] = str(self._revision)
        raw = orjson.dumps(obj)
        entry = Entry(
            raw=raw,
            labels=dict(obj["metadata"].get("labels") or {}),
            fields=selectable_fields(rt, obj),
            resource_version=self._revision,
        )
        self._tables[rt].setdefault(ns, {})[name] = entry
        self._publish(type_, rt, ns, name, raw, entry, old)
        return obj

    def _publish(
        self,
        type_: EventType,
        rt: ResourceType,
        ns: str,
        name: str,
        raw: bytes,
        entry: Entry,
        old: Entry | None,
    ) -> None:
        self._feed.publish(
            ChangeEvent(
                type=type_,
                resource=rt,
                namespace=ns,
                name=name,
                raw=raw,
                resource_version=self._revision,
                labels=entry.labels,
                fields=entry.fields,
                old_labels=old.labels if old else None,
                old_fields=old.fields if old else None,
            )
        )


def create_all(store: Store, objects: Iterable[Obj]) -> list[Obj]:
    """Create objects of any served kind in order (namespaces first if listed first)."""
    created = []
    for obj in objects:
        created.append(store.create(resources.resource_for_kind(obj["kind"]), obj))
    return created


__all__ = [
    "Entry",
    "ListResult",
    "Mutator",
    "Obj",
    "Store",
    "create_all",
    "field_value",
    "format_time",
    "supports_field",
    "utc_now",
]
