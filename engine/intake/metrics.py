"""The receiver's Prometheus metrics, registered in a registry the caller owns."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

_PREFIX = "runbooks_receiver"

# Handoffs are a database write in Prefect: milliseconds normally, seconds when it struggles.
_HANDOFF_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ReceiverMetrics:
    """Counters and histograms of the webhook receiver.

    Names (all prefixed ``runbooks_receiver_``; counters end in ``_total`` when exposed):
        ``notifications`` {status}: notifications accepted (decoded and authorized).
        ``alerts`` {status, alertname}: alerts received in those notifications.
        ``runs_created`` {runbook}: flow runs created.
        ``duplicates_suppressed`` {runbook}: deliveries that found their run already there.
        ``cooldown_suppressed`` {runbook}: alerts that started no run because a recent run of
            the same cooldown key (runbook and target) holds them back.
        ``incident_joins`` {runbook}: alerts that started no run because they joined the open
            incident of a run working on their cause (kube-proxy).
        ``unmatched_alerts`` {reason}: alerts that start no runbook, by reason.
        ``resolved_runs`` : runs told that their alert resolved.
        ``handoff_seconds`` {operation}: time of one ``submit`` or ``resolve`` call.
        ``handoff_unavailable`` {operation}: calls refused because the run store was down.
        ``rejected_requests`` {reason}: requests answered 4xx, by reason.
        ``truncated_alerts``: alerts Alertmanager left out of notifications (``max_alerts``).

    Args:
        registry: Where to register; give each receiver (and each test) its own.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.notifications = Counter(
            f"{_PREFIX}_notifications",
            "Webhook notifications accepted, by group status.",
            ["status"],
            registry=registry,
        )
        self.alerts = Counter(
            f"{_PREFIX}_alerts",
            "Alerts received in accepted notifications.",
            ["status", "alertname"],
            registry=registry,
        )
        self.runs_created = Counter(
            f"{_PREFIX}_runs_created",
            "Flow runs created for matched alerts.",
            ["runbook"],
            registry=registry,
        )
        self.duplicates_suppressed = Counter(
            f"{_PREFIX}_duplicates_suppressed",
            "Deliveries of an alert whose run already existed (same idempotency key).",
            ["runbook"],
            registry=registry,
        )
        self.cooldown_suppressed = Counter(
            f"{_PREFIX}_cooldown_suppressed",
            "Alerts that started no run because a recent run on the same target is within the "
            "runbook's cooldown.",
            ["runbook"],
            registry=registry,
        )
        self.incident_joins = Counter(
            f"{_PREFIX}_incident_joins",
            "Alerts that started no run because they joined the open incident of a run working "
            "on their cause; that run verifies their targets.",
            ["runbook"],
            registry=registry,
        )
        self.runs_refused = Counter(
            f"{_PREFIX}_runs_refused",
            "Matched alerts whose run the run store refused (parameters that do not fit the flow): "
            "a catalog or configuration error; retrying cannot fix it.",
            ["runbook"],
            registry=registry,
        )
        self.unmatched_alerts = Counter(
            f"{_PREFIX}_unmatched_alerts",
            "Alerts that started no runbook, by reason.",
            ["reason"],
            registry=registry,
        )
        self.resolved_runs = Counter(
            f"{_PREFIX}_resolved_runs",
            "Runs told that their alert resolved.",
            registry=registry,
        )
        self.handoff_seconds = Histogram(
            f"{_PREFIX}_handoff_seconds",
            "Time of one handoff call to the run store.",
            ["operation"],
            buckets=_HANDOFF_BUCKETS,
            registry=registry,
        )
        self.handoff_unavailable = Counter(
            f"{_PREFIX}_handoff_unavailable",
            "Handoff calls refused because the run store was unavailable (answered 503).",
            ["operation"],
            registry=registry,
        )
        self.rejected_requests = Counter(
            f"{_PREFIX}_rejected_requests",
            "Requests answered 4xx, by reason.",
            ["reason"],
            registry=registry,
        )
        self.truncated_alerts = Counter(
            f"{_PREFIX}_truncated_alerts",
            "Alerts Alertmanager left out of notifications because of max_alerts.",
            registry=registry,
        )
