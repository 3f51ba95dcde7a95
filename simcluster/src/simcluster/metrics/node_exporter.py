"""node-exporter's conntrack collector: a node's table fill and size."""

from __future__ import annotations

from simcluster.metrics.exposition import Family, render


def node_exporter_metrics(*, entries: int, limit: int) -> str:
    """What node-exporter's ``conntrack`` collector serves for one node.

    Args:
        entries: ``/proc/sys/net/netfilter/nf_conntrack_count``.
        limit: ``/proc/sys/net/netfilter/nf_conntrack_max``.
    """
    count = Family(
        "node_nf_conntrack_entries",
        "Number of currently allocated flow entries for connection tracking.",
        "gauge",
    )
    count.add(entries)
    size = Family(
        "node_nf_conntrack_entries_limit", "Maximum size of connection tracking table.", "gauge"
    )
    size.add(limit)
    return render([count, size])
