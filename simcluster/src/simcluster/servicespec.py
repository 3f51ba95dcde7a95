"""Pure Service admission rules: the apiserver's defaults and field validation."""

from __future__ import annotations

import re
from typing import Any

Obj = dict[str, Any]
Cause = tuple[str, str, str]

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
PROTOCOLS = ("SCTP", "TCP", "UDP")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_IANA_SVC_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def default_service(obj: Obj) -> None:
    """Fill in what the apiserver defaults on a Service (in place)."""
    spec = obj.setdefault("spec", {})
    kind = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        if "targetPort" not in port and "port" in port:
            port["targetPort"] = port["port"]
    if kind == "ExternalName":
        return
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if spec.get("sessionAffinity") == "ClientIP":
        spec.setdefault("sessionAffinityConfig", {"clientIP": {"timeoutSeconds": 10800}})
    obj.setdefault("status", {"loadBalancer": {}})


def _port_number_causes(field: str, value: Any) -> list[Cause]:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        return [
            (
                field,
                "FieldValueInvalid",
                f"Invalid value: {value}: must be between 1 and 65535, inclusive",
            )
        ]
    return []


def _target_port_causes(field: str, value: Any) -> list[Cause]:
    if isinstance(value, str):
        if len(value) > 15 or not _IANA_SVC_NAME.match(value):
            return [
                (
                    field,
                    "FieldValueInvalid",
                    f'Invalid value: "{value}": must contain only alpha-numeric characters '
                    "(a-z, 0-9), and hyphens (-)",
                )
            ]
        return []
    return _port_number_causes(field, value)


def validate_service(obj: Obj) -> list[Cause]:
    """Validation errors of a defaulted Service, as (field, reason, message) causes."""
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    kind = spec.get("type")
    if kind not in SERVICE_TYPES:
        supported = ", ".join(f'"{t}"' for t in SERVICE_TYPES)
        causes.append(
            (
                "spec.type",
                "FieldValueNotSupported",
                f'Unsupported value: "{kind}": supported values: {supported}',
            )
        )
    ports = spec.get("ports") or []
    headless = spec.get("clusterIP") == "None"
    if not ports and kind != "ExternalName" and not headless:
        causes.append(("spec.ports", "FieldValueRequired", "Required value"))
    if kind == "ExternalName" and not spec.get("externalName"):
        causes.append(("spec.externalName", "FieldValueRequired", "Required value"))
    seen: set[str] = set()
    for index, port in enumerate(ports):
        field = f"spec.ports[{index}]"
        name = port.get("name") or ""
        if len(ports) > 1 and not name:
            causes.append((f"{field}.name", "FieldValueRequired", "Required value"))
        elif name and not _DNS_LABEL.match(name):
            causes.append(
                (
                    f"{field}.name",
                    "FieldValueInvalid",
                    f'Invalid value: "{name}": {DNS_LABEL_MESSAGE}',
                )
            )
        elif name in seen:
            causes.append((f"{field}.name", "FieldValueDuplicate", f'Duplicate value: "{name}"'))
        seen.add(name)
        causes += _port_number_causes(f"{field}.port", port.get("port"))
        protocol = port.get("protocol")
        if protocol not in PROTOCOLS:
            supported = ", ".join(f'"{p}"' for p in PROTOCOLS)
            causes.append(
                (
                    f"{field}.protocol",
                    "FieldValueNotSupported",
                    f'Unsupported value: "{protocol}": supported values: {supported}',
                )
            )
        causes += _target_port_causes(f"{field}.targetPort", port.get("targetPort"))
        if "nodePort" in port and kind not in ("NodePort", "LoadBalancer") and port["nodePort"]:
            causes.append(
                (
                    f"{field}.nodePort",
                    "FieldValueForbidden",
                    "Forbidden: may not be used when `type` is 'ClusterIP'",
                )
            )
    if spec.get("externalTrafficPolicy") and kind not in ("NodePort", "LoadBalancer"):
        causes.append(
            (
                "spec.externalTrafficPolicy",
                "FieldValueInvalid",
                f'Invalid value: "{spec["externalTrafficPolicy"]}": may only be set when '
                "`type` is 'NodePort' or 'LoadBalancer'",
            )
        )
    return causes


def keep_allocated(new: Obj, old: Obj) -> None:
    """Carry the old ClusterIP and NodePorts into an update that leaves them out (like PUT)."""
    spec, old_spec = new.setdefault("spec", {}), old.get("spec") or {}
    if (
        not spec.get("clusterIP")
        and old_spec.get("clusterIP")
        and spec.get("type") != "ExternalName"
    ):
        spec["clusterIP"] = old_spec["clusterIP"]
        spec["clusterIPs"] = list(old_spec.get("clusterIPs") or [old_spec["clusterIP"]])
    old_ports = {
        (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
        for p in old_spec.get("ports") or []
    }
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        for port in spec.get("ports") or []:
            previous = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
            if previous and not port.get("nodePort"):
                port["nodePort"] = previous


def immutable_causes(new: Obj, old: Obj) -> list[Cause]:
    """Errors for changing a ClusterIP once set."""
    old_ip = (old.get("spec") or {}).get("clusterIP")
    new_ip = (new.get("spec") or {}).get("clusterIP")
    if (
        old_ip
        and new_ip
        and new_ip != old_ip
        and (new.get("spec") or {}).get("type") != "ExternalName"
    ):
        return [
            (
                "spec.clusterIPs[0]",
                "FieldValueInvalid",
                f'Invalid value: []string{{"{new_ip}"}}: may not change once set',
            )
        ]
    return []
