"""Findings: what the diagnosis concluded, each with its evidence."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Severity(IntEnum):
    """How bad a finding is; ordered so that ``>= Severity.WARNING`` means "act or look"."""

    INFO = 0
    WARNING = 1
    CRITICAL = 2

    @property
    def label(self) -> str:
        """Lower-case name for reports."""
        return self.name.lower()


class FindingCode(StrEnum):
    """What kind of fault (or non-fault) a finding reports."""

    SERVICE_MISSING = "service_missing"
    EXTERNAL_NAME = "external_name"
    NO_SELECTOR = "no_selector"
    SELECTOR_MATCHES_NO_PODS = "selector_matches_no_pods"
    WORKLOAD_SCALED_TO_ZERO = "workload_scaled_to_zero"
    WORKLOAD_ROLLING_OUT = "workload_rolling_out"
    PODS_UNSCHEDULABLE = "pods_unschedulable"
    TARGET_PORT_NOT_EXPOSED = "target_port_not_exposed"
    NO_PODS_READY = "no_pods_ready"
    SOME_PODS_NOT_READY = "some_pods_not_ready"
    NO_READY_ENDPOINTS = "no_ready_endpoints"
    LOCAL_POLICY_NODES_WITHOUT_ENDPOINT = "local_policy_nodes_without_endpoint"
    KUBE_PROXY_DAEMONSET_MISSING = "kube_proxy_daemonset_missing"
    KUBE_PROXY_MISSING_ON_NODE = "kube_proxy_missing_on_node"
    KUBE_PROXY_CRASH_LOOPING = "kube_proxy_crash_looping"
    KUBE_PROXY_NOT_READY = "kube_proxy_not_ready"
    KUBE_PROXY_SYNC_ERRORS = "kube_proxy_sync_errors"
    KUBE_PROXY_ROLLOUT_IN_PROGRESS = "kube_proxy_rollout_in_progress"
    KUBE_PROXY_ROLLOUT_STUCK = "kube_proxy_rollout_stuck"
    NODE_NOT_READY = "node_not_ready"
    NODE_UNKNOWN = "node_unknown"
    MANY_SERVICES_AFFECTED = "many_services_affected"
    SINGLE_SERVICE_AFFECTED = "single_service_affected"
    HEALTHY = "healthy"


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One conclusion of the diagnosis.

    Attributes:
        code: What kind of finding it is.
        severity: critical, warning or info.
        summary: One sentence for humans.
        subject: The object it is about (``namespace/name``, ``node/<name>``, ``cluster``).
        evidence: The observed facts behind it, one per line.
    """

    code: FindingCode
    severity: Severity
    summary: str
    subject: str
    evidence: tuple[str, ...] = ()


def needs_attention(findings: tuple[Finding, ...]) -> bool:
    """Whether any finding is a warning or worse."""
    return any(f.severity >= Severity.WARNING for f in findings)


def codes(findings: tuple[Finding, ...]) -> frozenset[FindingCode]:
    """The distinct codes of `findings`."""
    return frozenset(f.code for f in findings)
