"""Reading ``conntrack -L`` output, and the commands that list, delete and count entries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    """One conntrack entry: the client's original direction and who answers (after DNAT).

    Attributes:
        proto: ``tcp``, ``udp`` or ``sctp``.
        src: The client.
        dst: Where the client sent it: a Service's ClusterIP when kube-proxy DNATed it.
        dport: The port the client sent to.
        reply_src: Who replies: the backend Pod IP the connection was DNATed to.
    """

    proto: str
    src: str
    dst: str
    dport: int
    reply_src: str


def parse_entries(listing: str) -> list[Entry]:
    """Parse ``conntrack -L`` lines; lines without both directions are skipped."""
    entries = []
    for line in listing.splitlines():
        fields = line.split()
        if not fields:
            continue
        pairs = [field.split("=", 1) for field in fields if "=" in field]
        sources = [value for key, value in pairs if key == "src"]
        destinations = [value for key, value in pairs if key == "dst"]
        ports = [value for key, value in pairs if key == "dport"]
        if len(sources) < 2 or not destinations or not ports or not ports[0].isdigit():
            continue
        entries.append(
            Entry(
                proto=fields[0].lower(),
                src=sources[0],
                dst=destinations[0],
                dport=int(ports[0]),
                reply_src=sources[1],
            )
        )
    return entries


@dataclass(frozen=True, slots=True)
class Match:
    """A selection of entries: to a Service's ClusterIP (if set) answered by ``reply_src``."""

    reply_src: str
    orig_dst: str | None = None
    proto: str | None = None

    def filters(self) -> list[str]:
        """The ``conntrack`` filter options selecting exactly these entries."""
        options = ["-p", self.proto] if self.proto else []
        options += ["--orig-dst", self.orig_dst] if self.orig_dst else []
        return [*options, "--reply-src", self.reply_src]

    def selects(self, entry: Entry) -> bool:
        """Whether ``entry`` is one of these entries."""
        return (
            entry.reply_src == self.reply_src
            and (self.orig_dst is None or entry.dst == self.orig_dst)
            and (self.proto is None or entry.proto == self.proto)
        )


def list_command(*filters: str) -> list[str]:
    """``conntrack -L`` with ``filters`` (numeric output)."""
    return ["conntrack", "-L", *filters]


def delete_command(match: Match) -> list[str]:
    """``conntrack -D`` of exactly ``match``'s entries (exit 1 when none matched: a no-op)."""
    return ["conntrack", "-D", *match.filters()]


COUNT_COMMAND = ["conntrack", "-C"]
FLUSH_COMMAND = ["conntrack", "-F"]
