"""The API caller: raw bodies, timeouts, one retry policy and translated errors."""

from __future__ import annotations

from typing import Any

import pytest
import urllib3.exceptions
from kubernetes.client.exceptions import ApiException

from integrations.kubernetes.errors import NotFound, PermanentKubeError, TransientKubeError
from integrations.kubernetes.retry import RetryPolicy
from integrations.kubernetes.transport import ApiCaller
from integrations.kubernetes.views import JsonObject

POD_LIST = b'{"kind":"PodList","items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}'


class RawResponse:
    """Stands in for the urllib3 response the client returns with _preload_content=False."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.released = False

    def release_conn(self) -> None:
        self.released = True


class GeneratedMethod:
    """Stands in for a generated API method: raises the given failures, then answers."""

    def __init__(self, body: bytes, *failures: Exception) -> None:
        self.body = body
        self.failures = list(failures)
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.responses: list[RawResponse] = []

    def __call__(self, *args: Any, **kwargs: Any) -> RawResponse:
        self.calls.append((args, kwargs))
        if self.failures:
            raise self.failures.pop(0)
        response = RawResponse(self.body)
        self.responses.append(response)
        return response


def caller(max_attempts: int = 4) -> ApiCaller:
    return ApiCaller(
        request_timeout_seconds=2.5,
        retry_policy=RetryPolicy(max_attempts=max_attempts),
        sleep=lambda _: None,
    )


def unavailable() -> ApiException:
    return ApiException(status=503, reason="Service Unavailable", body='{"message":"busy"}')


def names(item: JsonObject) -> str:
    return str(item["metadata"]["name"])


def test_every_call_skips_client_models_and_carries_a_timeout() -> None:
    method = GeneratedMethod(POD_LIST)

    caller().call_bytes(method, "kube-system", label_selector="k8s-app=kube-proxy")

    [(args, kwargs)] = method.calls
    assert args == ("kube-system",)
    assert kwargs == {
        "label_selector": "k8s-app=kube-proxy",
        "_preload_content": False,
        "_request_timeout": 2.5,
    }
    assert method.responses[0].released


def test_lists_are_parsed_item_by_item() -> None:
    assert caller().call_list(GeneratedMethod(POD_LIST), names, "ns") == ["a", "b"]


def test_server_errors_and_resets_are_retried() -> None:
    method = GeneratedMethod(
        POD_LIST,
        unavailable(),
        urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104)),
    )

    assert caller().call_json(method)["kind"] == "PodList"
    assert len(method.calls) == 3


def test_retries_stop_at_the_policy_bound() -> None:
    method = GeneratedMethod(POD_LIST, *(unavailable() for _ in range(5)))

    with pytest.raises(TransientKubeError, match="busy") as caught:
        caller(max_attempts=2).call_json(method)
    assert caught.value.status == 503
    assert isinstance(caught.value.__cause__, ApiException)
    assert len(method.calls) == 2


def test_not_found_is_raised_without_retrying() -> None:
    missing = ApiException(status=404, reason="Not Found", body='{"reason":"NotFound"}')
    method = GeneratedMethod(POD_LIST, missing)

    with pytest.raises(NotFound):
        caller().call_json(method)
    assert len(method.calls) == 1


@pytest.mark.parametrize("body", [b"<html>proxy error</html>", b"[]"])
def test_a_body_that_is_not_a_json_object_is_a_permanent_error(body: bytes) -> None:
    with pytest.raises(PermanentKubeError):
        caller().call_json(GeneratedMethod(body))
