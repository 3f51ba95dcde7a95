"""Tunable behaviour of the simulated cluster: delays, crashing images, limits."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SimSettings:
    """How the simulated cluster's controllers and kubelets behave.

    Attributes:
        pod_start_delay: Seconds from a pod being bound to a node until its containers run.
        pod_ready_delay: Seconds from containers running until the pod is Ready.
        crashing_images: Images whose containers exit 1 right after starting (CrashLoopBackOff).
        crash_backoff_seconds: The first back-off before restarting a crashed container.
        crash_backoff_max_seconds: The back-off cap (Kubernetes: five minutes).
        probe_period_seconds: How often a failing readiness probe records another event.
        max_events: Events kept; older ones are deleted first.
        pods_per_node: Pod IPs usable in a node's /24 (kubelet IPAM).
        namespace_finalize_delay: Seconds a deleted namespace stays Terminating before the
            namespace controller deletes what is in it and then the namespace itself.
        termination_grace_scale: Seconds a deleted pod stays Terminating per second of its
            grace period: 1.0 is a pod whose containers ignore SIGTERM and are killed when the
            period ends; the default keeps the usual 30 s to 0.3 s, so drills and tests do not
            wait. A grace period of 0 (``--grace-period=0``) always removes the pod at once.
        seed: Seed for generated names and seeded data, for reproducible runs (None: random).
    """

    pod_start_delay: float = 0.1
    pod_ready_delay: float = 0.1
    crashing_images: frozenset[str] = field(
        default_factory=lambda: frozenset({"registry.k8s.io/kube-proxy:v1.30.99-broken"})
    )
    crash_backoff_seconds: float = 10.0
    crash_backoff_max_seconds: float = 300.0
    probe_period_seconds: float = 10.0
    max_events: int = 2000
    pods_per_node: int = 250
    namespace_finalize_delay: float = 2.0
    termination_grace_scale: float = 0.01
    seed: int | None = None
