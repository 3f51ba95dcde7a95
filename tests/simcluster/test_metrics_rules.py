"""Every series the shipped alert rules query is one the simulated exporters serve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from simcluster.clock import FakeClock
from simcluster.scenarios import build_cluster
from tests.simcluster.metrics_samples import parse

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules.yml"
# A series name, not part of a recording rule's level:metric:operations name.
_METRIC = re.compile(r"(?<![\w:])(?:kube|kubeproxy|node)_[a-z0-9_]+(?![\w:])")
# Not simulated: node-exporter's IPVS collector (the simulated nodes run kube-proxy in
# iptables mode unless reconfigured, and serve no IPVS connection counts).
NOT_SERVED = re.compile(r"node_ipvs_")


def _queried() -> list[str]:
    if not RULES.is_file():
        pytest.skip(f"{RULES} is not there")
    exprs = [
        str(rule["expr"])
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
    ]
    names = {name for expr in exprs for name in _METRIC.findall(expr)}
    return sorted(n for n in names if not NOT_SERVED.match(n))


def test_the_rules_query_only_served_series() -> None:
    cluster = build_cluster(nodes=2, clock=FakeClock())
    cluster.clock.sleep(2)
    served = {
        s.name
        for text in (
            cluster.metrics.kube_state_metrics(),
            cluster.metrics.kube_proxy("node-1") or "",
            cluster.metrics.node_exporter("node-1"),
        )
        for s in parse(text)
    }
    queried = _queried()
    assert queried, "the rules query no exporter series"
    assert [name for name in queried if name not in served] == []
