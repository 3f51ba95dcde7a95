"""``exec`` into simulated pods: a tiny interpreter for what runbooks run in kube-proxy pods."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simcluster import resources
from simcluster.conntrackcli import run_conntrack
from simcluster.controllers.kubelet import current_run
from simcluster.errors import BadRequestError
from simcluster.proxyrules import iptables_save, ipvsadm_list, service_ports

if TYPE_CHECKING:
    from simcluster.cluster import SimCluster

Obj = dict[str, Any]


@dataclass(frozen=True)
class ExecResult:
    """What a command printed and its exit status."""

    stdout: str
    stderr: str
    exit_code: int


def choose_container(pod: Obj, container: str | None) -> str:
    """The container addressed (the first one when unnamed), as the API checks it.

    Raises:
        BadRequestError: the pod has no such container.
    """
    names = [c["name"] for c in pod["spec"].get("containers") or []]
    if container is None:
        return str(names[0])
    if container not in names:
        raise BadRequestError(
            f"container {container} is not valid for pod {pod['metadata']['name']}"
        )
    return container


def run_in_pod(
    cluster: SimCluster, namespace: str, name: str, *, container: str | None, command: list[str]
) -> ExecResult:
    """Run ``command`` in a running container of a pod.

    Raises:
        NotFoundError: no such pod.
        BadRequestError: no such container, or it is not running.
    """
    pod = cluster.store.get(resources.PODS, namespace, name)
    chosen = choose_container(pod, container)
    run = current_run(pod)
    if run is None or run.stage != "running":
        raise BadRequestError(f'unable to upgrade connection: container not found ("{chosen}")')
    if command[:2] in (["sh", "-c"], ["/bin/sh", "-c"]) and len(command) > 2:
        return _shell(cluster, pod, command[2])
    return _run(cluster, pod, command, "")


def _shell(cluster: SimCluster, pod: Obj, script: str) -> ExecResult:
    stdin, result = "", ExecResult("", "", 0)
    stderr = ""
    for stage in script.split("|"):
        argv = shlex.split(stage)
        if not argv:
            return ExecResult("", 'sh: syntax error: unexpected "|"\n', 2)
        result = _run(cluster, pod, argv, stdin, shell=True)
        stdin, stderr = result.stdout, stderr + result.stderr
    return ExecResult(result.stdout, stderr, result.exit_code)


def _run(
    cluster: SimCluster, pod: Obj, argv: list[str], stdin: str, *, shell: bool = False
) -> ExecResult:
    program, args = argv[0].rsplit("/", 1)[-1], argv[1:]
    node = pod["spec"].get("nodeName", "")
    if program == "conntrack":
        flows = cluster.conntrack.flows(node)
        outcome = run_conntrack(args, flows)
        if outcome.flows is not flows:
            cluster.conntrack.replace(node, outcome.flows)
        return ExecResult(outcome.stdout, outcome.stderr, outcome.exit_code)
    if program == "iptables-save":
        return ExecResult(_rules(cluster, pod, ipvs=False), "", 0)
    if program == "ipvsadm":
        return ExecResult(_rules(cluster, pod, ipvs=True), "", 0)
    if program == "echo":
        return ExecResult(" ".join(args) + "\n", "", 0)
    if program == "cat":
        return _cat(cluster, pod, args)
    if program == "hostname":
        return ExecResult(
            f"{node if pod['spec'].get('hostNetwork') else pod['metadata']['name']}\n", "", 0
        )
    if program in ("grep", "wc", "head", "tail"):
        return _filter(program, args, stdin)
    if shell:
        return ExecResult("", f"sh: {program}: not found\n", 127)
    message = (
        "OCI runtime exec failed: exec failed: unable to start container process: "
        f'exec: "{argv[0]}": '
        "executable file not found in $PATH: unknown\n"
    )
    return ExecResult("", message, 127)


def _rules(cluster: SimCluster, pod: Obj, *, ipvs: bool) -> str:
    node = pod["spec"].get("nodeName", "")
    frozen = cluster.faults.frozen_rules(node)
    if ipvs:
        mode = cluster.faults.proxy_mode()
        return ipvsadm_list(
            frozen if frozen is not None else _current(cluster), ipvs=mode == "ipvs"
        )
    return iptables_save(
        frozen if frozen is not None else _current(cluster), now=cluster.clock.now()
    )


def _current(cluster: SimCluster) -> list[Any]:
    services = cluster.store.list_objects(resources.SERVICES)
    return service_ports(services, cluster.store.list_objects(resources.ENDPOINTSLICES))


def _cat(cluster: SimCluster, pod: Obj, args: list[str]) -> ExecResult:
    flows = cluster.conntrack.flows(pod["spec"].get("nodeName", ""))
    files = {
        "/etc/hostname": f"{pod['metadata']['name']}\n",
        "/var/lib/kube-proxy/config.conf": cluster.faults.proxy_config(),
        "/proc/sys/net/netfilter/nf_conntrack_max": "262144\n",
        "/proc/sys/net/netfilter/nf_conntrack_count": f"{len(flows)}\n",
    }
    out, err = "", ""
    for path in args:
        if path in files:
            out += files[path]
        else:
            err += f"cat: can't open '{path}': No such file or directory\n"
    return ExecResult(out, err, 1 if err else 0)


def _filter(program: str, args: list[str], stdin: str) -> ExecResult:
    lines = stdin.splitlines()
    if program == "wc":
        return ExecResult(f"{len(lines)}\n", "", 0)
    if program in ("head", "tail"):
        count = int(args[args.index("-n") + 1]) if "-n" in args else 10
        chosen = lines[:count] if program == "head" else lines[-count:] if count else []
        return ExecResult("".join(line + "\n" for line in chosen), "", 0)
    flags = [a for a in args if a.startswith("-")]
    pattern = next((a for a in args if not a.startswith("-")), "")
    invert, count_only = "-v" in flags, "-c" in flags
    picked = [line for line in lines if (pattern in line) != invert]
    code = 0 if picked else 1
    if count_only:
        return ExecResult(f"{len(picked)}\n", "", code)
    return ExecResult("".join(line + "\n" for line in picked), "", code)
