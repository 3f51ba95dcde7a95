"""exec in simulated pods: conntrack, iptables-save, ipvsadm, files, pipelines, unknown commands."""

from __future__ import annotations

from typing import Any

import pytest

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.errors import BadRequestError, NotFoundError
from simcluster.proxyrules import ServicePort, service_chain
from simcluster.scenarios import build_cluster

Obj = dict[str, Any]


@pytest.fixture
def cluster() -> SimCluster:
    return build_cluster(nodes=3, clock=FakeClock())


def _proxy(cluster: SimCluster, node: str = "node-1") -> str:
    pods = cluster.store.list_objects(resources.PODS, namespace="kube-system")
    return str(
        next(
            p["metadata"]["name"]
            for p in pods
            if p["metadata"]["labels"].get("k8s-app") == "kube-proxy"
            and p["spec"]["nodeName"] == node
        )
    )


def _exec(cluster: SimCluster, pod: str, *command: str) -> Any:
    return cluster.pod_exec.run("kube-system", pod, container=None, command=list(command))


def test_conntrack_lists_flows_to_service_vips(cluster: SimCluster) -> None:
    dns_ip = cluster.store.get(resources.SERVICES, "kube-system", "kube-dns")["spec"]["clusterIP"]
    result = _exec(cluster, _proxy(cluster), "conntrack", "-L", "-p", "udp", "--orig-dst", dns_ip)
    lines = result.stdout.splitlines()
    assert result.exit_code == 0
    assert lines
    assert all(line.startswith("udp") and f"dst={dns_ip}" in line for line in lines)
    assert f"{len(lines)} flow entries have been shown." in result.stderr


def test_conntrack_delete_removes_matches_and_a_second_delete_is_a_no_op(
    cluster: SimCluster,
) -> None:
    proxy = _proxy(cluster)
    dns_ip = cluster.store.get(resources.SERVICES, "kube-system", "kube-dns")["spec"]["clusterIP"]
    count = int(_exec(cluster, proxy, "conntrack", "-C").stdout)
    deleted = _exec(cluster, proxy, "conntrack", "-D", "-p", "udp", "--orig-dst", dns_ip)
    removed = len(deleted.stdout.splitlines())
    assert deleted.exit_code == 0
    assert removed > 0
    assert int(_exec(cluster, proxy, "conntrack", "-C").stdout) == count - removed
    again = _exec(cluster, proxy, "conntrack", "-D", "-p", "udp", "--orig-dst", dns_ip)
    assert again.exit_code == 1
    assert "0 flow entries have been deleted." in again.stderr


def test_a_deleted_pod_leaves_stale_conntrack_entries(cluster: SimCluster) -> None:
    web = next(
        p
        for p in cluster.store.list_objects(resources.PODS, namespace="shop")
        if p["metadata"]["labels"]["app"] == "web"
    )
    cluster.store.delete(resources.PODS, "shop", web["metadata"]["name"])
    cluster.settle()
    stale = _exec(
        cluster, _proxy(cluster), "conntrack", "-L", "--reply-src", web["status"]["podIP"]
    )
    assert stale.stdout.strip()
    assert stale.exit_code == 0


def test_conntrack_flush_empties_the_table(cluster: SimCluster) -> None:
    proxy = _proxy(cluster)
    assert _exec(cluster, proxy, "conntrack", "-F").stderr.endswith(
        "connection tracking table has been emptied.\n"
    )
    assert _exec(cluster, proxy, "conntrack", "-C").stdout == "0\n"


def test_iptables_save_has_chains_for_services_with_endpoints(cluster: SimCluster) -> None:
    web = cluster.store.get(resources.SERVICES, "shop", "web")["spec"]
    rules = _exec(cluster, _proxy(cluster), "iptables-save").stdout
    chain = service_chain(ServicePort("shop", "web", "http", "TCP", web["clusterIP"], 80, None, ()))
    comment = '-m comment --comment "shop/web:http cluster IP"'
    assert f"-A KUBE-SERVICES -d {web['clusterIP']}/32 -p tcp {comment}" in rules
    assert rules.count(f"-A {chain} ") == 4  # masquerade + three endpoints
    assert rules.count("-j DNAT --to-destination") >= 3


def test_iptables_rules_go_stale_on_a_node_whose_kube_proxy_is_down(cluster: SimCluster) -> None:
    cluster.faults.kube_proxy_down(["node-2"])
    cluster.store.delete(resources.SERVICES, "shop", "web")
    cluster.settle(timeout=1)
    healthy = _exec(
        cluster, _proxy(cluster, "node-1"), "sh", "-c", "iptables-save | grep shop/web | wc -l"
    )
    assert healthy.stdout == "0\n"
    frozen = cluster.kube_proxies.stale_rules("node-2")
    assert frozen is not None
    assert any(p.service == "web" for p in frozen)


def test_ipvsadm_shows_an_empty_table_in_iptables_mode(cluster: SimCluster) -> None:
    out = _exec(cluster, _proxy(cluster), "ipvsadm", "-Ln").stdout
    assert out.startswith("IP Virtual Server version 1.2.1")
    assert len(out.splitlines()) == 3


def test_an_unknown_command_exits_127_like_the_runtime(cluster: SimCluster) -> None:
    result = _exec(cluster, _proxy(cluster), "tcpdump", "-i", "any")
    assert result.exit_code == 127
    assert 'exec: "tcpdump": executable file not found in $PATH' in result.stderr


def test_exec_needs_an_existing_running_container(cluster: SimCluster) -> None:
    with pytest.raises(NotFoundError):
        _exec(cluster, "kube-proxy-nope", "true")
    with pytest.raises(BadRequestError, match="container nope is not valid"):
        cluster.pod_exec.run("kube-system", _proxy(cluster), container="nope", command=["true"])
    cluster.faults.kube_proxy_down(["node-3"])
    cluster.settle(timeout=1)
    with pytest.raises(BadRequestError, match="container not found"):
        _exec(cluster, _proxy(cluster, "node-3"), "iptables-save")


@pytest.fixture(scope="module")
def untouched() -> SimCluster:
    """One healthy cluster for commands that only read."""
    return build_cluster(nodes=3, clock=FakeClock())


@pytest.mark.parametrize(
    ("command", "stdout", "stderr", "exit_code"),
    [
        (["echo", "hello", "world"], "hello world\n", "", 0),
        (["hostname"], "node-1\n", "", 0),  # kube-proxy runs in the host's network
        (["cat", "/proc/sys/net/netfilter/nf_conntrack_max"], "262144\n", "", 0),
        (["cat", "/nope"], "", "cat: can't open '/nope': No such file or directory\n", 1),
        (["sh", "-c", "echo a b c | wc -l"], "1\n", "", 0),
        (["sh", "-c", "echo keep | grep -v drop"], "keep\n", "", 0),
        (["sh", "-c", "echo keep | grep drop"], "", "", 1),
        (["sh", "-c", "echo keep | grep -c drop"], "0\n", "", 1),
        (["sh", "-c", "echo one | tail -n 0"], "", "", 0),
        (["sh", "-c", "echo a |"], "", 'sh: syntax error: unexpected "|"\n', 2),
        (["sh", "-c", "tcpdump -i any"], "", "sh: tcpdump: not found\n", 127),
        (
            ["/bin/sh", "-c", "cat /nope | wc -l"],
            "0\n",
            "cat: can't open '/nope': No such file or directory\n",
            0,
        ),
    ],
)
def test_commands_print_and_exit_as_in_a_busybox_shell(
    untouched: SimCluster, command: list[str], stdout: str, stderr: str, exit_code: int
) -> None:
    result = _exec(untouched, _proxy(untouched), *command)
    assert (result.stdout, result.stderr, result.exit_code) == (stdout, stderr, exit_code)


@pytest.mark.parametrize(
    ("script", "lines"),
    [
        ("iptables-save | head -n 3", 3),
        ("iptables-save | head", 10),
        ("iptables-save | grep COMMIT", 2),
        ("iptables-save | grep -c COMMIT", 1),
    ],
)
def test_pipelines_filter_the_output_of_the_stage_before(
    untouched: SimCluster, script: str, lines: int
) -> None:
    result = _exec(untouched, _proxy(untouched), "sh", "-c", script)
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == lines


def test_a_program_may_be_named_by_its_path(untouched: SimCluster) -> None:
    proxy = _proxy(untouched)
    assert (
        _exec(untouched, proxy, "/usr/sbin/conntrack", "-C").stdout
        == _exec(untouched, proxy, "conntrack", "-C").stdout
    )


def test_the_conntrack_count_file_counts_the_nodes_table(untouched: SimCluster) -> None:
    proxy = _proxy(untouched, "node-2")
    count = _exec(untouched, proxy, "conntrack", "-C").stdout
    assert (
        _exec(untouched, proxy, "cat", "/proc/sys/net/netfilter/nf_conntrack_count").stdout == count
    )


def test_kube_proxys_config_file_is_its_config_map(untouched: SimCluster) -> None:
    config = _exec(untouched, _proxy(untouched), "cat", "/var/lib/kube-proxy/config.conf").stdout
    assert config == untouched.kube_proxies.config()
    assert "mode: iptables" in config


def test_an_app_pod_is_named_by_its_own_hostname(untouched: SimCluster) -> None:
    web = next(
        p["metadata"]["name"]
        for p in untouched.store.list_objects(resources.PODS, namespace="shop")
        if p["metadata"]["labels"]["app"] == "web"
    )
    for command in (["hostname"], ["cat", "/etc/hostname"]):
        result = untouched.pod_exec.run("shop", web, container=None, command=command)
        assert result.stdout == f"{web}\n"


def test_ipvsadm_lists_the_services_in_ipvs_mode(cluster: SimCluster) -> None:
    def to_ipvs(config_map: Obj) -> None:
        config = config_map["data"]["config.conf"]
        config_map["data"]["config.conf"] = config.replace("mode: iptables", "mode: ipvs")

    cluster.store.update(resources.CONFIGMAPS, "kube-system", "kube-proxy", to_ipvs)
    web = cluster.store.get(resources.SERVICES, "shop", "web")["spec"]["clusterIP"]
    out = _exec(cluster, _proxy(cluster), "ipvsadm", "-Ln").stdout
    assert f"TCP  {web}:80 rr" in out.splitlines()


def test_a_named_container_runs_the_command(untouched: SimCluster) -> None:
    result = untouched.pod_exec.run(
        "kube-system", _proxy(untouched), container="kube-proxy", command=["echo", "named"]
    )
    assert result.stdout == "named\n"


def _cluster_ip(cluster: SimCluster, name: str) -> str:
    return str(cluster.store.get(resources.SERVICES, "shop", name)["spec"]["clusterIP"])


def test_nc_connects_to_a_service_whose_pods_listen_on_its_target_port(
    cluster: SimCluster,
) -> None:
    ip = _cluster_ip(cluster, "checkout")

    result = _exec(cluster, _proxy(cluster), "nc", "-z", "-v", "-w", "2", ip, "80")

    assert result.exit_code == 0
    assert result.stderr == f"{ip} ({ip}:80) open\n"


def test_nc_is_refused_where_the_target_port_has_no_listener(cluster: SimCluster) -> None:
    cluster.faults.wrong_target_port(target_port=8081)
    cluster.settle(timeout=1)
    ip = _cluster_ip(cluster, "checkout")

    result = _exec(cluster, _proxy(cluster), "nc", "-z", "-w", "2", ip, "80")

    assert result.exit_code == 1
    assert result.stderr == f"nc: {ip} ({ip}:80): Connection refused\n"


def test_bash_dev_tcp_connects_as_nc_does(cluster: SimCluster) -> None:
    ip = _cluster_ip(cluster, "web")
    proxy = _proxy(cluster)

    opened = _exec(cluster, proxy, "bash", "-c", f"exec 3<>/dev/tcp/{ip}/80")
    unanswered = _exec(cluster, proxy, "bash", "-c", f"exec 3<>/dev/tcp/{ip}/81")

    assert opened.exit_code == 0
    # No rule for a port the Service lacks: nothing answers the ClusterIP there.
    assert unanswered.exit_code == 1
    assert "bash: connect: Connection timed out" in unanswered.stderr
