"""Running commands in kube-proxy pods over the exec websocket."""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Iterator

import pytest

from integrations.kubernetes import Kube, NotFound, TransientKubeError
from integrations.kubernetes.pod_exec import never_started
from integrations.kubernetes.views import Pod
from simcluster.server import SimServer


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.said: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.said.append(record.getMessage())


@contextlib.contextmanager
def uvicorn_errors() -> Iterator[list[str]]:
    """What the simulated cluster's uvicorn logs at ERROR meanwhile (it does not propagate)."""
    kept = _Kept()
    source = logging.getLogger("uvicorn.error")
    source.addHandler(kept)
    try:
        yield kept.said
    finally:
        source.removeHandler(kept)


@pytest.fixture
def kube_proxy_pod(admin_kube: Kube) -> Pod:
    return admin_kube.list_pods("kube-system", label_selector={"k8s-app": "kube-proxy"})[0]


def test_a_command_returns_its_output_and_exit_code(admin_kube: Kube, kube_proxy_pod: Pod) -> None:
    result = admin_kube.exec_in_pod(kube_proxy_pod.meta.name, "kube-system", ["conntrack", "-L"])

    assert result.exit_code == 0
    assert result.succeeded
    assert "src=" in result.stdout
    assert "flow entries have been shown" in result.stderr


def test_conntrack_deleting_nothing_exits_1_as_a_result(
    admin_kube: Kube, kube_proxy_pod: Pod
) -> None:
    result = admin_kube.exec_in_pod(
        kube_proxy_pod.meta.name,
        "kube-system",
        ["conntrack", "-D", "-p", "udp", "--orig-dst", "10.96.99.99"],
        container="kube-proxy",
    )

    assert result.exit_code == 1
    assert "0 flow entries have been deleted" in result.stderr


def test_a_missing_executable_exits_127(admin_kube: Kube, kube_proxy_pod: Pod) -> None:
    result = admin_kube.exec_in_pod(kube_proxy_pod.meta.name, "kube-system", ["ipvsadm-missing"])

    assert result.exit_code == 127
    assert "executable file not found" in result.stderr


def test_exec_in_a_missing_pod_is_not_found(admin_kube: Kube) -> None:
    with pytest.raises(NotFound):
        admin_kube.exec_in_pod("kube-proxy-gone", "kube-system", ["conntrack", "-L"])


def _seed_failing_first_draw_only(rate: float) -> int:
    """A seed whose first draw is under `rate` (refused) and whose second is not (served)."""
    for seed in range(1000):
        draws = random.Random(seed)
        if draws.random() < rate <= draws.random():
            return seed
    raise AssertionError("no such seed below 1000")


@pytest.mark.parametrize(
    ("throttle_rate", "error_rate"), [(0.5, 0.0), (0.0, 0.5)], ids=["429", "500"]
)
def test_a_refused_handshake_is_retried_and_the_command_runs_once(
    sim: SimServer,
    admin_kube: Kube,
    kube_proxy_pod: Pod,
    throttle_rate: float,
    error_rate: float,
) -> None:
    faults = sim.cluster.api_faults
    faults.resources = frozenset({"pods/exec"})
    faults.seed = _seed_failing_first_draw_only(0.5)
    faults.retry_after_seconds = 0
    faults.throttle_rate, faults.error_rate = throttle_rate, error_rate

    with uvicorn_errors() as errors:
        result = admin_kube.exec_in_pod(
            kube_proxy_pod.meta.name, "kube-system", ["conntrack", "-L"]
        )

    assert result.exit_code == 0
    assert sim.cluster.requests.total(verb="create", resource="pods/exec") == 2
    assert errors == []  # the refusal is an answer, not a server error


@pytest.mark.parametrize(
    ("error", "repeat"),
    [
        (TransientKubeError("Handshake status 429", status=429), True),
        (TransientKubeError("Handshake status 503", status=503), True),
        (TransientKubeError("[Errno 111] Connection refused"), True),
        (TransientKubeError("The read operation timed out", reason="Timeout"), False),
        (TransientKubeError("exec stream failed: Connection reset by peer"), False),
    ],
)
def test_only_a_handshake_that_surely_did_not_start_the_command_is_repeated(
    error: TransientKubeError, repeat: bool
) -> None:
    assert never_started(error) is repeat
