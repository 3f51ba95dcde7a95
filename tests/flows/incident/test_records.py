"""Incident records: join records losing nothing, each episode read once, what requests cover."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from prefect.client.schemas.actions import VariableCreate

from flows.incident.records import (
    JOIN_PREFIX,
    LISTED,
    MARKER_TAG,
    JoinedAlert,
    cluster_key,
    coverage_of,
    covered_targets,
    join_key,
    marker_name,
    pack_joins,
    unpack_joins,
)

STARTS_AT = datetime(2025, 11, 25, 9, 30, 5, tzinfo=UTC)
JOINED_AT = datetime(2025, 11, 25, 9, 32, 0, tzinfo=UTC)


def joined(
    fingerprint: str = "3f2a9c0e1b4d5a6f",
    *,
    alertname: str = "ServiceDown",
    parameters: Mapping[str, Any] | None = None,
    starts_at: datetime = STARTS_AT,
    joined_at: datetime = JOINED_AT,
    run_id: str | None = None,
) -> JoinedAlert:
    """An alert of ``shop/web`` (unless `parameters` say otherwise) that joined an incident."""
    params = {"namespace": "shop", "service": "web"} if parameters is None else dict(parameters)
    return JoinedAlert(
        alertname=alertname,
        fingerprint=fingerprint,
        starts_at=starts_at,
        runbook="service-down",
        deployment="service-checklist/service-checklist",
        parameters=params,
        tags=[f"alert:{alertname}", f"fingerprint:{fingerprint}", "runbook:service-down"],
        labels={"alert.alertname": alertname, "alert.fingerprint": fingerprint},
        idempotency_key=f"{fingerprint}-20251125t093005z",
        joined_at=joined_at,
        run_id=run_id,
    )


def on_service(index: int, *, alertname: str = "ServiceDown") -> JoinedAlert:
    """An alert about Service ``shop/web-<index>``, joined `index` seconds after the first."""
    return joined(
        f"{index:016x}",
        alertname=alertname,
        parameters={"namespace": "shop", "service": f"web-{index}"},
        joined_at=JOINED_AT + timedelta(seconds=index),
    )


def test_two_hundred_alerts_pack_into_one_record_and_none_is_lost() -> None:
    alerts = [on_service(index) for index in range(200)]

    record = pack_joins(alerts)

    assert [JoinedAlert.model_validate(item) for item in orjson.loads(record)] == alerts
    assert unpack_joins([record]) == alerts


def test_no_alerts_pack_into_an_empty_record() -> None:
    assert unpack_joins([pack_joins([])]) == []


def test_a_redelivered_alert_is_read_once_with_its_first_join() -> None:
    first = joined(joined_at=JOINED_AT, run_id="run-a")
    again = joined(joined_at=JOINED_AT + timedelta(minutes=1), run_id="run-b")
    other = on_service(7)

    alerts = unpack_joins([pack_joins([again]), pack_joins([other, first])])

    assert alerts == [first, other]


def test_a_new_episode_of_the_same_alert_is_a_join_of_its_own() -> None:
    first = joined()
    hour = timedelta(hours=1)
    later = joined(starts_at=STARTS_AT + hour, joined_at=JOINED_AT + hour)

    assert unpack_joins([pack_joins([later, first])]) == [first, later]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("null", id="null"),
        pytest.param('"not a join"', id="string"),
        pytest.param('{"alertname": "ServiceDown"}', id="object"),
        pytest.param("42", id="number"),
    ],
)
def test_record_values_that_are_not_lists_are_ignored(value: str) -> None:
    alert = joined()

    assert unpack_joins([value, pack_joins([alert])]) == [alert]


@pytest.mark.parametrize(
    ("parameters", "target", "service"),
    [
        pytest.param(
            {"namespace": "shop", "service": "web"}, "shop/web", ("shop", "web"), id="service"
        ),
        pytest.param({"instance": "node-3"}, "node-3", None, id="node"),
        pytest.param({}, "the cluster", None, id="cluster"),
        pytest.param({"namespace": "shop"}, "the cluster", None, id="namespace only"),
        pytest.param(
            {"namespace": "shop", "service": "web", "instance": "node-3"},
            "shop/web",
            ("shop", "web"),
            id="service on a node",
        ),
    ],
)
def test_an_alert_is_about_its_service_else_its_node_else_the_cluster(
    parameters: dict[str, Any], target: str, service: tuple[str, str] | None
) -> None:
    alert = joined(parameters=parameters)

    assert alert.target == target
    assert alert.service == service


def test_the_cluster_key_is_short_stable_and_ignores_a_trailing_slash() -> None:
    key = cluster_key("https://10.0.0.1:6443")

    assert key == cluster_key("https://10.0.0.1:6443/")
    assert key == cluster_key("https://10.0.0.1:6443")
    assert len(key) == 12
    assert set(key) <= set("0123456789abcdef")
    assert key != cluster_key("https://10.0.0.2:6443")


def test_markers_and_join_records_have_names_prefect_accepts() -> None:
    cluster = cluster_key("https://10.0.0.1:6443")

    marker, join = marker_name(cluster, "kube-proxy"), join_key("5d41402abc4b")

    assert (marker, join) == (f"incident-{cluster}-kube-proxy", "incident-join-5d41402abc4b")
    VariableCreate(name=marker, value={}, tags=[MARKER_TAG])
    assert join.startswith(JOIN_PREFIX)


def test_alerts_are_grouped_by_target_in_order_of_first_join() -> None:
    web = joined("a1", parameters={"namespace": "shop", "service": "web"})
    node = joined("b2", parameters={"instance": "node-2"})
    web_again = joined("c3", alertname="KubeServiceDown")

    targets = covered_targets([web, node, web_again])

    assert list(targets) == ["shop/web", "node-2"]
    assert targets["shop/web"] == [web, web_again]


CAUSE = "kube-proxy needs a restart on 1 node(s): node-2"


def test_a_request_that_covers_no_alerts_says_none_has_joined_yet() -> None:
    coverage = coverage_of("kube-proxy", CAUSE, [])

    assert (coverage.alerts, coverage.targets, coverage.more_targets) == (0, (), 0)
    assert coverage.lines() == [
        f"One request for the whole kube-proxy incident: {CAUSE}.",
        "No other alert has joined it yet; those that do are listed here.",
    ]


def test_a_request_names_each_covered_target_once_in_order_of_first_join() -> None:
    covered = [
        joined("a1", alertname="ServiceDown"),
        joined("b2", alertname="KubeProxyDown", parameters={"instance": "node-2"}),
        joined("c3", alertname="KubeServiceDown"),
        joined("d4", alertname="ServiceDown", parameters={}),
    ]

    coverage = coverage_of("kube-proxy", CAUSE, covered)

    assert coverage.targets == ("shop/web", "node-2", "the cluster")
    assert coverage.lines() == [
        f"One request for the whole kube-proxy incident: {CAUSE}.",
        "It also answers for 4 other alert(s) on 3 target(s): shop/web, node-2, the cluster. "
        "Each is verified once the change is done; one still failing then gets its own run.",
    ]


@pytest.mark.parametrize(
    ("targets", "tail"),
    [
        pytest.param(LISTED - 1, "", id="fewer than listed"),
        pytest.param(LISTED, "", id="exactly as many as listed"),
        pytest.param(LISTED + 1, " and 1 more", id="one over"),
        pytest.param(LISTED + 5, " and 5 more", id="five over"),
    ],
)
def test_a_request_names_at_most_the_listed_targets_and_counts_the_rest(
    targets: int, tail: str
) -> None:
    covered = [on_service(index) for index in range(targets)]

    coverage = coverage_of("kube-proxy", CAUSE, covered)

    named = [f"shop/web-{index}" for index in range(min(targets, LISTED))]
    assert coverage.targets == tuple(named)
    assert coverage.more_targets == targets - len(named)
    assert coverage.lines()[1] == (
        f"It also answers for {targets} other alert(s) on {targets} target(s): "
        f"{', '.join(named)}{tail}. Each is verified once the change is done; one still "
        "failing then gets its own run."
    )
