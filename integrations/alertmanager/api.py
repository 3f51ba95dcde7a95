"""An async client of Alertmanager's API v2, for flows to re-check that an alert still fires."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Literal, Self

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

AlertState = Literal["unprocessed", "active", "suppressed"]


class AlertmanagerError(Exception):
    """Alertmanager refused the request or answered something this client cannot read."""


class AlertmanagerUnavailableError(AlertmanagerError):
    """Alertmanager could not be reached, timed out, or answered 5xx: worth retrying later."""


class ApiAlertStatus(BaseModel):
    """Whether Alertmanager notifies about an alert, and what holds it back.

    Attributes:
        state: ``active`` (notified), ``suppressed`` (silenced or inhibited), ``unprocessed``.
        silenced_by: Ids of the silences muting it.
        inhibited_by: Fingerprints of the alerts inhibiting it.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    state: AlertState
    silenced_by: list[str] = Field(default_factory=list, alias="silencedBy")
    inhibited_by: list[str] = Field(default_factory=list, alias="inhibitedBy")


class ApiAlert(BaseModel):
    """An alert as ``GET /api/v2/alerts`` lists it (only alerts not yet resolved are listed)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime = Field(alias="endsAt")
    updated_at: AwareDatetime = Field(alias="updatedAt")
    generator_url: str = Field(default="", alias="generatorURL")
    status: ApiAlertStatus


_ALERTS = TypeAdapter(list[ApiAlert])


class AlertmanagerClient:
    """Reads alerts from one Alertmanager.

    Use as an async context manager, or call `aclose` when done.

    Args:
        base_url: Alertmanager's URL, e.g. ``http://alertmanager.monitoring:9093``.
        timeout: Seconds for connecting and for each read.
        transport: Optional httpx transport (tests, proxies).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout), transport=transport
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def alerts(
        self,
        *,
        filter: Sequence[str] = (),  # Alertmanager's own name, though it shadows the builtin
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
        unprocessed: bool = True,
        receiver: str | None = None,
    ) -> list[ApiAlert]:
        """List the alerts Alertmanager holds that have not resolved.

        Args:
            filter: Label matchers, e.g. ``['alertname="ServiceDown"', 'namespace=~"prod.*"']``.
            active: Include alerts being notified.
            silenced: Include silenced alerts.
            inhibited: Include inhibited alerts.
            unprocessed: Include alerts not yet routed.
            receiver: Only alerts routed to receivers matching this regex.

        Raises:
            AlertmanagerUnavailableError: Unreachable, timed out, or 5xx.
            AlertmanagerError: Refused (4xx) or an unreadable answer.
        """
        params = httpx.QueryParams([("filter", matcher) for matcher in filter])
        params = params.merge(
            {
                "active": _flag(active),
                "silenced": _flag(silenced),
                "inhibited": _flag(inhibited),
                "unprocessed": _flag(unprocessed),
            }
        )
        if receiver is not None:
            params = params.set("receiver", receiver)
        response = await self._get("/api/v2/alerts", params=params)
        try:
            return _ALERTS.validate_json(response.content)
        except ValidationError as error:
            raise AlertmanagerError(f"unreadable answer to GET /api/v2/alerts: {error}") from error

    async def version(self) -> str:
        """Alertmanager's version (``GET /api/v2/status``): proves its API answers.

        Raises:
            AlertmanagerUnavailableError: Unreachable, timed out, or 5xx.
            AlertmanagerError: Refused (4xx) or an unreadable answer.
        """
        response = await self._get("/api/v2/status")
        try:
            return str(response.json()["versionInfo"]["version"])
        except (ValueError, KeyError, TypeError) as error:
            raise AlertmanagerError(f"unreadable answer to GET /api/v2/status: {error}") from error

    async def _get(self, path: str, *, params: httpx.QueryParams | None = None) -> httpx.Response:
        try:
            response = await self._http.get(path, params=params)
        except httpx.HTTPError as error:
            raise AlertmanagerUnavailableError(
                f"GET {path} failed: {type(error).__name__}: {error}"
            ) from error
        if response.status_code >= 500:
            raise AlertmanagerUnavailableError(
                f"GET {path} answered {response.status_code}: {response.text[:200]}"
            )
        if response.status_code != 200:
            raise AlertmanagerError(
                f"GET {path} answered {response.status_code}: {response.text[:200]}"
            )
        return response

    async def is_firing(self, fingerprint: str, *, labels: Mapping[str, str] | None = None) -> bool:
        """Whether the alert with this fingerprint still fires.

        A silenced or inhibited alert still fires (silences only stop notifications); look at
        `ApiAlert.status` through `alerts` to tell those apart.

        Args:
            fingerprint: The alert's fingerprint, from the webhook notification.
            labels: The alert's labels, to narrow the query on the server.

        Raises:
            AlertmanagerUnavailableError: Unreachable, timed out, or 5xx.
            AlertmanagerError: Refused (4xx) or an unreadable answer.
        """
        matchers = [f"{name}={_quote(value)}" for name, value in (labels or {}).items()]
        listed = await self.alerts(filter=matchers)
        return any(alert.fingerprint == fingerprint for alert in listed)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
