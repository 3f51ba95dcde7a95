"""The whole path with a human in it: Alertmanager fires, the checklist proposes a fix and asks
in Slack, a signed Approve press reaches the engine, the fix is made, and the incident is one
Slack thread from the request to the outcome."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client

from simcluster import resources
from tests.e2e.alert_stack import E2E_MARKS, MISMATCHED_SERVICE, Stack, just_now, service_down
from tests.e2e.alertmanager_process import Alertmanager
from tests.e2e.flow_runs import wait_until_final
from tests.e2e.prometheus_alerts import prometheus_alert
from tests.slack_fake import FakeSlack
from tests.slack_press import button_of, press, requests_in, ts_of, wait_for_requests

pytestmark = E2E_MARKS


async def incident_thread(
    slack: FakeSlack, *, about: str, within: float = 60
) -> list[dict[str, Any]]:
    """The thread whose parent is ``about`` something, once its last line gives the outcome."""
    deadline = time.monotonic() + within
    while True:
        messages = slack.messages("C0123ABC")
        parents = [m for m in messages if "thread_ts" not in m and about in m["text"]]
        if parents:
            [parent] = parents
            thread = [m for m in messages if m.get("thread_ts") == parent["ts"]]
            if thread and "Ended *" in thread[-1]["text"]:
                return [parent, *thread]
        if time.monotonic() > deadline:
            raise AssertionError(f"no finished thread about {about}: {messages}")
        await asyncio.sleep(0.1)


async def test_a_fix_proposed_for_an_alert_is_approved_in_slack_made_and_told_in_one_thread(
    stack: Stack, alertmanager: Alertmanager
) -> None:
    labels = service_down(MISMATCHED_SERVICE)
    alertmanager.post_alerts([prometheus_alert(labels, starts_at=just_now())])

    asked = await asyncio.to_thread(wait_for_requests, stack.slack, 1, 60)
    [posted] = requests_in(asked, MISMATCHED_SERVICE)
    ts = await asyncio.to_thread(ts_of, stack.slack, posted)
    answer = await press(f"{stack.engine.url}/slack/interactions", posted, "approve", ts=ts)

    assert answer.status_code == 200
    run_id, _gate, _request = button_of(posted)
    async with get_client() as client:
        [done] = await wait_until_final(client, [UUID(run_id)])
    assert done.state is not None
    assert done.state.name == "Recovered", done.state
    selector = stack.sim.cluster.store.get(resources.SERVICES, "shop", MISMATCHED_SERVICE)["spec"][
        "selector"
    ]
    assert selector == {"app": "web"}

    parent, request, answered, *steps, outcome = await incident_thread(
        stack.slack, about=f"ServiceDown on shop/{MISMATCHED_SERVICE}"
    )
    assert parent["text"].startswith(
        f"ServiceDown on shop/{MISMATCHED_SERVICE}: five-minute checklist: Ended *Recovered*"
    )
    assert request["ts"] == ts
    assert "Approved by <@U0123ABCD> at <!date^" in request["text"]
    assert answered["text"].startswith("Approved by <@U0123ABCD> at <!date^")
    assert steps, "each action and verification is told in the thread"
    # Done, or (the alert's own check, which Alertmanager cannot answer yet) skipped: a
    # skipped step is marked as such, not as done; none failed.
    marks = {step["text"].split(" ", 1)[0] for step in steps}
    assert marks <= {":white_check_mark:", ":fast_forward:"}, steps
    skipped = [step["text"] for step in steps if step["text"].startswith(":fast_forward:")]
    assert all("has stopped firing: skipped" in text for text in skipped), skipped
    assert any("selector" in step["text"].lower() for step in steps)
    assert outcome["text"].startswith(":white_check_mark: Ended *Recovered* at <!date^")
    assert f"checklist-report-{run_id}|Report>" in outcome["text"]
