"""Unit tests of `flows.conntrack.entries`: reading `conntrack -L` and building its commands."""

from __future__ import annotations

import pytest

from flows.conntrack.entries import (
    COUNT_COMMAND,
    FLUSH_COMMAND,
    Entry,
    Match,
    delete_command,
    list_command,
    parse_entries,
)
from simcluster.conntrack import Flow

UDP_LINE = (
    "udp      17 117 src=10.0.1.201 dst=10.96.0.10 sport=40037 dport=53 "
    "src=10.244.1.5 dst=10.0.1.201 sport=53 dport=40037 mark=0 use=1"
)
TCP_LINE = (
    "tcp      6 86397 ESTABLISHED src=10.0.1.202 dst=10.96.0.1 sport=50001 dport=443 "
    "src=10.244.2.7 dst=10.0.1.202 sport=6443 dport=50001 [ASSURED] mark=0 use=1"
)
UNREPLIED_LINE = (
    "udp      17 29 src=10.0.2.203 dst=10.96.0.10 sport=50003 dport=53 [UNREPLIED] "
    "src=10.244.3.9 dst=10.0.2.203 sport=53 dport=50003 mark=0 use=1"
)
SUMMARY_LINE = "conntrack v1.4.8 (conntrack-tools): 0 flow entries have been shown."

DNS_ENTRY = Entry("udp", "10.0.1.201", "10.96.0.10", 53, "10.244.1.5")
API_ENTRY = Entry("tcp", "10.0.1.202", "10.96.0.1", 443, "10.244.2.7")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(UDP_LINE, DNS_ENTRY, id="udp"),
        pytest.param(TCP_LINE, API_ENTRY, id="tcp established assured"),
        pytest.param(
            UNREPLIED_LINE,
            Entry("udp", "10.0.2.203", "10.96.0.10", 53, "10.244.3.9"),
            id="udp unreplied",
        ),
        pytest.param(
            UDP_LINE.replace("udp", "UDP", 1),
            DNS_ENTRY,
            id="protocol in capitals",
        ),
    ],
)
def test_a_line_parses_to_the_original_destination_and_the_reply_source(
    line: str, expected: Entry
) -> None:
    assert parse_entries(line) == [expected]


@pytest.mark.parametrize(
    "flow",
    [
        pytest.param(
            Flow("udp", "10.0.1.201", "10.96.0.10", 40037, 53, "10.244.1.5", 53, 117), id="udp"
        ),
        pytest.param(
            Flow("tcp", "10.0.1.202", "10.96.0.1", 50001, 443, "10.244.2.7", 6443, 86397),
            id="tcp",
        ),
    ],
)
def test_the_simulated_cluster_lines_parse_back_to_their_flow(flow: Flow) -> None:
    assert parse_entries(flow.render()) == [
        Entry(flow.proto, flow.src, flow.dst, flow.dport, flow.reply_src)
    ]


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("", id="empty"),
        pytest.param("   \t ", id="whitespace"),
        pytest.param(SUMMARY_LINE, id="summary"),
        pytest.param(
            "conntrack v1.4.8 (conntrack-tools): 3 flow entries have been shown.",
            id="summary with a count",
        ),
        pytest.param(
            "udp      17 117 src=10.0.1.201 dst=10.96.0.10 sport=40037 dport=53",
            id="original direction only",
        ),
        pytest.param(UDP_LINE.replace("dport=53 ", "dport=dns ", 1), id="port not a number"),
        pytest.param(
            "udp 17 117 src=10.0.1.201 sport=40037 src=10.244.1.5 sport=53", id="no dst nor dport"
        ),
        pytest.param("something went wrong", id="garbage"),
    ],
)
def test_lines_that_are_not_an_entry_are_skipped(line: str) -> None:
    assert parse_entries(line) == []


def test_a_listing_keeps_its_entries_in_order_between_the_lines_it_skips() -> None:
    listing = "\n".join(["", UDP_LINE, "not an entry", "", TCP_LINE, SUMMARY_LINE, ""])

    assert parse_entries(listing) == [DNS_ENTRY, API_ENTRY]


def test_an_empty_listing_has_no_entries() -> None:
    assert parse_entries("") == []


@pytest.mark.parametrize(
    ("match", "filters"),
    [
        pytest.param(Match("10.244.1.5"), ["--reply-src", "10.244.1.5"], id="reply source only"),
        pytest.param(
            Match("10.244.1.5", orig_dst="10.96.0.10"),
            ["--orig-dst", "10.96.0.10", "--reply-src", "10.244.1.5"],
            id="with ClusterIP",
        ),
        pytest.param(
            Match("10.244.1.5", proto="udp"),
            ["-p", "udp", "--reply-src", "10.244.1.5"],
            id="with protocol",
        ),
        pytest.param(
            Match("10.244.1.5", orig_dst="10.96.0.10", proto="udp"),
            ["-p", "udp", "--orig-dst", "10.96.0.10", "--reply-src", "10.244.1.5"],
            id="protocol then ClusterIP then reply source",
        ),
    ],
)
def test_match_filters_name_protocol_then_clusterip_then_reply_source(
    match: Match, filters: list[str]
) -> None:
    assert match.filters() == filters


@pytest.mark.parametrize(
    ("match", "entry", "selected"),
    [
        pytest.param(Match("10.244.1.5"), DNS_ENTRY, True, id="same reply source"),
        pytest.param(Match("10.244.9.9"), DNS_ENTRY, False, id="other reply source"),
        pytest.param(
            Match("10.244.1.5", orig_dst="10.96.0.10"), DNS_ENTRY, True, id="same ClusterIP"
        ),
        pytest.param(
            Match("10.244.1.5", orig_dst="10.96.0.99"), DNS_ENTRY, False, id="other ClusterIP"
        ),
        pytest.param(Match("10.244.1.5", proto="udp"), DNS_ENTRY, True, id="same protocol"),
        pytest.param(Match("10.244.1.5", proto="tcp"), DNS_ENTRY, False, id="other protocol"),
        pytest.param(
            Match("10.244.1.5", orig_dst="10.96.0.10", proto="udp"),
            DNS_ENTRY,
            True,
            id="all three agree",
        ),
        pytest.param(
            Match("10.244.9.9", orig_dst="10.96.0.10", proto="udp"),
            DNS_ENTRY,
            False,
            id="all but the reply source agree",
        ),
        pytest.param(
            Match("10.96.0.10"), DNS_ENTRY, False, id="the ClusterIP is not a reply source"
        ),
    ],
)
def test_match_selects_exactly_the_entries_its_filters_name(
    match: Match, entry: Entry, selected: bool
) -> None:
    assert match.selects(entry) is selected


@pytest.mark.parametrize(
    ("match", "command"),
    [
        pytest.param(
            Match("10.244.1.5", orig_dst="10.96.0.10"),
            [
                "conntrack",
                "-D",
                "--orig-dst",
                "10.96.0.10",
                "--reply-src",
                "10.244.1.5",
            ],
            id="stale backend of a Service",
        ),
        pytest.param(
            Match("fd00:10:244::5"),
            ["conntrack", "-D", "--reply-src", "fd00:10:244::5"],
            id="gone pod IP",
        ),
    ],
)
def test_delete_command_is_conntrack_delete_with_the_match_filters(
    match: Match, command: list[str]
) -> None:
    assert delete_command(match) == command


def test_list_command_is_conntrack_list_with_the_given_filters() -> None:
    assert list_command() == ["conntrack", "-L"]
    assert list_command("-p", "udp") == ["conntrack", "-L", "-p", "udp"]


def test_count_and_flush_commands_are_conntrack_count_and_flush() -> None:
    assert (COUNT_COMMAND, FLUSH_COMMAND) == (["conntrack", "-C"], ["conntrack", "-F"])
