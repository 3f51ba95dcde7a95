"""The conntrack command line lists, counts, deletes and flushes flows as conntrack-tools does."""

from __future__ import annotations

import pytest

from simcluster.conntrack import Flow
from simcluster.conntrackcli import VERSION, run_conntrack

DNS = Flow("udp", "10.0.1.201", "10.96.0.10", 40037, 53, "10.128.1.5", 53, 117)
WEB = Flow("tcp", "10.0.1.202", "10.96.12.34", 40074, 80, "10.128.1.7", 8080, 86397)
WEB_STALE = Flow("tcp", "10.0.1.203", "10.96.12.34", 50001, 80, "10.128.1.9", 8080, 431999)
TABLE = [DNS, WEB, WEB_STALE]


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        ([], TABLE),
        (["-L"], TABLE),
        (["--dump"], TABLE),
        (["-L", "-p", "udp"], [DNS]),
        (["-L", "--proto", "TCP"], [WEB, WEB_STALE]),
        (["-L", "-d", "10.96.12.34"], [WEB, WEB_STALE]),
        (["-L", "--orig-dst", "10.96.0.10"], [DNS]),
        (["-L", "--dst", "10.96.0.10"], [DNS]),
        (["-L", "-s", "10.0.1.202"], [WEB]),
        (["-L", "--orig-src", "10.0.1.203"], [WEB_STALE]),
        (["-L", "--src", "10.0.1.201"], [DNS]),
        (["-L", "-r", "10.128.1.9"], [WEB_STALE]),
        (["-L", "--reply-src", "10.128.1.7"], [WEB]),
        (["-L", "--dport", "53"], [DNS]),
        (["-L", "--orig-port-dst", "80"], [WEB, WEB_STALE]),
        (["-L", "--sport", "50001"], [WEB_STALE]),
        (["-L", "--orig-port-src", "40037"], [DNS]),
        (
            ["-L", "-p", "tcp", "--orig-dst", "10.96.12.34", "--reply-src", "10.128.1.9"],
            [WEB_STALE],
        ),
        (["-L", "-p", "sctp"], []),
        (["-L", "-n", "-o", "extended", "-e", "-f", "ipv4"], TABLE),
    ],
)
def test_list_prints_the_matching_flows_and_says_how_many_on_stderr(
    args: list[str], shown: list[Flow]
) -> None:
    outcome = run_conntrack(args, TABLE)
    assert outcome.exit_code == 0
    assert outcome.stdout == "".join(f.render() + "\n" for f in shown)
    assert outcome.stderr == f"{VERSION}: {len(shown)} flow entries have been shown.\n"
    assert outcome.flows is TABLE


@pytest.mark.parametrize(
    ("args", "count"),
    [(["-C"], 3), (["--count"], 3), (["-C", "-p", "udp"], 1), (["--count", "-s", "1.2.3.4"], 0)],
)
def test_count_prints_the_number_of_matching_flows(args: list[str], count: int) -> None:
    outcome = run_conntrack(args, TABLE)
    assert (outcome.stdout, outcome.stderr, outcome.exit_code) == (f"{count}\n", "", 0)
    assert outcome.flows is TABLE


@pytest.mark.parametrize(
    ("args", "deleted", "kept"),
    [
        (["-D", "-r", "10.128.1.9"], [WEB_STALE], [DNS, WEB]),
        (["--delete", "-p", "tcp"], [WEB, WEB_STALE], [DNS]),
        (["-D", "-p", "udp", "--orig-dst", "10.96.0.10"], [DNS], [WEB, WEB_STALE]),
    ],
)
def test_delete_prints_and_removes_the_matching_flows(
    args: list[str], deleted: list[Flow], kept: list[Flow]
) -> None:
    outcome = run_conntrack(args, TABLE)
    assert outcome.exit_code == 0
    assert outcome.stdout == "".join(f.render() + "\n" for f in deleted)
    assert outcome.stderr == f"{VERSION}: {len(deleted)} flow entries have been deleted.\n"
    assert outcome.flows == kept


def test_deleting_nothing_exits_1_and_keeps_the_table() -> None:
    outcome = run_conntrack(["-D", "-r", "192.0.2.1"], TABLE)
    assert outcome.exit_code == 1
    assert outcome.stderr == f"{VERSION}: 0 flow entries have been deleted.\n"
    assert outcome.flows == TABLE


@pytest.mark.parametrize("flag", ["-F", "--flush"])
def test_flush_empties_the_table(flag: str) -> None:
    outcome = run_conntrack([flag], TABLE)
    assert outcome.exit_code == 0
    assert outcome.stderr == f"{VERSION}: connection tracking table has been emptied.\n"
    assert outcome.flows == []


@pytest.mark.parametrize(
    ("args", "bad"),
    [(["-L", "--zone", "1"], "--zone"), (["-X"], "-X"), (["-L", "-p"], "-p")],
)
def test_an_unknown_or_incomplete_parameter_exits_2_like_the_real_tool(
    args: list[str], bad: str
) -> None:
    outcome = run_conntrack(args, TABLE)
    assert outcome.exit_code == 2
    assert outcome.stdout == ""
    assert outcome.stderr.startswith(f"{VERSION}: Bad parameter `{bad}'\n")
    assert outcome.flows is TABLE
