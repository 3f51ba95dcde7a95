"""Reading what a rollback is decided and watched from: kube-proxy's DaemonSet, revisions, pods."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flows.rollback.rollout import RolloutVerdict, judge_rollout
from integrations.kubernetes import Kube, NotFound
from integrations.kubernetes.views import ControllerRevision, DaemonSet, Event, Pod

NAMESPACE = "kube-system"
DAEMON_SET = "kube-proxy"
POD_SELECTOR = {"k8s-app": "kube-proxy"}


@dataclass(frozen=True, slots=True)
class KubeProxyNow:
    """kube-proxy's DaemonSet, the ControllerRevisions it owns, its ConfigMap, its pods and the
    Events about pods in its namespace (what is left of how each revision fared), as read now."""

    daemon_set: DaemonSet
    revisions: tuple[ControllerRevision, ...]
    config_map: Mapping[str, Any] | None
    pods: tuple[Pod, ...] = ()
    events: tuple[Event, ...] = ()


def observe_kube_proxy(kube: Kube) -> KubeProxyNow:
    """Read the DaemonSet, its revisions, its ConfigMap (None when there is none), its pods and
    the Events about pods of its namespace."""
    daemon_set = kube.get_daemon_set(DAEMON_SET, NAMESPACE)
    revisions = tuple(kube.list_daemon_set_revisions(daemon_set))
    try:
        config_map: Mapping[str, Any] | None = kube.get_config_map(DAEMON_SET, NAMESPACE).raw
    except NotFound:
        config_map = None
    return KubeProxyNow(
        daemon_set=daemon_set,
        revisions=revisions,
        config_map=config_map,
        pods=tuple(kube.list_pods(NAMESPACE, label_selector=POD_SELECTOR)),
        events=tuple(kube.list_events(NAMESPACE, field_selector="involvedObject.kind=Pod")),
    )


def observe_rollout(kube: Kube, images: Iterable[str]) -> RolloutVerdict:
    """Read the DaemonSet and its pods, and judge the rollout of the template with ``images``."""
    daemon_set = kube.get_daemon_set(DAEMON_SET, NAMESPACE)
    pods = kube.list_pods(NAMESPACE, label_selector=POD_SELECTOR)
    return judge_rollout(daemon_set, pods, images=images)
