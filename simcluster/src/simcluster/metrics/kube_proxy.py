"""kube-proxy's ``:10249/metrics``: its rule syncs, as pkg/proxy/metrics names them."""

from __future__ import annotations

from datetime import datetime

from simcluster.metrics.exposition import Family, render
from simcluster.metrics.proxy_syncs import ProxyProcess
from simcluster.proxyrules import ServicePort, iptables_save

# Kubernetes' component-base marks a metric's stability in its HELP; kube-proxy's are alpha.
_ALPHA = "[ALPHA] "


def kube_proxy_metrics(process: ProxyProcess, *, iptables_rules: list[ServicePort] | None) -> str:
    """The metrics of a running kube-proxy.

    Args:
        process: The kube-proxy run, its syncs replayed up to now.
        iptables_rules: The rules it last programmed, in iptables mode (None in IPVS mode,
            where kube-proxy does not count its iptables rules).
    """
    families = [
        process.syncs.family(
            "kubeproxy_sync_proxy_rules_duration_seconds",
            _ALPHA + "SyncProxyRules latency in seconds",
        ),
        process.programming.family(
            "kubeproxy_network_programming_duration_seconds",
            _ALPHA + "In Cluster Network Programming Latency in seconds",
        ),
        _single(
            "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
            "The last time proxy rules were successfully synced",
            process.last_sync,
        ),
        _single(
            "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
            "The last time a sync of proxy rules was queued",
            process.last_queued,
        ),
        _single(
            "kubeproxy_sync_proxy_rules_service_changes_total",
            "Cumulative proxy rules Service changes",
            process.service_changes,
            counter=True,
        ),
        _single(
            "kubeproxy_sync_proxy_rules_endpoint_changes_total",
            "Cumulative proxy rules Endpoint changes",
            process.endpoint_changes,
            counter=True,
        ),
        _single(
            "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
            "Cumulative proxy iptables restore failures",
            process.restore_failures,
            counter=True,
        ),
    ]
    if iptables_rules is not None:
        rules = Family(
            "kubeproxy_sync_proxy_rules_iptables_total",
            _ALPHA + "Total number of iptables rules owned by kube-proxy",
            "gauge",
        )
        # Counted only once a sync succeeded, as kube-proxy sets it at the end of one.
        if process.last_sync:
            for table, count in iptables_rule_counts(iptables_rules).items():
                rules.add(count, table=table)
        families.append(rules)
    return render(families)


def iptables_rule_counts(rules: list[ServicePort]) -> dict[str, int]:
    """How many rules (``-A`` lines) each table of the node's ``iptables-save`` has."""
    counts: dict[str, int] = {}
    table = ""
    for line in iptables_save(rules, now=datetime(1970, 1, 1)).splitlines():
        if line.startswith("*"):
            table = line[1:]
            counts[table] = 0
        elif line.startswith("-A ") and table:
            counts[table] += 1
    return counts


def _single(name: str, help: str, value: float, *, counter: bool = False) -> Family:
    family = Family(name, _ALPHA + help, "counter" if counter else "gauge")
    family.add(value)
    return family
