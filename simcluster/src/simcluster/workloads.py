"""Pure admission rules for Pods and workloads: the apiserver's defaults and required fields."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
Cause = tuple[str, str, str]


def default_pod_spec(spec: Obj) -> None:
    """Fill in what the apiserver defaults on a pod spec (in place)."""
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        image = str(container.get("image") or "")
        latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
        container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
        container.setdefault("resources", {})
        for port in container.get("ports") or []:
            port.setdefault("protocol", "TCP")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")


def pod_spec_causes(spec: Obj, prefix: str) -> list[Cause]:
    """Required-field errors of a pod spec (``prefix`` is its field path)."""
    containers = spec.get("containers") or []
    if not containers:
        return [(f"{prefix}.containers", "FieldValueRequired", "Required value")]
    causes: list[Cause] = []
    names: set[str] = set()
    for index, container in enumerate(containers):
        field = f"{prefix}.containers[{index}]"
        name = container.get("name")
        if not name:
            causes.append((f"{field}.name", "FieldValueRequired", "Required value"))
        elif name in names:
            causes.append((f"{field}.name", "FieldValueDuplicate", f'Duplicate value: "{name}"'))
        names.add(name or "")
        if not container.get("image"):
            causes.append((f"{field}.image", "FieldValueRequired", "Required value"))
        for p_index, port in enumerate(container.get("ports") or []):
            number = port.get("containerPort")
            if not isinstance(number, int) or not 1 <= number <= 65535:
                causes.append(
                    (
                        f"{field}.ports[{p_index}].containerPort",
                        "FieldValueInvalid",
                        f"Invalid value: {number}: must be between 1 and 65535, inclusive",
                    )
                )
    return causes


def default_workload(kind: str, obj: Obj) -> None:
    """Defaults of a DaemonSet, Deployment or ReplicaSet (in place)."""
    spec = obj.setdefault("spec", {})
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {})
    default_pod_spec(template.setdefault("spec", {}))
    if kind == "DaemonSet":
        strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            strategy["type"] = "RollingUpdate"
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", 1)
            rolling.setdefault("maxSurge", 0)
        spec.setdefault("revisionHistoryLimit", 10)
    elif kind == "Deployment":
        spec.setdefault("replicas", 1)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            strategy["type"] = "RollingUpdate"
            strategy.setdefault("rollingUpdate", {"maxUnavailable": "25%", "maxSurge": "25%"})
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
    else:
        spec.setdefault("replicas", 1)


def workload_causes(obj: Obj) -> list[Cause]:
    """Errors of a workload: a selector its template's labels must satisfy, a valid pod spec."""
    spec = obj.get("spec") or {}
    match = (spec.get("selector") or {}).get("matchLabels") or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    causes: list[Cause] = []
    if not match:
        causes.append(("spec.selector", "FieldValueRequired", "Required value"))
    elif any(labels.get(k) != v for k, v in match.items()):
        rendered = ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items()))
        causes.append(
            (
                "spec.template.metadata.labels",
                "FieldValueInvalid",
                f"Invalid value: map[string]string{{{rendered}}}: "
                "`selector` does not match template `labels`",
            )
        )
    return causes + pod_spec_causes(
        (spec.get("template") or {}).get("spec") or {}, "spec.template.spec"
    )


# What a StatefulSet update may change in its spec (apps/validation's ValidateStatefulSetUpdate).
_STATEFULSET_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def statefulset_update_causes(obj: Obj, old: Obj) -> list[Cause]:
    """The error of a StatefulSet update that changes its claims, selector, service name..."""

    def fixed(spec: Obj) -> Obj:
        return {k: v for k, v in spec.items() if k not in _STATEFULSET_MUTABLE}

    if fixed(obj.get("spec") or {}) == fixed(old.get("spec") or {}):
        return []
    allowed = ", ".join(f"'{field}'" for field in _STATEFULSET_MUTABLE[:-1])
    message = (
        f"Forbidden: updates to statefulset spec for fields other than {allowed} and "
        f"'{_STATEFULSET_MUTABLE[-1]}' are forbidden"
    )
    return [("spec", "FieldValueForbidden", message)]
