"""Pure builders of a Pod's ``status`` for each stage of the simulated kubelet's lifecycle."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

Obj = dict[str, Any]
Stage = Literal["creating", "running", "crashloop", "pullfail"]
PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff")


@dataclass(frozen=True)
class ContainerRun:
    """How the pod's containers are doing (all containers of a simulated pod share one fate).

    Attributes:
        stage: creating (not started yet), running, crashloop (waiting to be restarted), or
            pullfail (its image does not pull; it never started).
        ready: Whether the readiness probe passes (only meaningful while running).
        restart_count: Restarts so far.
        started_at: When the running container started.
        last_started_at: When the last terminated container started (crash loops).
        last_finished_at: When it exited.
        backoff_seconds: The current restart back-off (crash loops).
        pull_reason: ``ErrImagePull`` (a pull just failed) or ``ImagePullBackOff`` (waiting
            to try again), while the image does not pull.
        pull_message: Why the pull failed.
    """

    stage: Stage
    ready: bool = False
    restart_count: int = 0
    started_at: str | None = None
    last_started_at: str | None = None
    last_finished_at: str | None = None
    backoff_seconds: int = 10
    pull_reason: str = "ErrImagePull"
    pull_message: str = ""


def container_id(pod_uid: str, container: str, restart_count: int) -> str:
    """A stable containerd ID for one run of one container."""
    digest = hashlib.sha256(f"{pod_uid}/{container}/{restart_count}".encode()).hexdigest()
    return f"containerd://{digest}"


def image_id(image: str) -> str:
    """The repo digest the runtime reports for an image."""
    name, _, tag = image.partition("@")[0].rpartition(":")
    repository = name if name and "/" not in tag else image.partition("@")[0]
    return f"{repository}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def _condition(old: list[Obj], type_: str, ok: bool, now: str, reason: str | None = None) -> Obj:
    status = "True" if ok else "False"
    previous = next((c for c in old if c.get("type") == type_), None)
    since = previous["lastTransitionTime"] if previous and previous.get("status") == status else now
    condition: Obj = {"type": type_, "status": status, "lastProbeTime": None}
    condition["lastTransitionTime"] = since
    if reason and not ok:
        condition["reason"] = reason
        condition["message"] = "containers with unready status: [{names}]"
    return condition


def _container_status(pod: Obj, container: Obj, run: ContainerRun) -> Obj:
    name, image = container["name"], container["image"]
    uid = pod["metadata"].get("uid", "")
    status: Obj = {
        "name": name,
        "image": image,
        "imageID": "" if run.stage == "creating" else image_id(image),
        "ready": run.stage == "running" and run.ready,
        "restartCount": run.restart_count,
        "started": run.stage == "running",
        "lastState": {},
    }
    if run.stage == "creating":
        status["state"] = {"waiting": {"reason": "ContainerCreating"}}
        return status
    if run.stage == "pullfail":
        status["imageID"] = ""
        status["state"] = {"waiting": {"reason": run.pull_reason, "message": run.pull_message}}
        return status
    status["containerID"] = container_id(uid, name, run.restart_count)
    if run.last_finished_at:
        status["lastState"] = {
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": run.last_started_at or run.last_finished_at,
                "finishedAt": run.last_finished_at,
                "containerID": container_id(uid, name, max(0, run.restart_count - 1)),
            }
        }
    if run.stage == "running":
        status["state"] = {"running": {"startedAt": run.started_at}}
    else:
        message = (
            f"back-off {_duration(run.backoff_seconds)} restarting failed container={name} "
            f"pod={pod['metadata']['name']}_{pod['metadata'].get('namespace', '')}({uid})"
        )
        status["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": message}}
    return status


def _duration(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


def pod_status(
    pod: Obj,
    run: ContainerRun,
    *,
    host_ip: str,
    pod_ip: str | None,
    start_time: str,
    now: str,
) -> Obj:
    """The full ``status`` of a scheduled pod whose containers are at ``run``.

    Args:
        pod: The pod (its current status supplies earlier transition times).
        run: The containers' state.
        host_ip: The node's InternalIP.
        pod_ip: The pod's IP (None while its sandbox is being created).
        start_time: When the kubelet accepted the pod.
        now: The current time (for conditions that change now).
    """
    old = (pod.get("status") or {}).get("conditions") or []
    ready = run.stage == "running" and run.ready
    containers = pod["spec"].get("containers") or []
    names = " ".join(c["name"] for c in containers)
    conditions = [
        _condition(old, "Initialized", True, now),
        _condition(old, "Ready", ready, now, "ContainersNotReady"),
        _condition(old, "ContainersReady", ready, now, "ContainersNotReady"),
        _condition(old, "PodScheduled", True, now),
    ]
    for condition in conditions:
        if "message" in condition:
            condition["message"] = condition["message"].format(names=names)
    status: Obj = {
        "phase": "Pending" if run.stage in ("creating", "pullfail") else "Running",
        "conditions": conditions,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "startTime": start_time,
        "qosClass": "BestEffort",
        "containerStatuses": [_container_status(pod, c, run) for c in containers],
    }
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    return status


def unscheduled_status(now: str, reason: str, message: str) -> Obj:
    """The status of a pod no node can take."""
    return {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": now,
                "reason": reason,
                "message": message,
            }
        ],
        "qosClass": "BestEffort",
    }


def is_ready(pod: Obj) -> bool:
    """Whether the pod's Ready condition is True."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def backoff_for(restart_count: int, *, base: float, cap: float) -> float:
    """Kubernetes' crash-loop back-off: base doubling per restart, capped."""
    return float(min(cap, base * (2 ** max(0, restart_count - 1))))
