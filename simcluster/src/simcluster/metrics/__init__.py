"""What a real cluster's exporters serve, from the simulated cluster, for a real Prometheus.

kube-state-metrics, each node's kube-proxy and node-exporter (conntrack), in the text
exposition format, named and labelled like the real ones, plus their targets for Prometheus'
HTTP service discovery. `Exporters` computes them; `metrics_routes` serves them.
"""

from simcluster.metrics.exporters import Exporters
from simcluster.metrics.routes import metrics_routes

__all__ = ["Exporters", "metrics_routes"]
