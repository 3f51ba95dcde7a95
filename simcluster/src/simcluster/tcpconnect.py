"""A TCP connect from a node, answered from the node's Service rules and what pods listen on.

What ``nc -z`` and bash's ``/dev/tcp`` in a pod see: a ClusterIP port goes where the node's
rules send it (a Service without endpoints is rejected, as kube-proxy's REJECT rule does; with
endpoints, to the first one), and an address is answered if a running pod there listens on the
port. A simulated container listens on the ports it declares; one that declares none is taken
to listen on any (its image is not simulated, so nothing says otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from simcluster.proxyrules import ServicePort

Obj = dict[str, Any]
REFUSED = "Connection refused"
TIMED_OUT = "Connection timed out"


def _running(pod: Obj) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return any("running" in (s.get("state") or {}) for s in statuses)


def _addresses(pod: Obj) -> set[str]:
    status = pod.get("status") or {}
    found = {status.get("podIP"), *(a.get("ip") for a in status.get("podIPs") or [])}
    return {a for a in found if a}


def listens(pod: Obj, port: int) -> bool:
    """Whether a running pod accepts TCP connections on ``port``."""
    if not _running(pod):
        return False
    containers = (pod.get("spec") or {}).get("containers") or []
    declared = [
        p for c in containers for p in c.get("ports") or [] if p.get("protocol", "TCP") == "TCP"
    ]
    if not any(c.get("ports") for c in containers):
        return True
    return any(p.get("containerPort") == port for p in declared)


def connect_error(
    rules: Sequence[ServicePort], pods: Iterable[Obj], host: str, port: int
) -> str | None:
    """Why a TCP connect to ``host:port`` through ``rules`` fails; None when it connects.

    Args:
        rules: The Service rules of the node the connect starts from.
        pods: Every pod (the ones at the address reached are asked whether they listen).
        host: The address connected to (a ClusterIP or a pod's address).
        port: The port.
    """
    for rule in rules:
        if rule.cluster_ip == host and rule.port == port and rule.protocol == "TCP":
            if not rule.endpoints:
                return REFUSED
            host, port = rule.endpoints[0]
            break
    there = [pod for pod in pods if host in _addresses(pod)]
    if not there:
        return TIMED_OUT
    return None if any(listens(pod, port) for pod in there) else REFUSED
