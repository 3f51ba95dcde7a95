"""What every group of operations shares: the injected client, its APIs and the caller."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from kubernetes import client

from integrations.kubernetes.retry import RetryPolicy
from integrations.kubernetes.source import ConnectionSource
from integrations.kubernetes.transport import ApiCaller
from integrations.kubernetes.views import JsonObject

T = TypeVar("T")


def json_headers() -> dict[str, str]:
    """Headers for a request with a JSON body (a fresh dict: the client adds to it)."""
    # The generated create/delete methods send no Content-Type of their own.
    return {"Content-Type": "application/json"}


class KubeBase:
    """The state the operation groups share; see `Kube` for the whole facade.

    Args:
        api_client: The configured official client (see `connect`); the facade owns it.
        request_timeout_seconds: Timeout of every HTTP request.
        exec_timeout_seconds: How long a command run in a pod may take.
        retry_policy: Retry policy for transient failures.
        source: Where the configuration came from, for the CLI to announce.
        sleep: How to wait between retries (tests pass a recorder).
    """

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        request_timeout_seconds: float = 10.0,
        exec_timeout_seconds: float = 60.0,
        retry_policy: RetryPolicy | None = None,
        source: ConnectionSource | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self._api_client = api_client
        self._core = client.CoreV1Api(api_client)
        self._apps = client.AppsV1Api(api_client)
        self._discovery = client.DiscoveryV1Api(api_client)
        self._version = client.VersionApi(api_client)
        self._exec_timeout_seconds = exec_timeout_seconds
        self._call = ApiCaller(
            request_timeout_seconds=request_timeout_seconds,
            retry_policy=retry_policy or RetryPolicy(),
            sleep=sleep,
        )

    @property
    def server(self) -> str:
        """The API server's URL this facade talks to (no call made)."""
        return str(self._api_client.configuration.host)

    def server_version(self) -> str:
        """The apiserver's ``gitVersion``: the cheapest call that proves the cluster answers.

        Raises:
            KubeError: the apiserver cannot be reached or refuses us.
        """
        return str(self._call.call_json(self._version.get_code).get("gitVersion", ""))

    def close(self) -> None:
        """Release the client's connection pool."""
        self._api_client.close()  # type: ignore[no-untyped-call]  # the client leaves close() unannotated

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _list(
        self,
        namespaced: Callable[..., Any],
        everywhere: Callable[..., Any],
        parse: Callable[[JsonObject], T],
        namespace: str | None,
        **filters: Any,
    ) -> list[T]:
        if namespace is None:
            return self._call.call_list(everywhere, parse, **filters)
        return self._call.call_list(namespaced, parse, namespace, **filters)
