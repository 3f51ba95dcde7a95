"""Pod logs over HTTP and exec over the WebSocket channel protocol, via the official client."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.stream import stream

from simcluster.api.podio import exec_frames, exit_status
from simcluster.cluster import SimCluster
from simcluster.podexec import ExecResult
from tests.simcluster.api import manifests
from tests.simcluster.api.clusters import CoreApi


@pytest.fixture
def running_pod(cluster: SimCluster, core: CoreApi) -> str:
    """A pod on node-1 whose container is running."""
    core.create_namespaced_pod("default", manifests.pod("web-1", labels={"app": "web"}))
    cluster.settle()
    assert core.read_namespaced_pod("web-1", "default").status.phase == "Running"
    return "web-1"


def test_exec_returns_the_command_output(core: CoreApi, running_pod: str) -> None:
    output = stream(
        core.connect_get_namespaced_pod_exec,
        running_pod,
        "default",
        command=["echo", "hello", "world"],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
    )
    assert output == "hello world\n"


def test_exec_reports_a_non_zero_exit_code(core: CoreApi, running_pod: str) -> None:
    session = stream(
        core.connect_get_namespaced_pod_exec,
        running_pod,
        "default",
        command=["sh", "-c", "cat /no/such/file"],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    session.run_forever(timeout=5)
    assert "No such file or directory" in session.read_stderr()
    assert session.returncode == 1


def test_exec_of_a_successful_command_exits_0(core: CoreApi, running_pod: str) -> None:
    session = stream(
        core.connect_get_namespaced_pod_exec,
        running_pod,
        "default",
        command=["hostname"],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    session.run_forever(timeout=5)
    assert session.read_stdout() == "web-1\n"
    assert session.returncode == 0


def test_exec_into_a_missing_pod_fails(core: CoreApi) -> None:
    with pytest.raises(client.ApiException):
        stream(
            core.connect_get_namespaced_pod_exec,
            "ghost",
            "default",
            command=["true"],
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
        )


def test_logs_honour_tail_lines(core: CoreApi, running_pod: str) -> None:
    full = core.read_namespaced_pod_log(running_pod, "default")
    tail = core.read_namespaced_pod_log(running_pod, "default", tail_lines=1)
    assert full.count("\n") >= 1
    assert tail == full.splitlines(keepends=True)[-1]


def test_logs_of_a_missing_pod_are_404(core: CoreApi) -> None:
    with pytest.raises(client.ApiException) as raised:
        core.read_namespaced_pod_log("ghost", "default")
    assert raised.value.status == 404


def test_exit_status_is_the_kubelets_non_zero_exit_code_status() -> None:
    assert exit_status(0, ["true"]) == {"metadata": {}, "status": "Success"}
    failure = exit_status(3, ["sh", "-c", "exit 3"])
    assert failure["reason"] == "NonZeroExitCode"
    assert failure["details"] == {"causes": [{"reason": "ExitCode", "message": "3"}]}


def test_exec_frames_prefix_each_channel_number() -> None:
    frames = exec_frames(ExecResult("out", "err", 0), ["x"], stdout=True, stderr=True)
    assert frames[:2] == [b"\x01out", b"\x02err"]
    assert frames[2].startswith(b'\x03{"metadata":{},"status":"Success"}')
    assert len(exec_frames(ExecResult("out", "err", 0), ["x"], stdout=False, stderr=False)) == 1
