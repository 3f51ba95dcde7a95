"""One API call done right: raw body, a request timeout, the retry policy, translated errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import orjson

from integrations.kubernetes.errors import PermanentKubeError
from integrations.kubernetes.gc_pause import gc_paused
from integrations.kubernetes.retry import RetryPolicy, call_with_retries
from integrations.kubernetes.translation import CLIENT_ERRORS, translate_client_error
from integrations.kubernetes.views.meta import JsonObject, objects

T = TypeVar("T")


class ApiCaller:
    """Calls generated client methods without their model deserialization.

    Every call passes ``_preload_content=False`` (the client's models are far too slow for
    thousands of pods) and ``_request_timeout``, runs under the one `RetryPolicy`, and raises
    only the adapter's own errors.
    """

    def __init__(
        self,
        *,
        request_timeout_seconds: float,
        retry_policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.request_timeout_seconds = request_timeout_seconds
        self.retry_policy = retry_policy
        self._sleep = sleep

    def call_bytes(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> bytes:
        """Call `method` with the given arguments and return the response body."""

        def attempt() -> bytes:
            try:
                response = method(
                    *args,
                    _preload_content=False,
                    _request_timeout=self.request_timeout_seconds,
                    **kwargs,
                )
                try:
                    return cast(bytes, response.data)
                finally:
                    response.release_conn()
            except CLIENT_ERRORS as error:
                raise translate_client_error(error, now=datetime.now(UTC)) from error

        return call_with_retries(attempt, self.retry_policy, sleep=self._sleep)

    def call_json(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> JsonObject:
        """Call `method` and decode the JSON object it returns."""
        return decode_object(self.call_bytes(method, *args, **kwargs))

    def call_list(
        self,
        method: Callable[..., Any],
        parse: Callable[[JsonObject], T],
        /,
        *args: Any,
        **kwargs: Any,
    ) -> list[T]:
        """Call a list `method` and parse each object of its ``items`` with `parse`."""
        body = self.call_bytes(method, *args, **kwargs)
        with gc_paused():
            return [parse(item) for item in objects(decode_object(body).get("items"))]


def decode_object(body: bytes) -> JsonObject:
    """Decode a response body that must be one JSON object.

    Raises:
        PermanentKubeError: The body is not a JSON object (not the API server answering).
    """
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise PermanentKubeError(f"the API answered with something not JSON: {error}") from error
    if not isinstance(document, dict):
        raise PermanentKubeError(f"expected a JSON object, got {type(document).__name__}")
    return document
