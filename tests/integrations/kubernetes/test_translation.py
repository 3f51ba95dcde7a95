"""Translating the client's exceptions into the adapter's own errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import orjson
import pydantic
import pytest
import urllib3.exceptions
from kubernetes.client.exceptions import ApiException

from integrations.kubernetes.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    Invalid,
    KubeError,
    NotFound,
    PermanentKubeError,
    RbacRule,
    TransientKubeError,
    Unauthorized,
)
from integrations.kubernetes.translation import (
    StatusBody,
    parse_rbac_refusal,
    parse_retry_after,
    parse_status_body,
    translate_api_exception,
    translate_client_error,
    translate_transport_error,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
ENGINE = "system:serviceaccount:service-runbooks:service-runbooks"


def status_body(code: int, reason: str, message: str, **details: object) -> str:
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code}
    status |= {"reason": reason, "message": message}
    if details:
        status["details"] = details
    return orjson.dumps(status).decode()


def api_exception(
    status: int, body: str | None = None, headers: dict[str, str] | None = None
) -> ApiException:
    error = ApiException(status=status, reason="from test", body=body)
    error.headers = headers
    return error


@pytest.mark.parametrize(
    ("message", "user", "rule"),
    [
        (
            f'pods "kube-proxy-abcde" is forbidden: User "{ENGINE}" cannot delete resource'
            ' "pods" in API group "" in the namespace "kube-system"',
            ENGINE,
            RbacRule("delete", "pods", None, "", "kube-system"),
        ),
        (
            f'pods "kube-proxy-abcde" is forbidden: User "{ENGINE}" cannot create resource'
            ' "pods/exec" in API group "" in the namespace "kube-system"',
            ENGINE,
            RbacRule("create", "pods", "exec", "", "kube-system"),
        ),
        (
            f'nodes is forbidden: User "{ENGINE}" cannot list resource "nodes" in API group ""'
            " at the cluster scope",
            ENGINE,
            RbacRule("list", "nodes", None, "", None),
        ),
        (
            'daemonsets.apps "kube-proxy" is forbidden: User "system:anonymous" cannot patch'
            ' resource "daemonsets" in API group "apps" in the namespace "kube-system":'
            ' RBAC: role.rbac.authorization.k8s.io "runbooks" not found',
            "system:anonymous",
            RbacRule("patch", "daemonsets", None, "apps", "kube-system"),
        ),
    ],
)
def test_rbac_refusals_name_the_missing_rule(message: str, user: str, rule: RbacRule) -> None:
    refusal = parse_rbac_refusal(message)

    assert refusal is not None
    assert refusal.user == user
    assert refusal.rule == rule


@pytest.mark.parametrize(
    "message",
    [
        'forbidden: User "system:anonymous" cannot get path "/healthz"',
        "admission webhook denied the request",
        "",
    ],
)
def test_messages_not_from_the_rbac_authorizer_name_no_rule(message: str) -> None:
    assert parse_rbac_refusal(message) is None


@pytest.mark.parametrize(
    ("rule", "advice"),
    [
        (
            RbacRule("delete", "pods", None, "", "kube-system"),
            'add rule verbs=[delete] apiGroups=[""] resources=[pods] in namespace kube-system'
            " to the engine's Role",
        ),
        (
            RbacRule("create", "pods", "exec", "", "kube-system"),
            'add rule verbs=[create] apiGroups=[""] resources=[pods/exec] in namespace'
            " kube-system to the engine's Role",
        ),
        (
            RbacRule("list", "nodes", None, "", None),
            'add rule verbs=[list] apiGroups=[""] resources=[nodes] at cluster scope'
            " to the engine's ClusterRole",
        ),
        (
            RbacRule("patch", "daemonsets", None, "apps", "kube-system"),
            'add rule verbs=[patch] apiGroups=["apps"] resources=[daemonsets] in namespace'
            " kube-system to the engine's Role",
        ),
    ],
)
def test_rbac_rules_describe_what_to_add_to_which_role(rule: RbacRule, advice: str) -> None:
    assert rule.describe() == advice


def test_a_403_becomes_forbidden_naming_the_rule_in_its_message() -> None:
    message = (
        f'pods "kube-proxy-abcde" is forbidden: User "{ENGINE}" cannot delete resource "pods"'
        ' in API group "" in the namespace "kube-system"'
    )
    error = translate_api_exception(
        api_exception(403, status_body(403, "Forbidden", message)), now=NOW
    )

    assert isinstance(error, Forbidden)
    assert error.rule == RbacRule("delete", "pods", None, "", "kube-system")
    assert error.user == ENGINE
    assert str(error).startswith(
        'RBAC refused: add rule verbs=[delete] apiGroups=[""] resources=[pods] in namespace'
        " kube-system to the engine's Role"
    )


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        (format_datetime(NOW + timedelta(seconds=10), usegmt=True), 10.0),
        (format_datetime(NOW - timedelta(seconds=10), usegmt=True), 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_or_an_http_date(
    value: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(
    ("body", "parsed"),
    [
        (
            status_body(404, "NotFound", 'pods "x" not found'),
            StatusBody("NotFound", 'pods "x" not found'),
        ),
        (
            status_body(429, "TooManyRequests", "slow down", retryAfterSeconds=2),
            StatusBody("TooManyRequests", "slow down", 2.0),
        ),
        ("<html>bad gateway</html>", StatusBody(message="<html>bad gateway</html>")),
        ("[1, 2]", StatusBody()),
        (None, StatusBody()),
    ],
)
def test_status_bodies_are_read_leniently(body: str | None, parsed: StatusBody) -> None:
    assert parse_status_body(body) == parsed


@pytest.mark.parametrize(
    ("status", "reason", "kind"),
    [
        (400, "BadRequest", PermanentKubeError),
        (401, "Unauthorized", Unauthorized),
        (404, "NotFound", NotFound),
        (409, "AlreadyExists", AlreadyExists),
        (409, "Conflict", Conflict),
        (410, "Expired", PermanentKubeError),
        (422, "Invalid", Invalid),
        (408, "Timeout", TransientKubeError),
        (429, "TooManyRequests", TransientKubeError),
        (500, "InternalError", TransientKubeError),
        (501, "NotImplemented", PermanentKubeError),
        (502, "", TransientKubeError),
        (503, "ServiceUnavailable", TransientKubeError),
        (504, "Timeout", TransientKubeError),
    ],
)
def test_http_statuses_map_to_error_kinds(status: int, reason: str, kind: type[KubeError]) -> None:
    error = translate_api_exception(
        api_exception(status, status_body(status, reason, "it failed")), now=NOW
    )

    assert type(error) is kind
    assert error.status == status
    assert error.message == "it failed"


def test_already_exists_is_a_conflict_and_conflicts_are_permanent() -> None:
    assert issubclass(AlreadyExists, Conflict)
    assert issubclass(Conflict, PermanentKubeError)
    assert not issubclass(PermanentKubeError, TransientKubeError)


def test_throttling_honours_the_retry_after_header_in_any_case() -> None:
    error = translate_api_exception(
        api_exception(429, status_body(429, "TooManyRequests", "slow"), {"retry-after": "4"}),
        now=NOW,
    )

    assert isinstance(error, TransientKubeError)
    assert error.retry_after == 4.0


def test_throttling_without_header_uses_the_status_details() -> None:
    body = status_body(429, "TooManyRequests", "slow", retryAfterSeconds=7)
    error = translate_api_exception(api_exception(429, body), now=NOW)

    assert isinstance(error, TransientKubeError)
    assert error.retry_after == 7.0


def test_refused_exec_handshake_is_translated_from_its_body() -> None:
    message = (
        f'pods "kube-proxy-abcde" is forbidden: User "{ENGINE}" cannot create resource'
        ' "pods/exec" in API group "" in the namespace "kube-system"'
    )
    reason = (
        "Handshake status 403 Forbidden -+-+- {'content-type': 'application/json'} -+-+- "
        + status_body(403, "Forbidden", message)
    )
    error = translate_api_exception(ApiException(status=0, reason=reason), now=NOW)

    assert isinstance(error, Forbidden)
    assert error.rule == RbacRule("create", "pods", "exec", "", "kube-system")


def test_exec_handshake_on_a_missing_pod_is_not_found() -> None:
    reason = "Handshake status 404 Not Found -+-+- {} -+-+- " + status_body(
        404, "NotFound", 'pods "gone" not found'
    )
    error = translate_api_exception(ApiException(status=0, reason=reason), now=NOW)

    assert isinstance(error, NotFound)


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("[Errno 111] Connection refused", TransientKubeError),
        (
            "SSLError\n[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
            PermanentKubeError,
        ),
    ],
)
def test_client_side_failures_without_status(reason: str, kind: type[KubeError]) -> None:
    error = translate_api_exception(ApiException(status=0, reason=reason), now=NOW)

    assert type(error) is kind


def _new_connection_error() -> urllib3.exceptions.NewConnectionError:
    return urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection")  # type: ignore[arg-type]  # urllib3 only formats the connection


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (_new_connection_error(), TransientKubeError),
        (
            urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104)),
            TransientKubeError,
        ),
        (
            urllib3.exceptions.ReadTimeoutError(None, "/api/v1/pods", "Read timed out."),  # type: ignore[arg-type]  # no pool needed to format it
            TransientKubeError,
        ),
        (
            urllib3.exceptions.MaxRetryError(None, "/api/v1/pods", _new_connection_error()),  # type: ignore[arg-type]  # no pool needed to format it
            TransientKubeError,
        ),
        (
            urllib3.exceptions.MaxRetryError(
                None,  # type: ignore[arg-type]  # no pool needed to format it
                "/api/v1/pods",
                urllib3.exceptions.SSLError("certificate verify failed"),
            ),
            PermanentKubeError,
        ),
        (ConnectionRefusedError(111, "Connection refused"), TransientKubeError),
        (ConnectionResetError(104, "Connection reset by peer"), TransientKubeError),
        (TimeoutError("timed out"), TransientKubeError),
    ],
)
def test_transport_failures_are_transient_unless_tls_fails(
    error: urllib3.exceptions.HTTPError | OSError, kind: type[KubeError]
) -> None:
    assert type(translate_transport_error(error)) is kind


def test_arguments_the_client_rejects_are_invalid() -> None:
    class Body(pydantic.BaseModel):
        port: int

    with pytest.raises(pydantic.ValidationError) as caught:
        Body.model_validate({"port": "eighty"})

    assert isinstance(translate_client_error(caught.value, now=NOW), Invalid)
