"""Fingerprints computed here equal the ones Alertmanager 0.25 sent for the same labels."""

from __future__ import annotations

import pytest

from integrations.alertmanager import fingerprint_labels
from tests.integrations.alertmanager.samples import load_fixture, webhook_body

CAPTURED = [
    (alert["labels"], alert["fingerprint"])
    for name in ("firing", "resolved", "group_2alerts")
    for alert in webhook_body(name)["alerts"]
] + [
    (alert["labels"], alert["fingerprint"])
    for alert in load_fixture("alertmanager_get_alerts_silenced")
]


@pytest.mark.parametrize(("labels", "fingerprint"), CAPTURED)
def test_the_fingerprint_of_captured_alerts_is_reproduced(
    labels: dict[str, str], fingerprint: str
) -> None:
    assert fingerprint_labels(labels) == fingerprint


def test_label_order_does_not_matter_but_every_byte_does() -> None:
    labels = {"alertname": "ServiceDown", "service": "checkout"}

    assert fingerprint_labels(dict(reversed(labels.items()))) == fingerprint_labels(labels)
    assert fingerprint_labels({"a": "bc"}) != fingerprint_labels({"ab": "c"})
    assert fingerprint_labels({}) == "cbf29ce484222325"  # FNV offset basis, as in Prometheus
