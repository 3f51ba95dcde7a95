"""Per-kind printer columns and cells, as kube-apiserver 1.30's internalversion printers make them.

Each kind's columns are those of ``pkg/printers/internalversion/printers.go``, with every
``-o wide`` (priority 1) column present: the apiserver renders Tables with ``Wide: true`` and
kubectl drops the priority-1 columns itself unless asked for ``-o wide``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
Cell = str | int | bool
# Formats an object timestamp as an age ("5m"), or "<unknown>" when there is none.
Since = Callable[[object], str]

# At most this many addresses or ports are listed in a cell, then " + N more...".
_LIST_MAX = 3
_TERMINAL_PHASES = ("Succeeded", "Failed")
# The node lifecycle controller's reason for pods on a node that stopped reporting.
_NODE_LOST = "NodeLost"
_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
_NODE_ROLE_LABEL = "kubernetes.io/role"
_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


@dataclass(frozen=True)
class Column:
    """One column definition of a Table.

    Attributes:
        name: The header (kubectl upper-cases it).
        type: The OpenAPI type: string, integer, boolean or date.
        priority: 0 always shown, 1 only with ``-o wide``.
        format: ``name`` for the object's name column, else empty.
    """

    name: str
    type: str = "string"
    priority: int = 0
    format: str = ""


@dataclass(frozen=True)
class Printer:
    """A kind's columns and how to fill one row (one cell per column)."""

    columns: tuple[Column, ...]
    cells: Callable[[Obj, Since], list[Cell]]


_NAME = Column("Name", format="name")
_AGE = Column("Age")


def _wide(*names: str) -> tuple[Column, ...]:
    return tuple(Column(name, priority=1) for name in names)


def _name(obj: Obj) -> str:
    return str(obj["metadata"]["name"])


def _age(obj: Obj, since: Since) -> str:
    return since(obj["metadata"].get("creationTimestamp"))


def format_labels(labels: Mapping[str, str] | None) -> str:
    """Labels as ``labels.FormatLabels`` prints them: sorted ``k=v`` pairs, or ``<none>``."""
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or "<none>"


def selector_string(selector: Obj | None) -> str:
    """A LabelSelector as ``labels.Selector.String()`` prints it ('' when it selects all)."""
    requirements: list[tuple[str, str]] = []
    for key, value in ((selector or {}).get("matchLabels") or {}).items():
        requirements.append((key, f"{key}={value}"))
    for expression in (selector or {}).get("matchExpressions") or []:
        key, operator = expression.get("key", ""), expression.get("operator", "")
        values = ",".join(sorted(expression.get("values") or []))
        text = {
            "In": f"{key} in ({values})",
            "NotIn": f"{key} notin ({values})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(operator, key)
        requirements.append((key, text))
    return ",".join(text for _, text in sorted(requirements))


def format_selector(selector: Obj | None) -> str:
    """A LabelSelector as ``metav1.FormatLabelSelector`` prints it (``<none>`` when empty)."""
    return selector_string(selector) or "<none>"


def _containers(template_spec: Obj) -> list[Cell]:
    containers = template_spec.get("containers") or []
    return [
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    ]


def _listed(items: list[str], count: int) -> str:
    """The first three items, then how many more (``listWithMoreString``); ``<unset>`` if none."""
    shown = ",".join(items[:_LIST_MAX])
    if count > _LIST_MAX:
        return f"{shown} + {count - _LIST_MAX} more..."
    return shown or "<unset>"


# -- pods ----------------------------------------------------------------------------------


def _restartable_init(container: Obj | None) -> bool:
    return bool(container) and (container or {}).get("restartPolicy") == "Always"


def _terminated_reason(terminated: Obj, prefix: str = "") -> str:
    if terminated.get("reason"):
        return f"{prefix}{terminated['reason']}"
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


def _has_condition(status: Obj, type_: str) -> bool:
    return any(
        c.get("type") == type_ and c.get("status") == "True" for c in status.get("conditions") or []
    )


@dataclass
class _PodTally:
    reason: str
    ready: int = 0
    restarts: int = 0
    last_restart: str = ""

    def restarted(self, container: Obj) -> None:
        self.restarts += int(container.get("restartCount") or 0)
        finished = ((container.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        if finished and str(finished) > self.last_restart:
            self.last_restart = str(finished)


def _init_containers(pod: Obj, tally: _PodTally) -> tuple[bool, _PodTally]:
    """Account the init containers: whether the pod is still initializing, and its sidecars."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    by_name = {c.get("name"): c for c in spec.get("initContainers") or []}
    sidecars = _PodTally(tally.reason)
    for index, container in enumerate(status.get("initContainerStatuses") or []):
        tally.restarted(container)
        sidecar = _restartable_init(by_name.get(container.get("name")))
        if sidecar:
            sidecars.restarted(container)
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting") or {}
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and container.get("started"):
            tally.ready += 1 if container.get("ready") else 0
            continue
        if terminated is not None:
            tally.reason = _terminated_reason(terminated, "Init:")
        elif waiting.get("reason") and waiting["reason"] != "PodInitializing":
            tally.reason = f"Init:{waiting['reason']}"
        else:
            tally.reason = f"Init:{index}/{len(by_name)}"
        return True, sidecars
    return False, sidecars


def _pod_tally(pod: Obj) -> _PodTally:
    """READY, STATUS and RESTARTS of a pod, as ``printPod`` works them out."""
    status = pod.get("status") or {}
    # The apiserver stores every new pod with phase Pending.
    phase = str(status.get("phase") or "Pending")
    tally = _PodTally(str(status.get("reason") or phase))
    if any(
        c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated"
        for c in status.get("conditions") or []
    ):
        tally.reason = "SchedulingGated"
    initializing, sidecars = _init_containers(pod, tally)
    if not initializing or _has_condition(status, "Initialized"):
        # From here on only sidecar (restartable init container) restarts count.
        tally.restarts, tally.last_restart = sidecars.restarts, sidecars.last_restart
        running = False
        # Backwards, so the first container's reason is the one left standing.
        for container in reversed(status.get("containerStatuses") or []):
            tally.restarted(container)
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting") or {}, state.get("terminated")
            if waiting.get("reason"):
                tally.reason = str(waiting["reason"])
            elif terminated is not None:
                tally.reason = _terminated_reason(terminated)
            elif container.get("ready") and "running" in state:
                running = True
                tally.ready += 1
        if tally.reason == "Completed" and running:
            tally.reason = "Running" if _has_condition(status, "Ready") else "NotReady"
    if pod["metadata"].get("deletionTimestamp"):
        if status.get("reason") == _NODE_LOST:
            tally.reason = "Unknown"
        elif phase not in _TERMINAL_PHASES:
            tally.reason = "Terminating"
    return tally


def _readiness_gates(pod: Obj) -> str:
    gates = (pod.get("spec") or {}).get("readinessGates") or []
    if not gates:
        return "<none>"
    conditions = {
        c.get("type"): c.get("status") for c in (pod.get("status") or {}).get("conditions") or []
    }
    passing = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
    return f"{passing}/{len(gates)}"


def _pod(pod: Obj, since: Since) -> list[Cell]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    tally = _pod_tally(pod)
    total = len(spec.get("containers") or []) + sum(
        1 for c in spec.get("initContainers") or [] if _restartable_init(c)
    )
    restarts = str(tally.restarts)
    if tally.restarts and tally.last_restart:
        restarts = f"{tally.restarts} ({since(tally.last_restart)} ago)"
    ips = status.get("podIPs") or ([{"ip": status["podIP"]}] if status.get("podIP") else [])
    return [
        _name(pod),
        f"{tally.ready}/{total}",
        tally.reason,
        restarts,
        _age(pod, since),
        (ips[0].get("ip") if ips else "") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        _readiness_gates(pod),
    ]


# -- services and endpoints ----------------------------------------------------------------


def _load_balancer(status: Obj) -> list[str]:
    ingress = (status.get("loadBalancer") or {}).get("ingress") or []
    return sorted(
        {str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname")}
    )


def _external_ip(service: Obj) -> str:
    spec = service.get("spec") or {}
    external = [str(ip) for ip in spec.get("externalIPs") or []]
    type_ = spec.get("type") or "ClusterIP"
    if type_ in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if type_ == "LoadBalancer":
        return ",".join(_load_balancer(service.get("status") or {}) + external) or "<pending>"
    if type_ == "ExternalName":
        return str(spec.get("externalName") or "")
    return "<unknown>"


def _service_ports(ports: list[Obj]) -> str:
    pieces = []
    for port in ports:
        node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
        pieces.append(f"{port.get('port')}{node_port}/{port.get('protocol') or 'TCP'}")
    return ",".join(pieces) or "<none>"


def _service(service: Obj, since: Since) -> list[Cell]:
    spec = service.get("spec") or {}
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [
        _name(service),
        str(spec.get("type") or "ClusterIP"),
        str(cluster_ips[0]) if cluster_ips else "<none>",
        _external_ip(service),
        _service_ports(spec.get("ports") or []),
        _age(service, since),
        format_labels(spec.get("selector")),
    ]


def format_endpoints(endpoints: Obj) -> str:
    """The ENDPOINTS cell of an Endpoints object (``formatEndpoints``): ready ``ip:port`` pairs.

    Only ready addresses are listed, three at most, then `` + N more...``; ``<none>`` when the
    object has no subsets (and nothing at all when its subsets hold only not-ready addresses,
    as the apiserver prints it).
    """
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return "<none>"
    listed: list[str] = []
    count = 0
    for subset in subsets:
        ips = [str(a.get("ip", "")) for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        if not ports:
            # A headless Service without ports: bare addresses.
            count += len(ips)
            listed += ips[: _LIST_MAX - len(listed)]
            continue
        for port in ports:
            count += len(ips)
            for ip in ips[: _LIST_MAX - len(listed)]:
                host = f"[{ip}]" if ":" in ip else ip
                listed.append(f"{host}:{port.get('port')}")
    shown = ",".join(listed)
    return f"{shown} + {count - _LIST_MAX} more..." if count > _LIST_MAX else shown


def _endpoints(endpoints: Obj, since: Since) -> list[Cell]:
    return [_name(endpoints), format_endpoints(endpoints), _age(endpoints, since)]


def _endpoint_slice(eps: Obj, since: Since) -> list[Cell]:
    ports = [
        str(p["port"]) if p.get("port") is not None else str(p.get("name") or "*")
        for p in eps.get("ports") or []
    ]
    addresses = [str(a) for e in eps.get("endpoints") or [] for a in e.get("addresses") or []]
    return [
        _name(eps),
        str(eps.get("addressType", "")),
        _listed(ports, len(ports)),
        _listed(addresses, len(addresses)),
        _age(eps, since),
    ]


# -- workloads ----------------------------------------------------------------------------


def _counts(obj: Obj, *keys: str) -> list[Cell]:
    status = obj.get("status") or {}
    return [int(status.get(key) or 0) for key in keys]


def _template_spec(obj: Obj) -> Obj:
    return dict(((obj.get("spec") or {}).get("template") or {}).get("spec") or {})


def _daemonset(ds: Obj, since: Since) -> list[Cell]:
    counts = _counts(
        ds,
        "desiredNumberScheduled",
        "currentNumberScheduled",
        "numberReady",
        "updatedNumberScheduled",
        "numberAvailable",
    )
    template = _template_spec(ds)
    return [
        _name(ds),
        *counts,
        format_labels(template.get("nodeSelector")),
        _age(ds, since),
        *_containers(template),
        format_selector(ds["spec"].get("selector")),
    ]


def _desired(obj: Obj) -> int:
    replicas = (obj.get("spec") or {}).get("replicas")
    return 1 if replicas is None else int(replicas)


def _deployment(deploy: Obj, since: Since) -> list[Cell]:
    ready, updated, available = _counts(
        deploy, "readyReplicas", "updatedReplicas", "availableReplicas"
    )
    return [
        _name(deploy),
        f"{ready}/{_desired(deploy)}",
        updated,
        available,
        _age(deploy, since),
        *_containers(_template_spec(deploy)),
        # printDeployment uses the selector's String(): '' rather than <none>.
        selector_string(deploy["spec"].get("selector")),
    ]


def _replicaset(rs: Obj, since: Since) -> list[Cell]:
    return [
        _name(rs),
        _desired(rs),
        *_counts(rs, "replicas", "readyReplicas"),
        _age(rs, since),
        *_containers(_template_spec(rs)),
        format_selector(rs["spec"].get("selector")),
    ]


def _statefulset(sts: Obj, since: Since) -> list[Cell]:
    [ready] = _counts(sts, "readyReplicas")
    return [
        _name(sts),
        f"{ready}/{_desired(sts)}",
        _age(sts, since),
        *_containers(_template_spec(sts)),
    ]


def _controller_revision(revision: Obj, since: Since) -> list[Cell]:
    controller = "<none>"
    for ref in revision["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            group = str(ref.get("apiVersion", "")).rpartition("/")[0]
            kind = str(ref.get("kind", "")).lower()
            controller = (
                f"{kind}.{group}/{ref.get('name')}" if group else f"{kind}/{ref.get('name')}"
            )
            break
    return [_name(revision), controller, int(revision.get("revision") or 0), _age(revision, since)]


# -- cluster and configuration objects ------------------------------------------------------


def _node_address(node: Obj, type_: str) -> str:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == type_:
            return str(address.get("address", ""))
    return "<none>"


def _node(node: Obj, since: Since) -> list[Cell]:
    status = node.get("status") or {}
    ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    states = [("Ready" if c.get("status") == "True" else "NotReady") for c in ready[-1:]]
    states = states or ["Unknown"]
    if (node.get("spec") or {}).get("unschedulable"):
        states.append("SchedulingDisabled")
    roles: set[str] = set()
    for key, value in (node["metadata"].get("labels") or {}).items():
        if key.startswith(_NODE_ROLE_PREFIX) and key[len(_NODE_ROLE_PREFIX) :]:
            roles.add(key[len(_NODE_ROLE_PREFIX) :])
        elif key == _NODE_ROLE_LABEL and value:
            roles.add(str(value))
    info = status.get("nodeInfo") or {}
    return [
        _name(node),
        ",".join(states),
        ",".join(sorted(roles)) or "<none>",
        _age(node, since),
        str(info.get("kubeletVersion") or ""),
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        str(info.get("osImage") or "<unknown>"),
        str(info.get("kernelVersion") or "<unknown>"),
        str(info.get("containerRuntimeVersion") or "<unknown>"),
    ]


def _namespace(ns: Obj, since: Since) -> list[Cell]:
    return [_name(ns), str((ns.get("status") or {}).get("phase") or ""), _age(ns, since)]


def _config_map(cm: Obj, since: Since) -> list[Cell]:
    data = len(cm.get("data") or {}) + len(cm.get("binaryData") or {})
    return [_name(cm), data, _age(cm, since)]


def _secret(secret: Obj, since: Since) -> list[Cell]:
    return [
        _name(secret),
        str(secret.get("type") or ""),
        len(secret.get("data") or {}),
        _age(secret, since),
    ]


def _service_account(sa: Obj, since: Since) -> list[Cell]:
    return [_name(sa), len(sa.get("secrets") or []), _age(sa, since)]


def _access_modes(modes: list[str]) -> str:
    return ",".join(short for mode, short in _ACCESS_MODES if mode in modes)


def _pvc(pvc: Obj, since: Since) -> list[Cell]:
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    phase = "Terminating" if pvc["metadata"].get("deletionTimestamp") else status.get("phase")
    bound = bool(spec.get("volumeName"))
    annotations = pvc["metadata"].get("annotations") or {}
    storage_class = annotations.get("volume.beta.kubernetes.io/storage-class")
    return [
        _name(pvc),
        str(phase or ""),
        str(spec.get("volumeName") or ""),
        str((status.get("capacity") or {}).get("storage", "")) if bound else "",
        _access_modes(status.get("accessModes") or []) if bound else "",
        str(storage_class if storage_class is not None else spec.get("storageClassName") or ""),
        str(spec.get("volumeAttributesClassName") or "<unset>"),
        _age(pvc, since),
        str(spec.get("volumeMode") or "<unset>"),
    ]


def _pdb(pdb: Obj, since: Since) -> list[Cell]:
    spec = pdb.get("spec") or {}
    return [
        _name(pdb),
        "N/A" if spec.get("minAvailable") is None else str(spec["minAvailable"]),
        "N/A" if spec.get("maxUnavailable") is None else str(spec["maxUnavailable"]),
        *_counts(pdb, "disruptionsAllowed"),
        _age(pdb, since),
    ]


def _network_policy(policy: Obj, since: Since) -> list[Cell]:
    selector = (policy.get("spec") or {}).get("podSelector")
    return [_name(policy), format_selector(selector), _age(policy, since)]


def _ingress(ingress: Obj, since: Since) -> list[Cell]:
    spec = ingress.get("spec") or {}
    rules = spec.get("rules") or []
    hosts = [str(r["host"]) for r in rules[:_LIST_MAX] if r.get("host")]
    shown = ",".join(hosts) or "*"
    if hosts and len(rules) > _LIST_MAX:
        shown = f"{shown} + {len(rules) - _LIST_MAX} more..."
    return [
        _name(ingress),
        str(spec.get("ingressClassName") or "<none>"),
        shown,
        ",".join(_load_balancer(ingress.get("status") or {})),
        "80, 443" if spec.get("tls") else "80",
        _age(ingress, since),
    ]


def _binding(binding: Obj, since: Since) -> list[Cell]:
    ref = binding.get("roleRef") or {}
    subjects = binding.get("subjects") or []

    def named(kind: str) -> str:
        return ", ".join(
            f"{s.get('namespace', '')}/{s.get('name', '')}"
            if kind == "ServiceAccount"
            else str(s.get("name", ""))
            for s in subjects
            if s.get("kind") == kind
        )

    return [
        _name(binding),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        _age(binding, since),
        named("User"),
        named("Group"),
        named("ServiceAccount"),
    ]


def _event_time(event: Obj, since: Since) -> tuple[str, str, int]:
    """LAST SEEN, FIRST SEEN and COUNT of an event (``printEvent``)."""
    first = since(event.get("firstTimestamp") or event.get("eventTime"))
    last = since(event["lastTimestamp"]) if event.get("lastTimestamp") else first
    count = int(event.get("count") or 0)
    series = event.get("series")
    if series:
        last = since(series.get("lastObservedTime"))
        count = int(series.get("count") or 0)
    elif count == 0:
        # Singleton events of the events.k8s.io API carry no count.
        count = 1
    return last, first, count


def _event(event: Obj, since: Since) -> list[Cell]:
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    last, first, count = _event_time(event, since)
    return [
        last,
        str(event.get("type", "")),
        str(event.get("reason", "")),
        target,
        str(involved.get("fieldPath", "")),
        f"{component}, {instance}" if instance else str(component),
        str(event.get("message", "")).strip(),
        first,
        count,
        _name(event),
    ]


_INT = "integer"
_WORKLOAD_WIDE = _wide("Containers", "Images", "Selector")
_BINDING = Printer(
    (_NAME, Column("Role"), _AGE, *_wide("Users", "Groups", "ServiceAccounts")), _binding
)

PRINTERS: dict[str, Printer] = {
    "Pod": Printer(
        (
            _NAME,
            Column("Ready"),
            Column("Status"),
            Column("Restarts"),
            _AGE,
            *_wide("IP", "Node", "Nominated Node", "Readiness Gates"),
        ),
        _pod,
    ),
    "Service": Printer(
        (
            _NAME,
            Column("Type"),
            Column("Cluster-IP"),
            Column("External-IP"),
            Column("Port(s)"),
            _AGE,
            *_wide("Selector"),
        ),
        _service,
    ),
    "Endpoints": Printer((_NAME, Column("Endpoints"), _AGE), _endpoints),
    "EndpointSlice": Printer(
        (_NAME, Column("AddressType"), Column("Ports"), Column("Endpoints"), _AGE),
        _endpoint_slice,
    ),
    "DaemonSet": Printer(
        (
            _NAME,
            Column("Desired", _INT),
            Column("Current", _INT),
            Column("Ready", _INT),
            Column("Up-to-date", _INT),
            Column("Available", _INT),
            Column("Node Selector"),
            _AGE,
            *_WORKLOAD_WIDE,
        ),
        _daemonset,
    ),
    "Deployment": Printer(
        (_NAME, Column("Ready"), Column("Up-to-date"), Column("Available"), _AGE, *_WORKLOAD_WIDE),
        _deployment,
    ),
    "ReplicaSet": Printer(
        (
            _NAME,
            Column("Desired", _INT),
            Column("Current", _INT),
            Column("Ready", _INT),
            _AGE,
            *_WORKLOAD_WIDE,
        ),
        _replicaset,
    ),
    "StatefulSet": Printer(
        (_NAME, Column("Ready"), _AGE, *_wide("Containers", "Images")), _statefulset
    ),
    "ControllerRevision": Printer(
        (_NAME, Column("Controller"), Column("Revision"), _AGE), _controller_revision
    ),
    "Node": Printer(
        (
            _NAME,
            Column("Status"),
            Column("Roles"),
            _AGE,
            Column("Version"),
            *_wide("Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"),
        ),
        _node,
    ),
    "Event": Printer(
        (
            Column("Last Seen"),
            Column("Type"),
            Column("Reason"),
            Column("Object"),
            *_wide("Subobject", "Source"),
            Column("Message"),
            *_wide("First Seen", "Count"),
            Column("Name", priority=1, format="name"),
        ),
        _event,
    ),
    "Namespace": Printer((_NAME, Column("Status"), _AGE), _namespace),
    "ConfigMap": Printer((_NAME, Column("Data"), _AGE), _config_map),
    "Secret": Printer((_NAME, Column("Type"), Column("Data"), _AGE), _secret),
    "ServiceAccount": Printer((_NAME, Column("Secrets"), _AGE), _service_account),
    "PersistentVolumeClaim": Printer(
        (
            _NAME,
            Column("Status"),
            Column("Volume"),
            Column("Capacity"),
            Column("Access Modes"),
            Column("StorageClass"),
            Column("VolumeAttributesClass"),
            _AGE,
            Column("VolumeMode", priority=1),
        ),
        _pvc,
    ),
    "PodDisruptionBudget": Printer(
        (
            _NAME,
            Column("Min Available"),
            Column("Max Unavailable"),
            Column("Allowed Disruptions", _INT),
            _AGE,
        ),
        _pdb,
    ),
    "NetworkPolicy": Printer((_NAME, Column("Pod-Selector"), _AGE), _network_policy),
    "Ingress": Printer(
        (_NAME, Column("Class"), Column("Hosts"), Column("Address"), Column("Ports"), _AGE),
        _ingress,
    ),
    "RoleBinding": _BINDING,
    "ClusterRoleBinding": _BINDING,
}
