"""Reading a command's exit code from the exec error channel's Status."""

from __future__ import annotations

import pytest

from integrations.kubernetes.errors import PermanentKubeError, TransientKubeError
from integrations.kubernetes.pod_exec import ExecResult, parse_exit_code

NON_ZERO = (
    '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code:'
    ' error executing command [conntrack -D -p udp], exit code {code}",'
    '"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"{code}"}]}}'
)


@pytest.mark.parametrize(
    ("status", "exit_code"),
    [
        ('{"metadata":{},"status":"Success"}', 0),
        (NON_ZERO.replace("{code}", "1"), 1),
        (NON_ZERO.replace("{code}", "137"), 137),
    ],
)
def test_exit_codes_come_from_the_status(status: str, exit_code: int) -> None:
    assert parse_exit_code(status) == exit_code


def test_a_command_that_could_not_start_is_a_permanent_error() -> None:
    status = (
        '{"metadata":{},"status":"Failure","message":"exec: \\"ipvsadm\\": executable file not'
        ' found in $PATH","reason":"InternalError","code":500}'
    )

    with pytest.raises(PermanentKubeError, match="executable file not found"):
        parse_exit_code(status)


@pytest.mark.parametrize("status", ["", "   "])
def test_a_stream_that_ended_without_status_is_transient(status: str) -> None:
    with pytest.raises(TransientKubeError, match="without an exit status"):
        parse_exit_code(status)


@pytest.mark.parametrize("status", ["not json", "[1]"])
def test_unreadable_statuses_are_permanent_errors(status: str) -> None:
    with pytest.raises(PermanentKubeError, match="unreadable"):
        parse_exit_code(status)


def test_conntrack_finding_nothing_is_a_result_not_an_error() -> None:
    result = ExecResult(stdout="", stderr="0 flow entries have been deleted.\n", exit_code=1)

    assert not result.succeeded
