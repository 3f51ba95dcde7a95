"""The whole path with a human in it: Alertmanager fires, the checklist proposes a fix and asks
in Slack, a signed Approve press reaches the engine, and the fix is made."""

from __future__ import annotations

from uuid import UUID

from prefect.client.orchestration import get_client

from simcluster import resources
from tests.e2e.alert_stack import E2E_MARKS, MISMATCHED_SERVICE, Stack, just_now, service_down
from tests.e2e.alertmanager_process import Alertmanager
from tests.e2e.flow_runs import wait_until_final
from tests.e2e.prometheus_alerts import prometheus_alert
from tests.slack_press import press

pytestmark = E2E_MARKS


async def test_a_fix_proposed_for_an_alert_is_approved_in_slack_and_made(
    stack: Stack, alertmanager: Alertmanager
) -> None:
    labels = service_down(MISMATCHED_SERVICE)
    alertmanager.post_alerts([prometheus_alert(labels, starts_at=just_now())])

    [posted] = [
        call
        for call in stack.slack.wait_for("chat.postMessage", within=60)
        if MISMATCHED_SERVICE in call.body["text"]
    ]
    answer = await press(f"{stack.engine.url}/slack/interactions", posted, "approve")

    assert answer.status_code == 200
    run_id, _gate = posted.body["blocks"][-1]["elements"][0]["value"].split("/")
    async with get_client() as client:
        [done] = await wait_until_final(client, [UUID(run_id)])
    assert done.state is not None
    assert done.state.name == "Recovered", done.state
    selector = stack.sim.cluster.store.get(resources.SERVICES, "shop", MISMATCHED_SERVICE)["spec"][
        "selector"
    ]
    assert selector == {"app": "web"}
    [updated, *_] = [
        call
        for call in stack.slack.wait_for("chat.update", within=30)
        if MISMATCHED_SERVICE in call.body["text"]
    ]
    assert "Approved by oncall (Slack U0123ABCD) via slack" in updated.body["text"]
