"""Container logs of simulated pods: kube-proxy's klog lines, app servers, why crashes happen."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from simcluster import resources
from simcluster.clock import Clock
from simcluster.controllers.health import CrashCause, HealthRules
from simcluster.controllers.kubelet import current_run
from simcluster.errors import BadRequestError
from simcluster.store import Store

Obj = dict[str, Any]
SYNC_PERIOD = timedelta(seconds=30)
_MAX_SYNC_LINES = 400


def klog(level: str, at: datetime, source: str, message: str) -> str:
    """One line in klog's format, e.g. ``I1125 18:17:20.123456       1 server.go:1] "msg"``."""
    return f"{level}{at:%m%d %H:%M:%S.%f}       1 {source}] {message}"


def _parse(stamp: str | None, fallback: datetime) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else fallback


def kube_proxy_startup(at: datetime, *, node_ip: str, version: str) -> list[str]:
    """What kube-proxy logs while starting in iptables mode."""
    steps = [
        ("server_linux.go:69", '"Using iptables proxy"'),
        ("server.go:1062", f'"Successfully retrieved node IP(s)" IPs=["{node_ip}"]'),
        (
            "conntrack.go:119",
            '"Set sysctl" entry="net/netfilter/nf_conntrack_tcp_timeout_close_wait" value=3600',
        ),
        ("server.go:652", '"kube-proxy running in single-stack mode" ipFamily="IPv4"'),
        ("server_linux.go:165", '"Using iptables Proxier"'),
        ("server.go:872", f'"Version info" version="{version}"'),
        ("config.go:192", '"Starting service config controller"'),
        ("config.go:101", '"Starting endpoint slice config controller"'),
        ("shared_informer.go:320", "Caches are synced for service config"),
        ("shared_informer.go:320", "Caches are synced for endpoint slice config"),
    ]
    return [
        klog("I", at + timedelta(milliseconds=7 * i), src, msg)
        for i, (src, msg) in enumerate(steps)
    ]


def kube_proxy_syncs(start: datetime, end: datetime, *, services: int, endpoints: int) -> list[str]:
    """The periodic sync lines of a healthy kube-proxy between ``start`` and ``end``."""
    lines: list[str] = []
    at = start
    while at <= end and len(lines) < _MAX_SYNC_LINES:
        lines.append(klog("I", at, "proxier.go:805", '"Syncing iptables rules"'))
        lines.append(
            klog(
                "I",
                at + timedelta(milliseconds=12),
                "proxier.go:1494",
                '"Reloading service iptables data" '
                f"numServices={services} numEndpoints={endpoints} "
                f"numFilterChains=6 numFilterRules=4 numNATChains={4 + services + endpoints} "
                f"numNATRules={8 + 2 * services + 3 * endpoints}",
            )
        )
        lines.append(
            klog(
                "I",
                at + timedelta(milliseconds=31),
                "proxier.go:799",
                '"SyncProxyRules complete" elapsed="31.2ms"',
            )
        )
        at += SYNC_PERIOD
    return lines[-_MAX_SYNC_LINES:]


def kube_proxy_failing(at: datetime) -> list[str]:
    """kube-proxy failing to program iptables until it gives up."""
    lines = []
    for attempt in range(3):
        when = at + timedelta(seconds=attempt)
        lines.append(klog("I", when, "proxier.go:805", '"Syncing iptables rules"'))
        lines.append(
            klog(
                "E",
                when + timedelta(milliseconds=20),
                "proxier.go:1525",
                '"Failed to execute iptables-restore" '
                'err="exit status 1 (iptables-restore: line 3 failed\\n)"',
            )
        )
        lines.append(
            klog(
                "I",
                when + timedelta(milliseconds=21),
                "proxier.go:1528",
                '"Sync failed" retryingTime="1s"',
            )
        )
    lines.append(
        klog(
            "E",
            at + timedelta(seconds=3),
            "run.go:74",
            '"command failed" err="failed to sync proxy rules: iptables-restore: exit status 1"',
        )
    )
    return lines


def app_lines(pod: Obj, at: datetime, *, ready: bool) -> list[str]:
    """An app server's log: start-up, then health checks passing or failing."""
    name = pod["metadata"]["name"]
    stamp = f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z"
    lines = [
        f'{stamp} INFO starting server pod={name} addr=":8080"',
        f"{stamp} INFO listening for requests",
    ]
    if ready:
        lines.append(f'{stamp} INFO "GET /healthz HTTP/1.1" 200')
    else:
        lines.append(
            f'{stamp} WARN readiness check failed: dependency "postgres.shop.svc:5432" '
            "unreachable: connection refused"
        )
        lines.append(f'{stamp} INFO "GET /healthz HTTP/1.1" 503')
    return lines


def crash_lines(
    pod: Obj, cause: CrashCause | None, at: datetime, *, node_ip: str, version: str
) -> list[str]:
    """The log of a container that exited 1, saying why."""
    is_proxy = (pod["metadata"].get("labels") or {}).get("k8s-app") == "kube-proxy"
    if cause is CrashCause.KUBE_PROXY_SYNC:
        return kube_proxy_startup(at, node_ip=node_ip, version=version) + kube_proxy_failing(
            at + timedelta(seconds=1)
        )
    if is_proxy:
        return ["exec /usr/local/bin/kube-proxy: exec format error"]
    stamp = f"{at:%Y-%m-%dT%H:%M:%S}Z"
    return [
        f"{stamp} INFO starting server pod={pod['metadata']['name']}",
        f"{stamp} ERROR failed to load configuration: "
        "open /etc/app/config.yaml: no such file or directory",
        "panic: configuration error: exiting with status 1",
    ]


class PodLogs:
    """The simulated containers' logs, written as they are read.

    Args:
        store: The pods, and the Services and EndpointSlices kube-proxy says it syncs.
        health: Why crashing containers crash (their last log says so).
        clock: Where the logs end.
    """

    def __init__(self, store: Store, *, health: HealthRules, clock: Clock) -> None:
        self._store = store
        self._health = health
        self._clock = clock

    def read(
        self,
        namespace: str,
        name: str,
        *,
        container: str | None,
        tail_lines: int | None,
        previous: bool,
    ) -> str:
        """A container's log text, like ``kubectl logs [--previous] [--tail N]``.

        Raises:
            NotFoundError: no such pod.
            BadRequestError: no such container, no container named with several, nothing
                to show.
        """
        pod = self._store.get(resources.PODS, namespace, name)
        names = [c["name"] for c in pod["spec"].get("containers") or []]
        if container is None and len(names) > 1:
            raise BadRequestError(
                f"a container name must be specified for pod {name}, "
                f"choose one of: [{' '.join(names)}]"
            )
        chosen = container or names[0]
        if chosen not in names:
            raise BadRequestError(f"container {chosen} is not valid for pod {name}")
        run = current_run(pod)
        if run is None or run.stage == "creating":
            raise BadRequestError(
                f'container "{chosen}" in pod "{name}" is waiting to start: ContainerCreating'
            )
        if run.stage == "pullfail":
            raise BadRequestError(
                f'container "{chosen}" in pod "{name}" is waiting to start: trying and failing '
                "to pull image"
            )
        now = self._clock.now()
        status = pod.get("status") or {}
        node_ip, version = status.get("hostIP", ""), _version(pod)
        if previous or run.stage == "crashloop":
            if not run.last_finished_at:
                raise BadRequestError(
                    f'previous terminated container "{chosen}" in pod "{name}" not found'
                )
            cause = self._health.crash_cause(pod) or CrashCause.BAD_IMAGE
            lines = crash_lines(
                pod, cause, _parse(run.last_started_at, now), node_ip=node_ip, version=version
            )
        elif (pod["metadata"].get("labels") or {}).get("k8s-app") == "kube-proxy":
            started = _parse(run.started_at, now)
            services = self._store.count(resources.SERVICES)
            endpoints = self._store.count(resources.ENDPOINTSLICES)
            lines = kube_proxy_startup(started, node_ip=node_ip, version=version)
            lines += kube_proxy_syncs(
                started + timedelta(seconds=1), now, services=services, endpoints=endpoints
            )
        else:
            lines = app_lines(pod, _parse(run.started_at, now), ready=run.ready)
        if tail_lines is not None:
            lines = lines[-tail_lines:] if tail_lines > 0 else []
        return "".join(line + "\n" for line in lines)


def _version(pod: Obj) -> str:
    image = (pod["spec"].get("containers") or [{}])[0].get("image", "")
    return image.rsplit(":", 1)[-1] if ":" in image else "v1.30.4"
