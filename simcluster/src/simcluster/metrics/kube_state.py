"""kube-state-metrics v2: the Service, Endpoints, Pod and DaemonSet series, from the store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simcluster import resources
from simcluster.metrics.exposition import Family, render
from simcluster.store import Store

Obj = dict[str, Any]
# kube_pod_status_phase has a series per phase, 1 for the pod's own, as kube-state-metrics does.
_PHASES = ("Pending", "Succeeded", "Failed", "Unknown", "Running")
# ksm names each DaemonSet status field's series after it: (series suffix, field, HELP).
_NODES_RUNNING = "The number of nodes that should be running the daemon pod and have"
_DAEMONSET_STATUS = (
    (
        "current_number_scheduled",
        "currentNumberScheduled",
        "The number of nodes running at least one daemon pod and are supposed to.",
    ),
    (
        "desired_number_scheduled",
        "desiredNumberScheduled",
        "The number of nodes that should be running the daemon pod.",
    ),
    (
        "number_available",
        "numberAvailable",
        f"{_NODES_RUNNING} one or more of the daemon pod running and available",
    ),
    (
        "number_misscheduled",
        "numberMisscheduled",
        "The number of nodes running a daemon pod but are not supposed to.",
    ),
    (
        "number_ready",
        "numberReady",
        f"{_NODES_RUNNING} one or more of the daemon pod running and ready.",
    ),
    (
        "number_unavailable",
        "numberUnavailable",
        f"{_NODES_RUNNING} none of the daemon pod running and available",
    ),
    (
        "observed_generation",
        "observedGeneration",
        "The most recent generation observed by the daemon set controller.",
    ),
    (
        "updated_number_scheduled",
        "updatedNumberScheduled",
        "The total number of nodes that are running updated daemon pod",
    ),
)


def kube_state_metrics(store: Store) -> str:
    """What kube-state-metrics serves at ``/metrics`` for the store's objects now."""
    return render(
        [
            *service_families(store.list_objects(resources.SERVICES)),
            *endpoint_families(store.list_objects(resources.ENDPOINTS)),
            *pod_families(store.list_objects(resources.PODS)),
            *daemonset_families(store.list_objects(resources.DAEMONSETS)),
        ]
    )


def service_families(services: list[Obj]) -> list[Family]:
    """``kube_service_*``: every series starts with namespace, service and uid."""
    info = Family("kube_service_info", "Information about service.", "gauge")
    kind = Family("kube_service_spec_type", "Type about service.", "gauge")
    created = Family("kube_service_created", "Unix creation timestamp", "gauge")
    for service in services:
        meta, spec = service["metadata"], service.get("spec") or {}
        ids = _ids(meta, "service")
        info.add(
            1,
            **ids,
            cluster_ip=str(spec.get("clusterIP") or ""),
            external_name=str(spec.get("externalName") or ""),
            load_balancer_ip=str(spec.get("loadBalancerIP") or ""),
        )
        kind.add(1, **ids, type=str(spec.get("type") or "ClusterIP"))
        created.add(_timestamp(meta.get("creationTimestamp")), **ids)
    return [info, kind, created]


def endpoint_families(endpoints: list[Obj]) -> list[Family]:
    """``kube_endpoint_*``: namespace and endpoint (the Endpoints object's name), no uid."""
    info = Family("kube_endpoint_info", "Information about endpoint.", "gauge")
    address = Family(
        "kube_endpoint_address",
        "Information about Endpoint available and non available addresses.",
        "gauge",
    )
    available = Family(
        "kube_endpoint_address_available", "Number of addresses available in endpoint.", "gauge"
    )
    not_ready = Family(
        "kube_endpoint_address_not_ready", "Number of addresses not ready in endpoint", "gauge"
    )
    ports = Family("kube_endpoint_ports", "Information about the Endpoint ports.", "gauge")
    for endpoint in endpoints:
        meta = endpoint["metadata"]
        ids = {"namespace": meta.get("namespace", ""), "endpoint": meta["name"]}
        info.add(1, **ids)
        ready_count = not_ready_count = 0
        for subset in endpoint.get("subsets") or []:
            subset_ports = subset.get("ports") or []
            ready, unready = subset.get("addresses") or [], subset.get("notReadyAddresses") or []
            # The deprecated counts are per address and port, as ksm counts them.
            ready_count += len(ready) * len(subset_ports)
            not_ready_count += len(unready) * len(subset_ports)
            for entry, flag in [*((a, "true") for a in ready), *((a, "false") for a in unready)]:
                address.add(1, **ids, ip=str(entry.get("ip", "")), ready=flag)
            for port in subset_ports:
                ports.add(
                    1,
                    **ids,
                    port_name=str(port.get("name") or ""),
                    port_protocol=str(port.get("protocol") or "TCP"),
                    port_number=str(port.get("port", "")),
                )
        available.add(ready_count, **ids)
        not_ready.add(not_ready_count, **ids)
    return [info, address, available, not_ready, ports]


def pod_families(pods: list[Obj]) -> list[Family]:
    """``kube_pod_*``: every series starts with namespace, pod and uid."""
    info = Family("kube_pod_info", "Information about pod.", "gauge")
    phase = Family("kube_pod_status_phase", "The pods current phase.", "gauge")
    ready = Family(
        "kube_pod_status_ready", "Describes whether the pod is ready to serve requests.", "gauge"
    )
    restarts = Family(
        "kube_pod_container_status_restarts_total",
        "The number of container restarts per container.",
        "counter",
    )
    waiting = _container_state("waiting", "currently in waiting state")
    reason = Family(
        "kube_pod_container_status_waiting_reason",
        "Describes the reason the container is currently in waiting state.",
        "gauge",
    )
    running = _container_state("running", "currently in running state")
    container_ready = _container_state("ready", "readiness check succeeded")
    for pod in pods:
        meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
        ids = _ids(meta, "pod")
        owner: Obj = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), {})
        info.add(
            1,
            **ids,
            host_ip=str(status.get("hostIP") or ""),
            pod_ip=str(status.get("podIP") or ""),
            node=str(spec.get("nodeName") or ""),
            created_by_kind=str(owner.get("kind") or ""),
            created_by_name=str(owner.get("name") or ""),
            priority_class=str(spec.get("priorityClassName") or ""),
            host_network=str(bool(spec.get("hostNetwork"))).lower(),
        )
        current = status.get("phase") or "Pending"
        for name in _PHASES:
            phase.add(int(name == current), **ids, phase=name)
        # A pod without a Ready condition yet has no kube_pod_status_ready series at all.
        for condition in status.get("conditions") or []:
            if condition.get("type") == "Ready":
                value = str(condition.get("status", "Unknown")).lower()
                for flag in ("true", "false", "unknown"):
                    ready.add(int(value == flag), **ids, condition=flag)
        for container in status.get("containerStatuses") or []:
            state, name = container.get("state") or {}, str(container.get("name", ""))
            restarts.add(int(container.get("restartCount", 0)), **ids, container=name)
            waiting.add(int("waiting" in state), **ids, container=name)
            running.add(int("running" in state), **ids, container=name)
            container_ready.add(int(bool(container.get("ready"))), **ids, container=name)
            # ksm v2 exports the waiting reason only while the container waits, and only its own.
            if "waiting" in state:
                why = str((state["waiting"] or {}).get("reason") or "")
                reason.add(1, **ids, container=name, reason=why)
    return [info, phase, ready, restarts, waiting, reason, running, container_ready]


def daemonset_families(daemonsets: list[Obj]) -> list[Family]:
    """``kube_daemonset_*``: namespace and daemonset, one series per status counter."""
    families = {
        field: Family(f"kube_daemonset_status_{suffix}", help, "gauge")
        for suffix, field, help in _DAEMONSET_STATUS
    }
    generation = Family(
        "kube_daemonset_metadata_generation",
        "Sequence number representing a specific generation of the desired state.",
        "gauge",
    )
    for daemonset in daemonsets:
        meta, status = daemonset["metadata"], daemonset.get("status") or {}
        ids = {"namespace": meta.get("namespace", ""), "daemonset": meta["name"]}
        for field, family in families.items():
            family.add(int(status.get(field) or 0), **ids)
        generation.add(int(meta.get("generation") or 0), **ids)
    return [*families.values(), generation]


def _container_state(state: str, what: str) -> Family:
    subject = "containers" if state == "ready" else "container is"
    return Family(
        f"kube_pod_container_status_{state}", f"Describes whether the {subject} {what}.", "gauge"
    )


def _ids(meta: Obj, kind: str) -> dict[str, str]:
    return {"namespace": meta.get("namespace", ""), kind: meta["name"], "uid": meta.get("uid", "")}


def _timestamp(stamp: str | None) -> float:
    if not stamp:
        return 0.0
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
