"""The ``conntrack`` command line (list, count, delete, flush) over a node's table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from simcluster.conntrack import Flow

VERSION = "conntrack v1.4.8 (conntrack-tools)"

_FILTERS: dict[str, Callable[[Flow, str], bool]] = {
    "-p": lambda f, v: f.proto == v.lower(),
    "--proto": lambda f, v: f.proto == v.lower(),
    "-s": lambda f, v: f.src == v,
    "--orig-src": lambda f, v: f.src == v,
    "--src": lambda f, v: f.src == v,
    "-d": lambda f, v: f.dst == v,
    "--orig-dst": lambda f, v: f.dst == v,
    "--dst": lambda f, v: f.dst == v,
    "-r": lambda f, v: f.reply_src == v,
    "--reply-src": lambda f, v: f.reply_src == v,
    "--dport": lambda f, v: str(f.dport) == v,
    "--orig-port-dst": lambda f, v: str(f.dport) == v,
    "--sport": lambda f, v: str(f.sport) == v,
    "--orig-port-src": lambda f, v: str(f.sport) == v,
}
_COMMANDS = {
    "-L": "list",
    "--dump": "list",
    "-C": "count",
    "--count": "count",
    "-D": "delete",
    "--delete": "delete",
    "-F": "flush",
    "--flush": "flush",
}


@dataclass(frozen=True)
class Outcome:
    """What ``conntrack`` printed and returned, and the table afterwards."""

    stdout: str
    stderr: str
    exit_code: int
    flows: list[Flow]


def run_conntrack(args: list[str], flows: list[Flow]) -> Outcome:
    """Run ``conntrack`` with ``args`` over ``flows``.

    Deleting nothing exits 1 with ``0 flow entries have been deleted`` (as the real tool does).
    """
    command, filters = "list", []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in _COMMANDS:
            command = _COMMANDS[arg]
        elif arg in _FILTERS and index + 1 < len(args):
            filters.append((_FILTERS[arg], args[index + 1]))
            index += 1
        elif arg in ("-n", "-o", "extended", "-e", "-f", "ipv4"):
            pass  # output and family options accepted and ignored
        else:
            return Outcome(
                "",
                f"{VERSION}: Bad parameter `{arg}'\n"
                "Try `conntrack -h' or 'conntrack --help' for more information.\n",
                2,
                flows,
            )
        index += 1
    matched = [f for f in flows if all(test(f, value) for test, value in filters)]
    if command == "count":
        return Outcome(f"{len(matched)}\n", "", 0, flows)
    if command == "flush":
        return Outcome("", f"{VERSION}: connection tracking table has been emptied.\n", 0, [])
    lines = "".join(f.render() + "\n" for f in matched)
    if command == "list":
        return Outcome(
            lines, f"{VERSION}: {len(matched)} flow entries have been shown.\n", 0, flows
        )
    # A set: a table the conntrack-table-full fault filled holds thousands of entries.
    unwanted = set(matched)
    kept = [f for f in flows if f not in unwanted]
    return Outcome(
        lines,
        f"{VERSION}: {len(matched)} flow entries have been deleted.\n",
        0 if matched else 1,
        kept,
    )
