"""No secret leaks: the webhook token, the basic-auth password and Slack's bot token and signing
secret never appear in a log line, a report, an error body, the metrics or a run's parameters.

The whole engine runs with recognisable values for each secret while alerts arrive (accepted,
refused, malformed), a fix is asked for in Slack and approved there, presses arrive signed
wrongly, and the run ends; then everything a person or a tool can read is searched for them.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from uuid import UUID

import httpx
import orjson
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from pydantic import SecretStr

from engine.intake.auth import BasicCredentials, WebhookAuth
from engine.startup import SlackApprovals
from integrations.slack import SlackCredentials
from simcluster.manifests import service
from simcluster.server import SimServer
from tests.e2e.alert_stack import E2E_MARKS, HTTP_PORTS, just_now, service_down
from tests.e2e.flow_runs import wait_until_final
from tests.e2e.prefect_environment import local_prefect
from tests.e2e.served_engine import ServedEngine, simulated_access
from tests.e2e.storm import grouped_notification
from tests.slack_fake import FakeSlack
from tests.slack_press import button_of, press, requests_in, ts_of, wait_for_requests

pytestmark = E2E_MARKS

WEBHOOK_TOKEN = "tok-LEAKCHECK-7f3a9c1e5b"
BASIC_PASSWORD = "pw-LEAKCHECK-2d8e4b6a0c"
BOT_TOKEN = "xoxb-LEAKCHECK-9b1d3f5a7c"
SIGNING_SECRET = "sig-LEAKCHECK-4c6e8a0b2d"
SECRETS = (WEBHOOK_TOKEN, BASIC_PASSWORD, BOT_TOKEN, SIGNING_SECRET)
#: What the secrets look like once encoded the ways they travel (basic auth's base64).
ENCODED = (base64.b64encode(f"alertmanager:{BASIC_PASSWORD}".encode()).decode(),)
SERVICE = "web-secret"


class Everything(logging.Handler):
    """Keeps every log record's formatted line, its arguments and extras included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        extras = {k: v for k, v in record.__dict__.items() if k not in _PLAIN_RECORD}
        self.lines.append(f"{record.getMessage()} {extras!r} {record.exc_text or ''}")


_PLAIN_RECORD = set(vars(logging.makeLogRecord({})))


@pytest.fixture(scope="module")
def logged() -> Iterator[Everything]:
    """Every log line of this process (the engine runs in it) while the module runs."""
    handler = Everything()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory, logged: Everything
) -> Iterator[tuple[ServedEngine, FakeSlack]]:
    """The engine with recognisable secrets, over its own Prefect, cluster and Slack."""
    workdir: Path = tmp_path_factory.mktemp("secrets")
    with ExitStack() as parts:
        prefect = parts.enter_context(local_prefect(workdir / "prefect"))
        sim = parts.enter_context(SimServer())
        sim.cluster.create(service("shop", SERVICE, ports=HTTP_PORTS, selector={"app": "web-v2"}))
        sim.cluster.settle()
        slack = parts.enter_context(FakeSlack(token=BOT_TOKEN))
        credentials = SlackCredentials(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            channel="C0123ABC",
            api_url=slack.base_url,
        )
        served = ServedEngine(
            access=simulated_access(sim.write_kubeconfig(workdir / "k", user="engine")),
            auth=WebhookAuth(
                bearer_token=SecretStr(WEBHOOK_TOKEN),
                basic=BasicCredentials("alertmanager", SecretStr(BASIC_PASSWORD)),
            ),
            slack=SlackApprovals(
                credentials,
                approvers=frozenset({"U0123ABCD"}),
                ui_url=prefect.api_url.removesuffix("/api"),
            ),
        )
        served.start()
        parts.callback(served.stop)
        yield served, slack


def leaks(text: str) -> list[str]:
    """The secrets (or their encodings) found in ``text``."""
    return [secret for secret in (*SECRETS, *ENCODED) if secret in text]


async def test_no_secret_appears_in_logs_reports_error_bodies_metrics_or_run_parameters(
    engine: tuple[ServedEngine, FakeSlack], logged: Everything
) -> None:
    served, slack = engine
    seen: list[str] = []
    async with httpx.AsyncClient(timeout=30) as http:
        url = served.webhook_url
        body = orjson.dumps(
            grouped_notification([service_down(SERVICE)], starts_at=just_now(), group="secrets")
        )
        # Accepted with each scheme; refused with a wrong token, a wrong password, no auth.
        bearer = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
        basic = {"Authorization": f"Basic {ENCODED[0]}"}
        for headers in (bearer, basic):
            answer = await http.post(url, content=body, headers=headers)
            assert answer.status_code == httpx.codes.OK, answer.text
            seen.append(answer.text)
        for headers in (
            {"Authorization": f"Bearer {WEBHOOK_TOKEN}x"},
            {"Authorization": "Basic " + base64.b64encode(b"alertmanager:nope").decode()},
            {},
        ):
            answer = await http.post(url, content=body, headers=headers)
            assert answer.status_code == httpx.codes.UNAUTHORIZED
            seen += [answer.text, str(answer.headers)]
        # Malformed payloads, authorised: each a 4xx naming the field.
        for bad in (b"{", b'{"version": "4"}', orjson.dumps({"alerts": "x", "version": "4"})):
            answer = await http.post(url, content=bad, headers=bearer)
            assert 400 <= answer.status_code < 500
            seen.append(answer.text)
        # A press signed with the wrong secret, then the real approval.
        asked = await asyncio.to_thread(wait_for_requests, slack, 1, 60)
        [posted] = requests_in(asked, SERVICE)
        ts = await asyncio.to_thread(ts_of, slack, posted)
        callbacks = f"{served.url}/slack/interactions"
        wrong = await press(callbacks, posted, "approve", secret="not-the-secret", ts=ts)
        assert wrong.status_code == httpx.codes.UNAUTHORIZED
        seen.append(wrong.text)
        right = await press(callbacks, posted, "approve", secret=SIGNING_SECRET, ts=ts)
        assert right.status_code == httpx.codes.OK
        seen.append(right.text)
        run_id = UUID(button_of(posted)[0])
        async with get_client() as client:
            [done] = await wait_until_final(client, [run_id])
            runs = await client.read_flow_runs(limit=200)
            logs = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[r.id for r in runs]))
            )
            artifacts = await client.read_artifacts(limit=200)
            variables = await client.read_variables(limit=200)
            inputs = [
                await client.filter_flow_run_input(r.id, "", limit=100, exclude_keys=set())
                for r in runs
            ]
        seen.append((await http.get(f"{served.url}/metrics")).text)
        seen.append((await http.get(f"{served.url}/readyz")).text)

    assert done.state is not None
    assert done.state.name == "Recovered", done.state
    seen += [orjson.dumps(r.model_dump(mode="json")).decode() for r in runs]
    seen += [log.message for log in logs]
    seen += [str(a.data) + str(a.description) for a in artifacts]
    seen += [orjson.dumps(v.model_dump(mode="json")).decode() for v in variables]
    seen += [item.value for found in inputs for item in found]
    seen += logged.lines
    seen += [orjson.dumps(call.body).decode() for call in slack.calls()]
    assert any("Recovered" in text for text in seen)  # the search reads what the run wrote
    found = {secret for text in seen for secret in leaks(text)}
    assert found == set(), f"secrets leaked: {sorted(found)}"
