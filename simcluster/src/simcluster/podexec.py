"""``exec`` into simulated pods: a tiny interpreter for what runbooks run in kube-proxy pods."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from simcluster import resources
from simcluster.clock import Clock
from simcluster.conntrack import ConntrackTables
from simcluster.conntrackcli import run_conntrack
from simcluster.controllers.kubelet import current_run
from simcluster.errors import BadRequestError
from simcluster.kubeproxy import KubeProxies
from simcluster.proxyrules import iptables_save, ipvsadm_list
from simcluster.store import Store
from simcluster.tcpconnect import connect_error

Obj = dict[str, Any]
_DEV_TCP = re.compile(r"/dev/tcp/([^/\s]+)/(\d+)")


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


class PodExec:
    """``exec`` into the simulated pods' containers.

    Args:
        store: The pods.
        conntrack: The nodes' conntrack tables, which ``conntrack`` lists and edits.
        kube_proxies: The nodes' kube-proxy rules and configuration, which ``iptables-save``,
            ``ipvsadm`` and ``cat`` show.
        clock: The time ``iptables-save`` stamps its output with.
    """

    def __init__(
        self,
        store: Store,
        *,
        conntrack: ConntrackTables,
        kube_proxies: KubeProxies,
        clock: Clock,
    ) -> None:
        self._store = store
        self._conntrack = conntrack
        self._kube_proxies = kube_proxies
        self._clock = clock

    def run(
        self, namespace: str, name: str, *, container: str | None, command: list[str]
    ) -> ExecResult:
        """Run ``command`` in a running container of a pod.

        Raises:
            NotFoundError: no such pod.
            BadRequestError: no such container, or it is not running.
        """
        pod = self._store.get(resources.PODS, namespace, name)
        chosen = choose_container(pod, container)
        run = current_run(pod)
        if run is None or run.stage != "running":
            raise BadRequestError(f'unable to upgrade connection: container not found ("{chosen}")')
        if command[:2] in (["sh", "-c"], ["/bin/sh", "-c"]) and len(command) > 2:
            return self._shell(pod, command[2])
        if command[:2] in (["bash", "-c"], ["/bin/bash", "-c"]) and len(command) > 2:
            return self._bash(pod, command[2])
        return self._run(pod, command, "")

    def _bash(self, pod: Obj, script: str) -> ExecResult:
        """bash's ``/dev/tcp/<host>/<port>`` redirection opens a TCP connection; else as sh."""
        found = _DEV_TCP.search(script)
        if found is None:
            return self._shell(pod, script)
        host, port = found.group(1), found.group(2)
        error = self._connect_error(pod, host, int(port))
        if error is None:
            return ExecResult("", "", 0)
        return ExecResult(
            "", f"bash: connect: {error}\nbash: line 1: {found.group(0)}: {error}\n", 1
        )

    def _nc(self, pod: Obj, args: list[str]) -> ExecResult:
        """``nc -z [-v] [-w secs] <host> <port>``: a TCP connect that sends nothing."""
        positional: list[str] = []
        flags: set[str] = set()
        rest = iter(args)
        for arg in rest:
            if arg == "-w":
                next(rest, None)
            elif arg.startswith("-"):
                flags.update(arg[1:])
            else:
                positional.append(arg)
        if "z" not in flags or len(positional) != 2 or not positional[1].isdigit():
            return ExecResult("", "nc: only 'nc -z [-v] [-w secs] host port' is simulated\n", 1)
        host, port = positional[0], int(positional[1])
        error = self._connect_error(pod, host, port)
        if error is None:
            said = f"{host} ({host}:{port}) open\n" if "v" in flags else ""
            return ExecResult("", said, 0)
        return ExecResult("", f"nc: {host} ({host}:{port}): {error}\n", 1)

    def _connect_error(self, pod: Obj, host: str, port: int) -> str | None:
        rules = self._kube_proxies.rules(pod["spec"].get("nodeName", ""))
        return connect_error(rules, self._store.list_objects(resources.PODS), host, port)

    def _shell(self, pod: Obj, script: str) -> ExecResult:
        stdin, result = "", ExecResult("", "", 0)
        stderr = ""
        for stage in script.split("|"):
            argv = shlex.split(stage)
            if not argv:
                return ExecResult("", 'sh: syntax error: unexpected "|"\n', 2)
            result = self._run(pod, argv, stdin, shell=True)
            stdin, stderr = result.stdout, stderr + result.stderr
        return ExecResult(result.stdout, stderr, result.exit_code)

    def _run(self, pod: Obj, argv: list[str], stdin: str, *, shell: bool = False) -> ExecResult:
        program, args = argv[0].rsplit("/", 1)[-1], argv[1:]
        node = pod["spec"].get("nodeName", "")
        if program == "conntrack":
            flows = self._conntrack.flows(node)
            outcome = run_conntrack(args, flows)
            if outcome.flows is not flows:
                self._conntrack.replace(node, outcome.flows)
            return ExecResult(outcome.stdout, outcome.stderr, outcome.exit_code)
        if program == "iptables-save":
            rules = self._kube_proxies.rules(node)
            return ExecResult(iptables_save(rules, now=self._clock.now()), "", 0)
        if program == "ipvsadm":
            rules = self._kube_proxies.rules(node)
            return ExecResult(ipvsadm_list(rules, ipvs=self._kube_proxies.mode() == "ipvs"), "", 0)
        if program == "nc":
            return self._nc(pod, args)
        if program == "echo":
            return ExecResult(" ".join(args) + "\n", "", 0)
        if program == "cat":
            return self._cat(pod, args)
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

    def _cat(self, pod: Obj, args: list[str]) -> ExecResult:
        node = pod["spec"].get("nodeName", "")
        files = {
            "/etc/hostname": f"{pod['metadata']['name']}\n",
            "/var/lib/kube-proxy/config.conf": self._kube_proxies.config(),
            "/proc/sys/net/netfilter/nf_conntrack_max": f"{self._conntrack.limit(node)}\n",
            "/proc/sys/net/netfilter/nf_conntrack_count": f"{self._conntrack.count(node)}\n",
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
