"""A run's Slack thread, told in the background: opened by the first change, each step once,
closed with the outcome; Slack's refusals logged once with the fix, never failing the run."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient

from flows.approval import RunEnding, RunSubject, StepNote, StepStatus
from flows.approval.slack import SlackNotifier
from integrations.slack import SlackChannel, SlackCredentials
from tests.prefect_runs import create_run_by_hand
from tests.slack_fake import FakeSlack

AT = datetime(2025, 1, 10, 9, 3, 12, 345678, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A fake Slack workspace with the approvals channel C0123ABC."""
    # A token of its own: a run a previous test left behind, posting to a port this fake now
    # has, is refused instead of taking the failures a test injects.
    with FakeSlack(token=f"xoxb-{uuid.uuid4().hex[:12]}") as fake:
        yield fake


@pytest.fixture
def notifier(slack: FakeSlack) -> SlackNotifier:
    """The notifier flows tell, over the fake Slack."""
    credentials = SlackCredentials(
        bot_token=slack.token, signing_secret="s", channel="C0123ABC", api_url=slack.base_url
    )
    channel = SlackChannel(credentials.get_client(), credentials.channel)
    return SlackNotifier(channel, ui_url="http://prefect.example")


@pytest.fixture
async def run(prefect_client: PrefectClient, asking_deployment: UUID) -> AsyncIterator[RunSubject]:
    """A run in Prefect (never started), as the subject of a thread."""
    created = await create_run_by_hand(prefect_client, asking_deployment, parameters={"gates": []})
    yield RunSubject(
        flow_run_id=str(created.id), title="ServiceDown on shop/web", report_key="report-7"
    )
    await prefect_client.delete_flow_run(created.id)


def step(key: str, *, status: StepStatus = StepStatus.DONE) -> StepNote:
    return StepNote(key=key, text=f"{key}: {status.value}", status=status, at=AT)


ENDING = RunEnding(state="Recovered", detail="verified: 3/3 endpoints ready", ok=True, at=AT)


async def told(notifier: SlackNotifier, run: RunSubject) -> None:
    assert await asyncio.to_thread(notifier.wait, run.flow_run_id, 30)


async def test_a_run_that_changed_nothing_stays_out_of_slack(
    notifier: SlackNotifier, slack: FakeSlack, run: RunSubject
) -> None:
    notifier.run_finished(run, ENDING)
    await told(notifier, run)

    assert slack.calls() == []


async def test_the_first_step_opens_the_thread_and_each_step_is_told_once_marked_as_it_ended(
    notifier: SlackNotifier, slack: FakeSlack, run: RunSubject
) -> None:
    notifier.step_done(run, step("restart kube-proxy-a"))
    notifier.step_done(run, step("restart kube-proxy-a"))  # a re-run after the answer
    notifier.step_done(run, step("check the alert", status=StepStatus.SKIPPED))
    notifier.step_done(run, step("verify", status=StepStatus.FAILED))
    notifier.run_finished(run, ENDING)
    await told(notifier, run)

    parent, *lines = slack.messages("C0123ABC")
    assert (
        parent["text"]
        == "ServiceDown on shop/web: Ended *Recovered*: verified: 3/3 endpoints ready"
    )
    assert [line["text"] for line in lines] == [
        ":white_check_mark: restart kube-proxy-a: done",
        ":fast_forward: check the alert: skipped",
        ":x: verify: failed",
        ":white_check_mark: Ended *Recovered* at <!date^1736499792^{date_short_pretty} {time}"
        "|2025-01-10 09:03 UTC>: verified: 3/3 endpoints ready. "
        "<http://prefect.example/artifacts/key/report-7|Report>",
    ]


async def test_slack_refusing_the_thread_is_logged_once_with_the_fix_and_the_run_goes_on(
    notifier: SlackNotifier, slack: FakeSlack, run: RunSubject, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fail_next("chat.postMessage", "not_in_channel", times=10)

    with caplog.at_level(logging.ERROR, logger="flows.approval.slack"):
        for n in range(3):
            notifier.step_done(run, step(f"step-{n}"))
        await told(notifier, run)

    [logged] = [r.getMessage() for r in caplog.records if r.name == "flows.approval.slack"]
    assert "not_in_channel" in logged
    assert "invite the app to the channel: /invite @service-runbooks" in logged
    assert "the run goes on without it" in logged
