"""Approvals in Slack end to end: a run's thread (parent, request, answer, steps, outcome), signed
presses resuming the run (a real Prefect server) only for the request they were posted for and
only in time, four-eyes, refusals told privately in words, Slack's rate limits ridden out."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import LogSort
from prefect.flows import Flow
from starlette.applications import Starlette
from starlette.routing import Route

from engine.approvals.slack import SlackActions
from flows.approval.slack import REPOST_SECONDS, SlackNotifier
from flows.rollback.flow import kube_proxy_rollback
from flows.rollback.report import report_key
from integrations.slack import SlackChannel, SlackCredentials
from tests.engine.served import served
from tests.flows.approval.asking_flow import asking_flow
from tests.flows.approval.asking_flow import report_key as asking_report_key
from tests.flows.checklist_engine import ChecklistEngine
from tests.flows.conftest import launcher
from tests.slack_fake import FakeSlack, SlackCall
from tests.slack_press import SIGNING_SECRET, press, signed_press, ts_of, wait_for_requests

CHANNEL = "C0123ABC"
UI = "http://prefect.example"


@dataclass
class Skew:
    """Seconds the endpoint's clock is ahead of the real one: a press that arrives "later"."""

    seconds: float = 0.0

    def now(self) -> float:
        """The endpoint's time."""
        return time.time() + self.seconds


@dataclass
class SlackDesk:
    """A fake Slack workspace, the engine's callback endpoint, and an engine whose flows use it."""

    slack: FakeSlack
    callbacks: str
    engine: ChecklistEngine
    clock: Skew

    async def press(
        self,
        posted: SlackCall,
        button: str,
        *,
        user: str = "U0123ABCD",
        secret: str = SIGNING_SECRET,
    ) -> httpx.Response:
        """Press a button of a posted request, as Slack calls the engine back (signed)."""
        ts = await asyncio.to_thread(ts_of, self.slack, posted)
        return await press(self.callbacks, posted, button, user=user, secret=secret, ts=ts)

    async def told(self, user: str, count: int = 1) -> list[str]:
        """What ``user`` was told privately, once ``count`` things were."""

        def mine() -> list[str]:
            calls = self.slack.wait_for("chat.postEphemeral", count, within=30)
            return [c.body["text"] for c in calls if c.body["user"] == user]

        return await asyncio.to_thread(mine)

    async def state(self, run_id: UUID) -> str | None:
        run = await self.engine.client.read_flow_run(run_id)
        return run.state.name if run.state else None

    async def thread(self, *, ending: str, within: float = 30) -> list[dict[str, Any]]:
        """The channel's one thread once its last line says ``ending``: parent first."""
        deadline = time.monotonic() + within
        while True:
            messages = self.slack.messages(CHANNEL)
            if messages and ending in messages[-1]["text"]:
                parent, *replies = messages
                assert all(reply.get("thread_ts") == parent["ts"] for reply in replies)
                return messages
            if time.monotonic() > deadline:
                raise AssertionError(f"no line {ending!r}: {[m['text'] for m in messages]}")
            await asyncio.sleep(0.05)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A fake Slack workspace with the approvals channel C0123ABC."""
    # A token of its own: a run a previous test left behind, posting to a port this fake now
    # has, is refused instead of taking the failures a test injects.
    with FakeSlack(token=f"xoxb-{uuid.uuid4().hex[:12]}") as fake:
        yield fake


@pytest.fixture
async def open_desk(
    slack: FakeSlack, prefect_client: PrefectClient, tmp_path: Path
) -> AsyncIterator[Callable[..., Any]]:
    """Opens desks: a flow asking in Slack, only U0123ABCD and U0TWO may answer."""
    async with AsyncExitStack() as stack:

        async def open_(
            deployment: UUID,
            *,
            flow: Flow[..., Any],
            report_key_of: Callable[[str], str],
            scenario: str = "healthy",
            repost_seconds: float = REPOST_SECONDS,
        ) -> SlackDesk:
            credentials = SlackCredentials(
                bot_token=slack.token,
                signing_secret=SIGNING_SECRET,
                channel=CHANNEL,
                api_url=slack.base_url,
            )
            channel = SlackChannel(credentials.get_client(), credentials.channel)
            notifier = SlackNotifier(
                channel,
                ui_url=UI,
                default_approvers=("U0123ABCD", "U0TWO"),
                repost_seconds=repost_seconds,
            )
            clock = Skew()
            actions = SlackActions(
                signing_secret=SIGNING_SECRET,
                channel=channel,
                approvers=frozenset({"U0123ABCD", "U0TWO"}),
                now=clock.now,
                ui_url=UI,
            )
            app = Starlette(routes=[Route("/slack/interactions", actions.handle, methods=["POST"])])
            url = stack.enter_context(served(app))
            start = await stack.enter_async_context(
                launcher(
                    deployment,
                    prefect_client,
                    tmp_path,
                    flow=flow,
                    report_key_of=report_key_of,
                    notifier=notifier,
                )
            )
            engine = await start(scenario)
            return SlackDesk(slack, f"{url}/slack/interactions", engine, clock)

        yield open_


@pytest.fixture
async def desk(open_desk: Callable[..., Any], rollback_deployment: UUID) -> SlackDesk:
    """The kube-proxy rollback asking in Slack."""
    desk: SlackDesk = await open_desk(
        rollback_deployment,
        flow=kube_proxy_rollback,
        report_key_of=report_key,
        scenario="bad-kube-proxy-rollout",
    )
    return desk


@pytest.fixture
async def asking(open_desk: Callable[..., Any], asking_deployment: UUID) -> SlackDesk:
    """The asking test flow asking in Slack."""
    desk: SlackDesk = await open_desk(
        asking_deployment, flow=asking_flow, report_key_of=asking_report_key
    )
    return desk


async def waiting_run(
    desk: SlackDesk, *, requests: int = 1, **parameters: Any
) -> tuple[UUID, SlackCall]:
    """A run suspended at its gate, and the request it posted (the ``requests``-th)."""
    run_id = await desk.engine.start_run(**parameters)
    await desk.engine.wait_for(run_id, paused=True)
    posted = await asyncio.to_thread(wait_for_requests, desk.slack, requests, 30)
    return run_id, posted[requests - 1]


async def approved_run(desk: SlackDesk) -> tuple[UUID, SlackCall]:
    """A run approved with Slack's button and gone on to its end, and the request it posted."""
    run_id, posted = await waiting_run(desk)
    await desk.press(posted, "approve")
    await desk.engine.wait_for(run_id)
    return run_id, posted


async def request_message(desk: SlackDesk, posted: SlackCall, *, saying: str) -> dict[str, Any]:
    """The posted request as it stands, once its text says ``saying``."""
    value = posted.body["blocks"][-1]["elements"][0]["value"]
    deadline = time.monotonic() + 30
    while True:
        for message in desk.slack.messages(CHANNEL):
            if message["text"].startswith(posted.body["text"]) and saying in message["text"]:
                return message
            if value in json.dumps(message["blocks"]) and saying in json.dumps(message["blocks"]):
                return message
        if time.monotonic() > deadline:
            raise AssertionError(f"the request never said {saying!r}")
        await asyncio.sleep(0.05)


async def test_an_approve_press_resumes_the_run_and_the_request_then_says_who_approved_and_when(
    desk: SlackDesk,
) -> None:
    run_id, posted = await waiting_run(desk)
    assert posted.body["text"] == "Roll kube-proxy back from revision 2 to 1"
    assert f"{UI}/runs/flow-run/{run_id}" in json.dumps(posted.body["blocks"])

    answer = await desk.press(posted, "approve")
    done = await desk.engine.wait_for(run_id)

    assert answer.status_code == 200
    assert done.name == "RolledBack", done
    message = await request_message(desk, posted, saying="Approved")
    assert message["text"].startswith(
        "Roll kube-proxy back from revision 2 to 1: Approved by <@U0123ABCD> at <!date^"
    )
    assert "{date_short_pretty} {time}|" in message["text"]
    assert [b["type"] for b in message["blocks"]].count("actions") == 0
    assert "| approved | oncall (Slack U0123ABCD) | slack |" in await desk.engine.report(run_id)


async def test_the_runs_log_says_it_resumed_with_the_answer_after_prefects_replayed_pause(
    desk: SlackDesk,
) -> None:
    run_id, _ = await approved_run(desk)

    said = await run_log(desk.engine.client, run_id, until="Resumed")
    replayed = max(n for n, line in enumerate(said) if line.startswith("Suspending flow run"))
    assert said[replayed + 1].startswith(
        "Resumed, not waiting again: approved by oncall (Slack U0123ABCD) via slack at "
    ), said


async def run_log(client: PrefectClient, run_id: UUID, *, until: str) -> list[str]:
    """The run's log lines in Prefect, once one starts with ``until`` (its handler batches)."""
    deadline = time.monotonic() + 30
    while True:
        logs = await client.read_logs(
            LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])), sort=LogSort.TIMESTAMP_ASC
        )
        lines = [log.message for log in logs]
        if any(line.startswith(until) for line in lines) or time.monotonic() > deadline:
            return lines
        await asyncio.sleep(0.1)


async def test_the_whole_run_is_one_thread_parent_request_answer_steps_outcome(
    desk: SlackDesk,
) -> None:
    run_id, _ = await approved_run(desk)

    parent, request, *lines = await desk.thread(ending="Ended *RolledBack*")

    report = f"{UI}/artifacts/key/{report_key(str(run_id))}"
    assert parent["text"].startswith("kube-proxy rollback: Ended *RolledBack*")
    assert report in json.dumps(parent["blocks"])
    assert request["text"].startswith("Roll kube-proxy back from revision 2 to 1: Approved by")
    starts = [
        "Approved by <@U0123ABCD> at <!date^",
        ":white_check_mark: roll-back: ",
        ":white_check_mark: watch-rollout: ",
        ":white_check_mark: Ended *RolledBack* at <!date^",
    ]
    assert len(lines) == len(starts), [line["text"] for line in lines]
    assert all(line["text"].startswith(start) for line, start in zip(lines, starts, strict=True))
    assert f"<{report}|Report>" in lines[-1]["text"]
    shown = json.dumps([m["blocks"] for m in (parent, request, *lines)])
    assert re.search(r"\d\.\d{6}", shown) is None, "no microseconds in what Slack shows"


async def test_a_reject_press_ends_the_run_without_a_change(desk: SlackDesk) -> None:
    run_id, posted = await waiting_run(desk)

    await desk.press(posted, "reject")
    done = await desk.engine.wait_for(run_id)

    assert done.name == "Rejected", done
    assert desk.engine.mutations() == 0
    message = await request_message(desk, posted, saying="Rejected")
    assert "Rejected by <@U0123ABCD> at <!date^" in message["text"]


async def test_a_press_not_signed_with_the_apps_secret_is_refused_and_the_run_waits(
    desk: SlackDesk,
) -> None:
    run_id, posted = await waiting_run(desk)

    answer = await desk.press(posted, "approve", secret="not-the-secret")

    assert answer.status_code == 401
    assert await desk.state(run_id) == "Suspended"


async def test_a_press_by_someone_not_on_the_approver_list_is_told_so_and_answers_nothing(
    desk: SlackDesk,
) -> None:
    run_id, posted = await waiting_run(desk)

    answer = await desk.press(posted, "approve", user="U0STRANGER")

    assert answer.status_code == 200
    [told] = await desk.told("U0STRANGER")
    assert told == (
        "You are not one of this request's approvers (<@U0123ABCD>, <@U0TWO>). Nothing was changed."
    )
    assert await desk.state(run_id) == "Suspended"


async def test_a_second_press_after_the_answer_is_told_who_answered_and_when(
    desk: SlackDesk,
) -> None:
    _, posted = await approved_run(desk)

    await press(desk.callbacks, posted, "reject", user="U0TWO")

    [told] = await desk.told("U0TWO")
    assert told.startswith("Already approved by <@U0123ABCD> at <!date^")
    assert told.endswith("Your press changed nothing.")


async def test_a_press_just_after_the_deadline_is_refused_and_changes_nothing(
    desk: SlackDesk,
) -> None:
    run_id, posted = await waiting_run(desk, approval_timeout_seconds=60)
    desk.clock.seconds = 60.45  # the press reaches the engine 0.45 s after the deadline

    answer = await desk.press(posted, "approve")

    assert answer.status_code == 200
    [told] = await desk.told("U0123ABCD")
    assert told.startswith("This request expired at <!date^")
    assert told.endswith("no answer by then counts as a rejection. Nothing was changed.")
    assert await desk.state(run_id) == "Suspended"
    assert desk.engine.mutations() == 0


async def test_an_approval_in_the_prefect_ui_after_the_deadline_ends_the_run_timed_out(
    desk: SlackDesk,
) -> None:
    run_id, _ = await waiting_run(desk, approval_timeout_seconds=1)
    assert desk.engine.sweeper is not None
    await desk.engine.sweeper.stop()  # nobody answers for the late human
    await asyncio.sleep(1.5)

    await desk.engine.answer(run_id, approve=True, by="alice")
    done = await desk.engine.wait_for(run_id)

    assert done.name == "ApprovalTimedOut", done
    assert desk.engine.mutations() == 0
    report = await desk.engine.report(run_id)
    assert "a late approval from alice at " in report
    assert "was refused" in report


async def test_an_unanswered_request_says_so_in_slack_when_it_times_out(desk: SlackDesk) -> None:
    run_id, posted = await waiting_run(desk, approval_timeout_seconds=1)

    done = await desk.engine.wait_for(run_id)

    assert done.name == "ApprovalTimedOut", done
    message = await request_message(desk, posted, saying="Not answered by")
    assert "Not answered by <!date^" in message["text"]
    assert ": rejected by default" in message["text"]


async def test_a_request_slack_refuses_fails_the_run_with_the_fix(desk: SlackDesk) -> None:
    desk.slack.fail_next("chat.postMessage", "not_in_channel")

    run_id = await desk.engine.start_run()
    done = await desk.engine.wait_for(run_id)

    assert done.is_failed(), done
    assert "not_in_channel" in (done.message or "")
    assert "invite the app to the channel" in (done.message or "")


async def test_slack_down_for_the_whole_approval_leaves_the_request_to_the_prefect_ui(
    desk: SlackDesk,
) -> None:
    desk.slack.fail_next("chat.postMessage", "service_unavailable", status=503, times=1_000_000)

    run_id = await desk.engine.start_run()
    waiting = await desk.engine.wait_for(run_id, paused=True)
    await desk.engine.answer(run_id, approve=True, by="alice", reason="Slack is down")
    done = await desk.engine.wait_for(run_id)

    assert waiting.type is StateType.PAUSED, waiting
    assert done.name == "RolledBack", done
    assert desk.slack.messages(CHANNEL) == []


async def test_a_request_slack_could_not_take_is_posted_once_slack_is_back(
    open_desk: Callable[..., Any], rollback_deployment: UUID
) -> None:
    desk: SlackDesk = await open_desk(
        rollback_deployment,
        flow=kube_proxy_rollback,
        report_key_of=report_key,
        scenario="bad-kube-proxy-rollout",
        repost_seconds=1.0,
    )
    # The first post and both of the client's retries fail; then Slack is back.
    desk.slack.fail_next("chat.postMessage", "service_unavailable", status=503, times=3)

    run_id, posted = await waiting_run(desk)
    await desk.press(posted, "approve")
    done = await desk.engine.wait_for(run_id)

    assert posted.body["text"] == "Roll kube-proxy back from revision 2 to 1"
    assert done.name == "RolledBack", done


async def test_slack_rate_limiting_the_thread_delays_its_lines_not_the_run(
    desk: SlackDesk,
) -> None:
    run_id, posted = await waiting_run(desk)
    # The answer's line is rate limited once (429, Retry-After: 1), then taken.
    desk.slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)

    await desk.press(posted, "approve")
    done = await desk.engine.wait_for(run_id)
    _, _, *lines = await desk.thread(ending="Ended *RolledBack*")

    assert done.name == "RolledBack"
    assert lines[0]["text"].startswith("Approved by <@U0123ABCD>")
    assert "ratelimited" not in json.dumps(desk.slack.messages(CHANNEL))


async def test_a_request_posted_while_slack_rate_limits_goes_out_once_slack_lets_it(
    desk: SlackDesk,
) -> None:
    desk.slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)

    _, posted = await waiting_run(desk)

    assert posted.body["text"] == "Roll kube-proxy back from revision 2 to 1"
    assert len(desk.slack.calls("chat.postMessage")) == 3  # parent (429, then 200), request


async def test_one_report_is_kept_per_run_however_often_it_was_published(
    desk: SlackDesk,
) -> None:
    run_id, _ = await approved_run(desk)

    artifacts = await desk.engine.client.read_artifacts(
        artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
    )

    reports = [a for a in artifacts if a.key == report_key(str(run_id))]
    assert len(reports) == 1
    assert reports[0].description == "kube-proxy rollback report (rolled_back)"


async def test_a_replayed_press_cannot_answer_a_later_request_of_the_same_run(
    asking: SlackDesk,
) -> None:
    run_id, first = await waiting_run(asking, gates=["first", "second"])
    body, headers = signed_press(first, "approve", user="U0123ABCD")
    async with httpx.AsyncClient(timeout=10) as http:
        await http.post(asking.callbacks, content=body, headers=headers)
        _, second = await waiting_run_at(asking, run_id, requests=2)

        replayed = await http.post(asking.callbacks, content=body, headers=headers)

    assert second.body["text"] == "Request second"
    assert replayed.status_code == 200
    [told] = await asking.told("U0123ABCD")
    assert told.startswith("Already approved by <@U0123ABCD> at <!date^")
    run = await asking.engine.client.read_flow_run(run_id)
    assert run.state is not None
    assert (run.state.name, run.state.state_details.pause_key) == ("Suspended", "second")


async def waiting_run_at(desk: SlackDesk, run_id: UUID, *, requests: int) -> tuple[UUID, SlackCall]:
    posted = await asyncio.to_thread(wait_for_requests, desk.slack, requests, 30)
    await desk.engine.wait_for(run_id, paused=True)
    return run_id, posted[requests - 1]


async def test_four_eyes_needs_two_different_approvers(asking: SlackDesk) -> None:
    run_id, posted = await waiting_run(asking, gates=["flush"], four_eyes=["two_approvers"])

    await asking.press(posted, "approve", user="U0123ABCD")
    [kept] = await asking.told("U0123ABCD")
    waiting_for_second = await asking.state(run_id)
    noted = await request_message(asking, posted, saying="a second, different person")
    await asking.press(posted, "approve", user="U0123ABCD")
    [_, again] = await asking.told("U0123ABCD", count=2)
    await asking.press(posted, "approve", user="U0TWO")
    done = await asking.engine.wait_for(run_id)

    assert kept.startswith("Your approval is kept. A second, different person must approve")
    assert waiting_for_second == "Suspended"
    assert [b["type"] for b in noted["blocks"]][-1] == "actions"  # still open for the second
    assert again.startswith("You approved already")
    assert done.name == "Completed", done
    message = await request_message(asking, posted, saying="Approved by <@U0123ABCD> and <@U0TWO>")
    assert message["text"].startswith("Request flush: Approved by <@U0123ABCD> and <@U0TWO> at")
