"""Counting the other alerts of a name: Alertmanager's API first, the receiver's record else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flows.runtime import (
    AlertmanagerChecker,
    AlertRef,
    AlertSources,
    AlertStatus,
    FiringCount,
)
from tests.engine.served import served

OWN = "0a1b2c3d4e5f6a7b"


def _alert(fingerprint: str, alertname: str, *, state: str = "active") -> dict[str, Any]:
    return {
        "fingerprint": fingerprint,
        "labels": {"alertname": alertname, "namespace": "shop", "service": fingerprint[:4]},
        "startsAt": "2026-11-25T17:00:00.000Z",
        "endsAt": "2026-11-25T17:20:00.000Z",
        "updatedAt": "2026-11-25T17:05:00.000Z",
        "status": {"state": state, "silencedBy": [], "inhibitedBy": []},
    }


LISTED = [
    _alert(OWN, "ServiceDown"),
    _alert("1111aaaa2222bbbb", "ServiceDown"),
    _alert("3333cccc4444dddd", "ServiceDown", state="suppressed"),
    _alert("5555eeee6666ffff", "KubeProxyDown"),
]


class _Alertmanager:
    """Lists `LISTED`, honouring an ``alertname="..."`` filter as Alertmanager does."""

    def __init__(self) -> None:
        self.filters: list[list[str]] = []

    async def alerts(self, request: Request) -> Response:
        matchers = request.query_params.getlist("filter")
        self.filters.append(matchers)
        wanted = {m.split("=", 1)[1].strip('"') for m in matchers if m.startswith("alertname=")}
        listed = [a for a in LISTED if not wanted or a["labels"]["alertname"] in wanted]
        return Response(orjson.dumps(listed), media_type="application/json")


@pytest.fixture
def alertmanager() -> Iterator[tuple[_Alertmanager, str]]:
    fake = _Alertmanager()
    with served(Starlette(routes=[Route("/api/v2/alerts", fake.alerts)])) as url:
        yield fake, url


def test_alertmanager_counts_the_other_alerts_of_the_name_silenced_ones_too(
    alertmanager: tuple[_Alertmanager, str],
) -> None:
    fake, url = alertmanager

    count = AlertmanagerChecker(url).count_firing("ServiceDown", excluding=OWN)

    assert count == 2
    assert fake.filters == [['alertname="ServiceDown"']]


def test_an_unreachable_alertmanager_cannot_count() -> None:
    assert AlertmanagerChecker("http://127.0.0.1:9", timeout=1).count_firing("ServiceDown") is None


class _Record:
    """The receiver's record as the sources see it: a fixed answer (it has its own tests)."""

    def __init__(self, count: int | None) -> None:
        self.count = count

    def status(self, alert: AlertRef) -> AlertStatus:
        del alert
        return AlertStatus.UNKNOWN

    def count_firing(self, alertname: str, *, excluding: str | None = None) -> int | None:
        del alertname, excluding
        return self.count


@pytest.mark.parametrize(
    ("alertmanager_up", "record", "expected"),
    [
        (True, 7, 2),  # Alertmanager is the authority when it answers
        (False, 7, 7),  # else the receiver's record
        (False, None, None),  # neither can tell: unknown, never zero
        (True, None, 2),
    ],
)
def test_the_sources_prefer_alertmanager_and_fall_back_to_the_record(
    alertmanager: tuple[_Alertmanager, str],
    alertmanager_up: bool,
    record: int | None,
    expected: int | None,
) -> None:
    _, url = alertmanager
    sources = AlertSources(
        record=_Record(record),
        alertmanager=AlertmanagerChecker(url if alertmanager_up else "http://127.0.0.1:9"),
    )

    assert sources.count_firing("ServiceDown", excluding=OWN) == expected


def test_without_any_source_the_count_is_unknown() -> None:
    assert AlertSources().count_firing("ServiceDown") is None


def test_a_count_says_whether_alertmanager_confirmed_it_or_only_the_record_counted(
    alertmanager: tuple[_Alertmanager, str],
) -> None:
    _, url = alertmanager
    confirmed = AlertSources(record=_Record(7), alertmanager=AlertmanagerChecker(url))
    unconfirmed = AlertSources(record=_Record(7))

    assert confirmed.firing_elsewhere("ServiceDown", excluding=OWN) == FiringCount(
        count=2, confirmed=True
    )
    assert unconfirmed.firing_elsewhere("ServiceDown", excluding=OWN) == FiringCount(
        count=7, confirmed=False
    )
