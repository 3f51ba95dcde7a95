"""Cleaning one node's conntrack table through its kube-proxy pod, counting before and after.

Before deleting, each deletion reads again whether its Pod IP is still gone (IPs are reused) and
how many entries match; a delete that matched nothing is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.conntrack.entries import (
    COUNT_COMMAND,
    FLUSH_COMMAND,
    Match,
    delete_command,
    list_command,
    parse_entries,
)
from flows.conntrack.observe import EXEC_TIMEOUT_SECONDS, KUBE_SYSTEM, backends
from flows.conntrack.plan import Deletion
from integrations.kubernetes import Kube, PermanentKubeError


@dataclass(frozen=True, slots=True)
class NodeCleanup:
    """What one node's cleanup did: a line per deletion, and the entries left that match."""

    node: str
    lines: tuple[str, ...]
    deleted: int
    remaining: int


def clean(
    kube: Kube, node: str, *, pod: str, deletions: tuple[Deletion, ...], flush: bool
) -> NodeCleanup:
    """Delete the node's stale entries (or flush its whole table) through kube-proxy ``pod``."""
    if flush:
        return _flush(kube, node, pod)
    lines, deleted, remaining = [], 0, 0
    live = {p.pod_ip: p.meta.name for p in kube.list_pods() if p.pod_ip}
    for deletion in deletions:
        busy = _now_in_use(kube, deletion, live)
        if busy:
            lines.append(f"{_label(deletion)}: skipped, {busy}")
            continue
        before = _count(kube, pod, deletion.match)
        if before:
            _run(kube, pod, delete_command(deletion.match), ok=(0, 1))
        after = _count(kube, pod, deletion.match)
        deleted, remaining = deleted + before - after, remaining + after
        lines.append(f"{_label(deletion)}: {before} -> {after}")
    return NodeCleanup(node, tuple(lines), deleted, remaining)


def _label(deletion: Deletion) -> str:
    match = deletion.match
    via = f"{match.orig_dst} " if match.orig_dst else ""
    return f"{via}answered by {match.reply_src}"


def _now_in_use(kube: Kube, deletion: Deletion, live: dict[str, str]) -> str | None:
    ip = deletion.match.reply_src
    if ip in live:
        return f"{ip} now belongs to live pod {live[ip]}"
    if deletion.service is not None:
        namespace, name = deletion.service
        if ip in backends(kube, kube.get_service(name, namespace)).endpoint_ips:
            return f"{ip} is an endpoint of {namespace}/{name} again"
    return None


def _count(kube: Kube, pod: str, match: Match) -> int:
    listing = _run(kube, pod, list_command(*match.filters()), ok=(0,))
    return sum(1 for entry in parse_entries(listing) if match.selects(entry))


def _flush(kube: Kube, node: str, pod: str) -> NodeCleanup:
    before = int(_run(kube, pod, COUNT_COMMAND, ok=(0,)).strip() or 0)
    _run(kube, pod, FLUSH_COMMAND, ok=(0,))
    after = int(_run(kube, pod, COUNT_COMMAND, ok=(0,)).strip() or 0)
    return NodeCleanup(node, (f"whole table flushed: {before} -> {after}",), before - after, 0)


def _run(kube: Kube, pod: str, command: list[str], *, ok: tuple[int, ...]) -> str:
    result = kube.exec_in_pod(pod, KUBE_SYSTEM, command, timeout_seconds=EXEC_TIMEOUT_SECONDS)
    if result.exit_code not in ok:
        raise PermanentKubeError(
            f"`{' '.join(command)}` in {pod} exited {result.exit_code}: {result.stderr.strip()}"
        )
    return result.stdout
