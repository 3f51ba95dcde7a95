"""Running commands in kube-proxy pods over the exec websocket."""

from __future__ import annotations

import pytest

from integrations.kubernetes import Kube, NotFound
from integrations.kubernetes.views import Pod


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
