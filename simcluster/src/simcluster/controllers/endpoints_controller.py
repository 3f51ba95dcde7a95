"""The endpoints and EndpointSlice controllers: publish each Service's pods as it selects them."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from simcluster import resources
from simcluster.controllers.context import Context, owner_reference
from simcluster.controllers.endpoints import (
    MANAGED_BY,
    MANAGED_BY_LABEL,
    OVER_CAPACITY_ANNOTATION,
    SERVICE_NAME_LABEL,
    EndpointGroup,
    compute_endpoint_groups,
    endpoints_subsets,
    plan_slices,
    service_labels,
    slice_body,
    truncate_subsets,
)
from simcluster.errors import NotFoundError
from simcluster.naming import unique_name
from simcluster.selectors import LabelSelector, selector_from_match_labels
from simcluster.watch import ChangeEvent

Obj = dict[str, Any]


def endpoints_object(service: Obj, groups: list[EndpointGroup]) -> Obj:
    """The Endpoints object for a Service (same name, no owner reference, like Kubernetes).

    Past 1000 addresses it is truncated and annotated ``endpoints.kubernetes.io/over-capacity:
    truncated``; the EndpointSlices still list every endpoint.
    """
    meta = service["metadata"]
    obj: Obj = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": dict(meta.get("labels") or {}),
        },
    }
    subsets = endpoints_subsets(groups)
    if truncate_subsets(subsets):
        obj["metadata"]["annotations"] = {OVER_CAPACITY_ANNOTATION: "truncated"}
    if subsets:
        obj["subsets"] = subsets
    return obj


def slice_object(service: Obj, name: str, group: EndpointGroup | None) -> Obj:
    """One EndpointSlice of a Service."""
    meta = service["metadata"]
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name,
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": service_labels(service),
            "ownerReferences": [owner_reference(service)],
        },
        **slice_body(group),
    }


class EndpointsController:
    """Keeps Endpoints and EndpointSlices of selector Services in line with their pods.

    Args:
        ctx: The shared controller context.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._lock = threading.Lock()
        self._selectors: dict[str, dict[str, LabelSelector]] = {}

    def on_service(self, event: ChangeEvent, service: Obj, *, enqueue: bool = True) -> None:
        """Remember the Service's selector and queue it."""
        selector = (service.get("spec") or {}).get("selector")
        with self._lock:
            by_name = self._selectors.setdefault(event.namespace, {})
            if event.type == "DELETED" or not selector:
                by_name.pop(event.name, None)
            else:
                by_name[event.name] = selector_from_match_labels(selector)
        if enqueue:
            self._ctx.runtime.enqueue(self.reconcile, f"{event.namespace}/{event.name}")

    def selectors_in(self, namespace: str) -> list[tuple[str, LabelSelector]]:
        """The selector Services of a namespace, by name."""
        with self._lock:
            return list(self._selectors.get(namespace, {}).items())

    def on_pod(self, event: ChangeEvent) -> None:
        """Queue every Service whose selector matched the pod before or after the change."""
        with self._lock:
            selectors = list(self._selectors.get(event.namespace, {}).items())
        for name, selector in selectors:
            before = event.old_labels is not None and selector.matches(event.old_labels)
            if before or selector.matches(event.labels):
                self._ctx.runtime.enqueue(self.reconcile, f"{event.namespace}/{name}")

    def reconcile(self, key: str) -> None:
        """Publish one Service's endpoints (or remove them with the Service)."""
        namespace, _, name = key.partition("/")
        service = self._ctx.find(resources.SERVICES, key)
        if service is None:
            self._delete(resources.ENDPOINTS, namespace, name)
            for stale in self._slices(namespace, name):
                self._delete(resources.ENDPOINTSLICES, namespace, stale["metadata"]["name"])
            return
        selector = (service.get("spec") or {}).get("selector")
        if not selector or service["spec"].get("type") == "ExternalName":
            return
        pods = self._ctx.store.list_objects(
            resources.PODS, namespace=namespace, label_selector=selector_from_match_labels(selector)
        )
        groups = compute_endpoint_groups(service, pods)
        self._write_endpoints(endpoints_object(service, groups))
        self._write_slices(service, groups)

    def _write_endpoints(self, desired: Obj) -> None:
        meta = desired["metadata"]
        if not self._ctx.store.exists(resources.ENDPOINTS, meta["namespace"], meta["name"]):
            self._ctx.store.create(resources.ENDPOINTS, desired, namespace=meta["namespace"])
            return

        def mutate(current: Obj) -> None:
            current["metadata"]["labels"] = meta["labels"]
            # Other annotations stay; only the controller's own mark follows the content.
            annotations = dict(current["metadata"].get("annotations") or {})
            annotations.pop(OVER_CAPACITY_ANNOTATION, None)
            annotations.update(meta.get("annotations") or {})
            if annotations:
                current["metadata"]["annotations"] = annotations
            else:
                current["metadata"].pop("annotations", None)
            current.pop("subsets", None)
            if "subsets" in desired:
                current["subsets"] = desired["subsets"]

        self._ctx.store.update(resources.ENDPOINTS, meta["namespace"], meta["name"], mutate)

    def _slices(self, namespace: str, service: str) -> list[Obj]:
        selector = selector_from_match_labels(
            {SERVICE_NAME_LABEL: service, MANAGED_BY_LABEL: MANAGED_BY}
        )
        return self._ctx.store.list_objects(
            resources.ENDPOINTSLICES, namespace=namespace, label_selector=selector
        )

    def _write_slices(self, service: Obj, groups: list[EndpointGroup]) -> None:
        namespace, name = service["metadata"]["namespace"], service["metadata"]["name"]
        plan = plan_slices(self._slices(namespace, name), groups)
        for slice_name, group in plan.writes:
            if slice_name is None:
                new_name = unique_name(
                    f"{name}-",
                    self._ctx.rng,
                    lambda n: self._ctx.store.exists(resources.ENDPOINTSLICES, namespace, n),
                )
                self._ctx.store.create(
                    resources.ENDPOINTSLICES,
                    slice_object(service, new_name, group),
                    namespace=namespace,
                )
                continue
            body = slice_object(service, slice_name, group)

            def mutate(obj: Obj, body: Obj = body) -> None:
                obj["metadata"]["labels"] = body["metadata"]["labels"]
                obj.update({k: body[k] for k in ("addressType", "endpoints", "ports")})

            self._ctx.store.update(resources.ENDPOINTSLICES, namespace, slice_name, mutate)
        for stale in plan.deletes:
            self._delete(resources.ENDPOINTSLICES, namespace, stale)

    def _delete(self, rt: resources.ResourceType, namespace: str, name: str) -> None:
        # Already gone.
        with contextlib.suppress(NotFoundError):
            self._ctx.store.delete(rt, namespace, name)
