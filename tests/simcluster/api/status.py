"""Reading the Kubernetes `Status` out of an official-client ApiException."""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client


def status_of(error: client.ApiException) -> dict[str, Any]:
    """The decoded `Status` body of an API error."""
    assert error.body is not None
    body = json.loads(error.body)
    assert isinstance(body, dict)
    assert body["kind"] == "Status"
    return body
