"""Approvals in Slack end to end: the request posted with buttons, a signed press resuming the
run (a real Prefect server), the message updated with who answered, refusals told privately."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from prefect.client.orchestration import PrefectClient
from starlette.applications import Starlette
from starlette.routing import Route

from engine.slack_actions import SlackActions
from flows.approval.slack import SlackNotifier
from flows.rollback.flow import kube_proxy_rollback
from flows.rollback.report import report_key
from integrations.slack import SlackChannel, SlackCredentials
from tests.engine.served import served
from tests.flows.checklist_engine import ChecklistEngine
from tests.flows.conftest import launcher
from tests.slack_fake import FakeSlack, SlackCall
from tests.slack_press import SIGNING_SECRET, press

SECRET = SIGNING_SECRET


@dataclass
class SlackDesk:
    """A fake Slack workspace, the engine's callback endpoint, and an engine whose flows use it."""

    slack: FakeSlack
    callbacks: str
    engine: ChecklistEngine

    async def press(
        self, posted: SlackCall, button: str, *, user: str = "U0123ABCD", secret: str = SECRET
    ) -> httpx.Response:
        """Press a button of a posted message, as Slack calls the engine back (signed)."""
        return await press(self.callbacks, posted, button, user=user, secret=secret)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A fake Slack workspace with the approvals channel C0123ABC."""
    with FakeSlack(token="xoxb-test") as fake:
        yield fake


@pytest.fixture
async def desk(
    slack: FakeSlack, rollback_deployment: UUID, prefect_client: PrefectClient, tmp_path: Path
) -> AsyncIterator[SlackDesk]:
    """The rollback flow asking for approval in Slack, only U0123ABCD and U0TWO may answer."""
    credentials = SlackCredentials(
        bot_token="xoxb-test", signing_secret=SECRET, channel="C0123ABC", api_url=slack.base_url
    )
    channel = SlackChannel(credentials.get_client(), credentials.channel)
    actions = SlackActions(
        signing_secret=SECRET, channel=channel, approvers=frozenset({"U0123ABCD", "U0TWO"})
    )
    app = Starlette(routes=[Route("/slack/interactions", actions.handle, methods=["POST"])])
    async with AsyncExitStack() as stack:
        url = stack.enter_context(served(app))
        start = await stack.enter_async_context(
            launcher(
                rollback_deployment,
                prefect_client,
                tmp_path,
                flow=kube_proxy_rollback,
                report_key_of=report_key,
                notifier=SlackNotifier(channel, ui_url="http://prefect.example"),
            )
        )
        engine = await start("bad-kube-proxy-rollout")
        yield SlackDesk(slack, f"{url}/slack/interactions", engine)


async def waiting_run(desk: SlackDesk, **parameters: Any) -> tuple[UUID, SlackCall]:
    """A rollback run suspended at its gate, and the message it posted."""
    run_id = await desk.engine.start_run(**parameters)
    await desk.engine.wait_for(run_id, paused=True)
    [posted] = desk.slack.wait_for("chat.postMessage")
    return run_id, posted


async def test_an_approve_press_resumes_the_run_and_the_message_then_says_who_approved(
    desk: SlackDesk,
) -> None:
    run_id, posted = await waiting_run(desk)
    assert posted.body["text"] == "Roll kube-proxy back from revision 2 to 1"
    assert f"http://prefect.example/runs/flow-run/{run_id}" in json.dumps(posted.body["blocks"])

    answer = await desk.press(posted, "approve")
    done = await desk.engine.wait_for(run_id)

    assert answer.status_code == 200
    assert done.name == "RolledBack", done
    [updated] = desk.slack.wait_for("chat.update")
    assert updated.body["text"] == (
        "Roll kube-proxy back from revision 2 to 1: "
        "Approved by oncall (Slack U0123ABCD) via slack: answered in Slack"
    )
    assert [b["type"] for b in updated.body["blocks"]].count("actions") == 0
    assert "| approved | oncall (Slack U0123ABCD) | slack |" in await desk.engine.report(run_id)


async def test_a_reject_press_ends_the_run_without_a_change(desk: SlackDesk) -> None:
    run_id, posted = await waiting_run(desk)

    await desk.press(posted, "reject")
    done = await desk.engine.wait_for(run_id)

    assert done.name == "Rejected", done
    assert desk.engine.mutations() == 0
    [updated] = desk.slack.wait_for("chat.update")
    assert "Rejected by oncall (Slack U0123ABCD)" in updated.body["text"]


async def test_a_press_not_signed_with_the_apps_secret_is_refused_and_the_run_waits(
    desk: SlackDesk,
) -> None:
    run_id, posted = await waiting_run(desk)

    answer = await desk.press(posted, "approve", secret="not-the-secret")

    assert answer.status_code == 401
    run = await desk.engine.client.read_flow_run(run_id)
    assert run.state is not None
    assert run.state.name == "Suspended"


async def test_a_press_by_someone_not_on_the_approver_list_is_told_so_and_answers_nothing(
    desk: SlackDesk,
) -> None:
    run_id, posted = await waiting_run(desk)

    answer = await desk.press(posted, "approve", user="U0STRANGER")

    assert answer.status_code == 200
    [told] = desk.slack.wait_for("chat.postEphemeral")
    assert told.body["user"] == "U0STRANGER"
    assert "not on this engine's approver list" in told.body["text"]
    run = await desk.engine.client.read_flow_run(run_id)
    assert run.state is not None
    assert run.state.name == "Suspended"


async def test_a_second_press_after_the_answer_is_told_the_run_no_longer_waits(
    desk: SlackDesk,
) -> None:
    run_id, posted = await waiting_run(desk)
    await desk.press(posted, "approve")
    await desk.engine.wait_for(run_id)

    await desk.press(posted, "reject", user="U0TWO")

    [told] = desk.slack.wait_for("chat.postEphemeral")
    assert told.body["user"] == "U0TWO"
    assert told.body["text"].startswith("Not answered: ")


async def test_an_unanswered_request_is_marked_in_slack_when_it_times_out(
    desk: SlackDesk,
) -> None:
    run_id, _ = await waiting_run(desk, approval_timeout_seconds=1)

    done = await desk.engine.wait_for(run_id)

    assert done.name == "ApprovalTimedOut", done
    [updated] = desk.slack.wait_for("chat.update")
    assert "Not answered in time: rejected by runbook-engine" in updated.body["text"]


async def test_a_request_slack_refuses_fails_the_run_with_the_fix(desk: SlackDesk) -> None:
    desk.slack.fail_next("chat.postMessage", "not_in_channel")

    run_id = await desk.engine.start_run()
    done = await desk.engine.wait_for(run_id)

    assert done.is_failed(), done
    assert "not_in_channel" in (done.message or "")
    assert "invite the app to the channel" in (done.message or "")
