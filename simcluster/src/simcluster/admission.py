"""Admission: the apiserver's defaulting, validation and address allocation before a write."""

from __future__ import annotations

from typing import Any

from simcluster import resources
from simcluster.allocation import AllocationError, ServiceAllocations
from simcluster.errors import InvalidError
from simcluster.resources import ResourceType
from simcluster.servicespec import (
    Cause,
    default_service,
    immutable_causes,
    keep_allocated,
    validate_service,
)
from simcluster.workloads import (
    default_pod_spec,
    default_workload,
    pod_spec_causes,
    statefulset_update_causes,
    workload_causes,
)

Obj = dict[str, Any]
_WORKLOADS = (resources.DAEMONSETS, resources.DEPLOYMENTS, resources.REPLICASETS)


class Admission:
    """Defaults, validates and allocates for objects about to be written.

    Args:
        allocations: Which ClusterIPs and NodePorts are taken.
    """

    def __init__(self, allocations: ServiceAllocations) -> None:
        self._allocations = allocations

    def admit(self, rt: ResourceType, obj: Obj, *, old: Obj | None) -> None:
        """Mutate ``obj`` as the apiserver would before storing it.

        Args:
            rt: The object's resource type.
            obj: The object to be created or to replace ``old``.
            old: The stored object for an update; None for a create.

        Raises:
            InvalidError: the object fails validation or an address cannot be allocated.
        """
        name = (
            (obj.get("metadata") or {}).get("name")
            or (obj.get("metadata") or {}).get("generateName")
            or ""
        )
        if rt is resources.SERVICES:
            self._admit_service(obj, old, name)
        elif rt is resources.PODS:
            spec = obj.setdefault("spec", {})
            default_pod_spec(spec)
            obj.setdefault("status", {"phase": "Pending", "qosClass": "BestEffort"})
            _raise_if(rt, name, pod_spec_causes(spec, "spec"))
        elif rt in _WORKLOADS:
            default_workload(rt.kind, obj)
            _raise_if(rt, name, workload_causes(obj))
        elif rt is resources.STATEFULSETS:
            update = statefulset_update_causes(obj, old) if old is not None else []
            _raise_if(rt, name, workload_causes(obj) + update)

    def _admit_service(self, obj: Obj, old: Obj | None, name: str) -> None:
        rt = resources.SERVICES
        default_service(obj)
        if old is not None:
            keep_allocated(obj, old)
        _raise_if(rt, name, validate_service(obj) + (immutable_causes(obj, old) if old else []))
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or (old or {}).get("metadata", {}).get("namespace")
        owner = f"{namespace or 'default'}/{name}"
        try:
            self._allocate(obj, owner)
        except InvalidError:
            self._allocations.sync(owner, old)
            raise

    def _allocate(self, obj: Obj, owner: str) -> None:
        rt, spec = resources.SERVICES, obj["spec"]
        name = obj["metadata"].get("name", "")
        if spec["type"] == "ExternalName":
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        elif spec.get("clusterIP") == "None":
            spec["clusterIPs"] = ["None"]
        else:
            ip = spec.get("clusterIP") or (spec.get("clusterIPs") or [None])[0]
            try:
                if ip:
                    self._allocations.claim_ip(owner, ip)
                else:
                    ip = self._allocations.allocate_ip(owner)
            except AllocationError as error:
                message = f'Invalid value: []string{{"{ip}"}}: {error}'
                raise InvalidError.of(
                    rt, name, [("spec.clusterIPs", "FieldValueInvalid", message)]
                ) from error
            spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
        if spec["type"] not in ("NodePort", "LoadBalancer"):
            for port in spec.get("ports") or []:
                port.pop("nodePort", None)
            return
        for index, port in enumerate(spec.get("ports") or []):
            wanted = port.get("nodePort")
            try:
                if wanted:
                    self._allocations.claim_port(owner, int(wanted))
                else:
                    port["nodePort"] = self._allocations.allocate_port(owner)
            except AllocationError as error:
                field = f"spec.ports[{index}].nodePort"
                raise InvalidError.of(
                    rt, name, [(field, "FieldValueInvalid", f"Invalid value: {wanted}: {error}")]
                ) from error


def _raise_if(rt: ResourceType, name: str, causes: list[Cause]) -> None:
    if causes:
        raise InvalidError.of(rt, name, causes)
