"""The matrix's cases: each fault, at its point, for each changing flow it applies to."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

from bench.faults.bursts import alert_burst, alertmanager_burst
from bench.faults.changes import Change
from bench.faults.matrix import Row
from bench.faults.outside import hold_write_lock, restart_prefect
from bench.faults.plan import Plan, run_plan
from bench.faults.rig import SHORT_SILENCE, FaultBench, Rig, RigOptions
from bench.faults.scenarios import CONNTRACK, KUBE_PROXY_WAVE, ROLLBACK, SERVICE_SELECTOR

#: A client-side timeout of the engine's Kubernetes client is 10 s: a request held longer
#: times out there, and the server applies it afterwards.
PAST_CLIENT_TIMEOUT = 11.0
OUTAGE_SECONDS = 60.0
BUSY_SECONDS = 5.0
SLACK_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "chat.delete")

Case = Callable[[FaultBench, str], Awaitable[list[Row]]]


# -- injections ----------------------------------------------------------------------------------


async def restart_prefect_now(parts: Rig) -> None:
    """Stop Prefect, leave it down 2 s, start it again (same port and database)."""

    def restart() -> None:
        parts.bench.prefect.stop()
        time.sleep(2.0)
        parts.bench.prefect.start()

    await asyncio.to_thread(restart)


def _restart_prefect_in_background(parts: Rig, change: Change) -> None:
    restart_prefect(parts.bench.prefect, down_seconds=1.0)


def _kill_engine(parts: Rig, change: Change) -> None:
    parts.kill_engine()


async def _start_engine_again(parts: Rig) -> None:
    await asyncio.to_thread(parts.restart_engine)


def api_flaky(parts: Rig) -> None:
    """Answer 20% of the API's requests 429 (Retry-After: 1) and 10% 500, seeded."""
    faults = parts.sim.cluster.api_faults
    faults.seed = 11
    parts.sim.cluster.faults.api_flaky(throttle_rate=0.2, error_rate=0.1)


def _api_flaky_from_now(parts: Rig, change: Change) -> None:
    api_flaky(parts)


def _first_delete_times_out(parts: Rig) -> None:
    """Hold the first pod delete past the client's timeout; it is applied afterwards."""
    cluster = parts.sim.cluster
    faults = cluster.api_faults
    faults.verbs, faults.resources = frozenset({"delete"}), frozenset({"pods"})
    faults.latency_seconds = PAST_CLIENT_TIMEOUT

    def clear_after_first() -> None:
        deadline = time.monotonic() + 300
        while cluster.requests.total(verb="delete", resource="pods") == 0:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        time.sleep(0.2)  # the first request has read its delay by now
        faults.clear()

    threading.Thread(target=clear_after_first, name="clear-latency", daemon=True).start()


def _api_outage(parts: Rig, change: Change) -> None:
    assert parts.proxy is not None
    parts.proxy.outage(OUTAGE_SECONDS)


def _connection_resets(parts: Rig) -> None:
    assert parts.proxy is not None
    parts.proxy.reset_rate = 0.3


def slack_throttles_and_fails(parts: Rig) -> None:
    """Each of post and update: a 429 with Retry-After, then a 5xx (within the client's two
    retries), then served."""
    assert parts.slack is not None
    slack = parts.slack
    slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)
    slack.fail_next("chat.postMessage", "internal_error", status=500)
    slack.fail_next("chat.update", "ratelimited", status=429, retry_after=1)
    slack.fail_next("chat.update", "service_unavailable", status=503)


def _slack_down(parts: Rig) -> None:
    assert parts.slack is not None
    for method in SLACK_METHODS:
        parts.slack.fail_next(method, "service_unavailable", status=503, times=1_000_000)


def _sqlite_busy(parts: Rig, change: Change) -> None:
    database = parts.bench.database
    threading.Thread(
        target=hold_write_lock, args=(database, BUSY_SECONDS), name="busy", daemon=True
    ).start()


# -- cases ---------------------------------------------------------------------------------------


def _plans(*plans: Plan) -> Case:
    async def run(bench: FaultBench, prefix: str) -> list[Row]:
        return [
            await run_plan(bench, plan, name=f"{prefix}-{index}")
            for index, plan in enumerate(plans, start=1)
        ]

    return run


async def _prefect_restart_during_burst(bench: FaultBench, prefix: str) -> list[Row]:
    return [
        await alert_burst(
            bench,
            case="1 Prefect restart, alert burst",
            name=prefix,
            inject=lambda: restart_prefect(bench.prefect, down_seconds=1.0),
        )
    ]


async def _prefect_restart_during_alertmanager_burst(bench: FaultBench, prefix: str) -> list[Row]:
    return await alertmanager_burst(
        bench,
        case="1 Prefect restart, via Alertmanager",
        name=prefix,
        inject=lambda: restart_prefect(bench.prefect, down_seconds=1.0),
    )


async def _sqlite_busy_during_burst(bench: FaultBench, prefix: str) -> list[Row]:
    return [
        await alert_burst(
            bench,
            case="7 SQLite busy 5 s, alerts",
            name=prefix,
            inject=lambda: hold_write_lock(bench.database, BUSY_SECONDS),
        )
    ]


#: 2: Prefect restarted while the run waits for approval; then approved in the UI.
PREFECT_RESTART_WHILE_SUSPENDED = tuple(
    Plan(
        case="2 Prefect restart, suspended",
        scenario=scenario,
        auto_approve=False,
        at_pause=restart_prefect_now,
    )
    for scenario in (SERVICE_SELECTOR, ROLLBACK, CONNTRACK)
)
#: 3: Prefect restarted right after the flow's first change, before its next step.
PREFECT_RESTART_MID_RUN = tuple(
    Plan(
        case="3 Prefect restart, mid-run",
        scenario=scenario,
        at_action=_restart_prefect_in_background,
    )
    for scenario in (KUBE_PROXY_WAVE, ROLLBACK, CONNTRACK)
)
#: 4: the engine SIGKILLed as its first change is applied (before it has the answer).
ENGINE_KILLED_MID_RUN = tuple(
    Plan(
        case="4 engine SIGKILL, mid-run",
        scenario=scenario,
        options=RigOptions(child=True, silence=SHORT_SILENCE),
        at_action=_kill_engine,
        after_action=_start_engine_again,
    )
    for scenario in (KUBE_PROXY_WAVE, ROLLBACK, CONNTRACK)
)
#: 5: the Kubernetes API throttles, fails, times out, goes away, resets connections.
API_FAULTS = (
    Plan(case="5 API 429/500", scenario=KUBE_PROXY_WAVE, before=api_flaky),
    Plan(case="5 API 429/500, rollout watch", scenario=ROLLBACK, at_action=_api_flaky_from_now),
    Plan(case="5 API 429/500", scenario=CONNTRACK, before=api_flaky),
    Plan(case="5 API delete timeout", scenario=KUBE_PROXY_WAVE, before=_first_delete_times_out),
    Plan(
        case="5 API outage 60 s, mid-wave",
        scenario=KUBE_PROXY_WAVE,
        options=RigOptions(proxy=True),
        at_action=_api_outage,
    ),
    Plan(
        case="5 API conn. resets 30%",
        scenario=KUBE_PROXY_WAVE,
        options=RigOptions(proxy=True),
        before=_connection_resets,
    ),
)
#: 6: Slack throttles and fails (answered in Slack), or is down (answered in the UI).
SLACK_FAULTS = tuple(
    Plan(
        case="6 Slack 429/5xx",
        scenario=scenario,
        options=RigOptions(slack=True),
        auto_approve=False,
        answer_in_slack=True,
        before=slack_throttles_and_fails,
    )
    for scenario in (SERVICE_SELECTOR, ROLLBACK, CONNTRACK)
) + tuple(
    Plan(
        case="6 Slack down, UI answers",
        scenario=scenario,
        options=RigOptions(slack=True),
        auto_approve=False,
        before=_slack_down,
    )
    for scenario in (SERVICE_SELECTOR, ROLLBACK, CONNTRACK)
)
#: 7: Prefect's database busy right after the flow's first change.
SQLITE_BUSY_MID_RUN = tuple(
    Plan(case="7 SQLite busy 5 s, mid-run", scenario=scenario, at_action=_sqlite_busy)
    for scenario in (KUBE_PROXY_WAVE, CONNTRACK)
)

#: Each case: what it does, and its parts (each gives rows).
CASES: dict[int, tuple[str, list[Case]]] = {
    1: (
        "Prefect stopped and restarted while alerts arrive",
        [_prefect_restart_during_burst, _prefect_restart_during_alertmanager_burst],
    ),
    2: (
        "Prefect restarted while a run waits for approval; then approved",
        [_plans(*PREFECT_RESTART_WHILE_SUSPENDED)],
    ),
    3: (
        "Prefect restarted right after a flow's first change (between two changing steps)",
        [_plans(*PREFECT_RESTART_MID_RUN)],
    ),
    4: (
        "Engine SIGKILLed between a change and its result being recorded; started again",
        [_plans(*ENGINE_KILLED_MID_RUN)],
    ),
    5: (
        "Kubernetes API: 429 (Retry-After) and 500s, a timed-out delete, a 60 s outage, resets",
        [_plans(*API_FAULTS)],
    ),
    6: (
        "Slack: 429 and 5xx on post and update (answered in Slack); Slack down (answered in UI)",
        [_plans(*SLACK_FAULTS)],
    ),
    7: (
        "Prefect's SQLite held by another writer for 5 s while alerts arrive and runs change",
        [_sqlite_busy_during_burst, _plans(*SQLITE_BUSY_MID_RUN)],
    ),
}


async def run_case(bench: FaultBench, number: int, *, prefix: str) -> list[Row]:
    """Run every row of case ``number``; its rows."""
    rows: list[Row] = []
    for index, part in enumerate(CASES[number][1], start=1):
        rows += await part(bench, f"{prefix}-{index}")
    return rows
