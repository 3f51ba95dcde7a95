"""The alert's labels as the run record keeps them, read from the labels the dispatcher sets."""

from __future__ import annotations

import pytest

from flows.checklist.record import alert_labels_of


@pytest.mark.parametrize(
    ("run_labels", "alert_labels"),
    [
        ({}, {}),
        (
            {
                "alert.alertname": "ServiceDown",
                "alert.namespace": "shop",
                "alert.fingerprint": "5f0c3a9d1e7b2c44",
                "alert.starts_at": "2025-01-10T09:00:00+00:00",
                "runbook": "service-down",
                "prefect.flow.id": "f0bf4be5",
            },
            {"alertname": "ServiceDown", "namespace": "shop"},
        ),
        ({"alert.severity": "critical", "concurrency_key": "shop/web"}, {"severity": "critical"}),
        ({"alert.replicas": 3}, {"replicas": "3"}),
    ],
    ids=["started-by-hand", "dispatcher", "other-labels", "non-text-value"],
)
def test_only_the_alerts_own_labels_are_kept(
    run_labels: dict[str, object], alert_labels: dict[str, str]
) -> None:
    assert alert_labels_of(run_labels) == alert_labels
