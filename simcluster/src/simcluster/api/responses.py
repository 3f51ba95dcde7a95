"""HTTP responses of the simulated apiserver: JSON objects, raw stored bytes and `Status` errors."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from simcluster.errors import ApiError, TooManyRequestsError

JSON = "application/json"


def raw_json(body: bytes, status_code: int = 200) -> Response:
    """Answer with already-serialized JSON."""
    return Response(body, status_code=status_code, media_type=JSON)


def json_response(obj: Any, status_code: int = 200) -> Response:
    """Answer with an object serialized as JSON."""
    return raw_json(orjson.dumps(obj), status_code)


def error_response(error: ApiError) -> Response:
    """Answer with the error's `Status` and HTTP code (with ``Retry-After`` when throttled)."""
    response = json_response(error.to_status(), error.code)
    if isinstance(error, TooManyRequestsError):
        response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response


def status_response(status: dict[str, Any]) -> Response:
    """Answer with a prepared `Status` object, using its ``code`` as the HTTP status."""
    return json_response(status, int(status.get("code", 500)))
