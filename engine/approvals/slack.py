"""``POST /slack/interactions``: an Approve or Reject press in Slack answers the waiting run.

The press becomes the same typed answer the Prefect UI's resume form submits (channel
``slack``, the Slack user as ``by``), so the flow cannot tell the channels apart. Slack shows
an error and does not retry when a callback fails, so every refusal is also told to the user
who pressed, in the channel, only to them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient, get_client
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from engine.dispatch import RunLauncher
from engine.request_body import BodyTooLargeError, read_limited_body
from flows.approval import ApprovalInput, Channel
from integrations.slack import (
    ButtonPress,
    InteractionError,
    InvalidSignatureError,
    SlackChannel,
    SlackError,
    parse_button_press,
    verify_signature,
)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
#: Prefect marks a run Suspended a moment before it keeps the form's schema; a resume in
#: between is refused. A human pressing that fast is rare, but the retry costs nothing.
SCHEMA_RETRIES = 20


class SlackActions:
    """The endpoint for Slack's interaction callbacks (constructor-injected collaborators)."""

    def __init__(
        self,
        *,
        signing_secret: str,
        channel: SlackChannel,
        approvers: frozenset[str] = frozenset(),
        launcher: RunLauncher | None = None,
        prefect: Callable[[], PrefectClient] = get_client,
        now: Callable[[], float] = time.time,
    ) -> None:
        """Verify callbacks with `signing_secret`; answer runs through `prefect`.

        Args:
            signing_secret: The Slack app's signing secret.
            channel: Where refusals are told to the user who pressed.
            approvers: Slack user IDs allowed to answer; empty: anyone who sees the message.
            launcher: Given each resumed run at once (the warm executor), rather than leave
                it to the executor's next poll.
            prefect: Opens a Prefect client (async context manager).
            now: The clock for the signature's freshness check.
        """
        self._secret = signing_secret
        self._channel = channel
        self._approvers = approvers
        self._launcher = launcher
        self._prefect = prefect
        self._now = now

    async def handle(self, request: Request) -> Response:
        """Verify, read and act on one callback; 401/400/413 for what is not Slack's or ours."""
        try:
            body = await read_limited_body(request, MAX_BODY_BYTES)
        except BodyTooLargeError as error:
            return PlainTextResponse(str(error), status_code=413)
        try:
            verify_signature(
                body,
                timestamp=request.headers.get("X-Slack-Request-Timestamp"),
                signature=request.headers.get("X-Slack-Signature"),
                signing_secret=self._secret,
                now=self._now,
            )
        except InvalidSignatureError as error:
            logger.warning("refused a Slack callback: %s", error)
            return PlainTextResponse(f"not signed by Slack: {error}", status_code=401)
        try:
            press = parse_button_press(body)
        except InteractionError as error:
            logger.warning("ignored a Slack callback: %s", error)
            return PlainTextResponse(str(error), status_code=400)
        if self._approvers and press.user_id not in self._approvers:
            logger.warning("Slack user %s may not answer approvals", press.user_id)
            await self._tell(
                press,
                "You are not on this engine's approver list "
                "(RUNBOOKS_SLACK_APPROVERS); nothing was answered.",
            )
            return Response(status_code=200)
        refusal = await self._answer(press)
        if refusal is not None:
            await self._tell(press, refusal)
        return Response(status_code=200)

    async def _answer(self, press: ButtonPress) -> str | None:
        """Resume the run with the press as its answer; why not, when Prefect refused."""
        answer = ApprovalInput(
            approve=press.approve,
            by=f"{press.user_name} (Slack {press.user_id})",
            reason="answered in Slack",
            channel=Channel.SLACK,
        ).model_dump(mode="json")
        try:
            run_id = UUID(press.run_id)
        except ValueError:
            return f"{press.run_id!r} is not a flow run id; nothing was answered"
        try:
            async with self._prefect() as client:
                for _ in range(SCHEMA_RETRIES):
                    result = await client.resume_flow_run(run_id, run_input=answer)
                    reason = str(getattr(result.details, "reason", "") or "")
                    if result.status.value != "REJECT" or "schema not found" not in reason:
                        break
                    await asyncio.sleep(0.1)
                if result.status.value == "ACCEPT" and self._launcher is not None:
                    self._launcher.launch(await client.read_flow_run(run_id))
        except httpx.HTTPError as error:  # PrefectHTTPStatusError is one too
            logger.error("could not answer flow run %s from Slack: %r", run_id, error)
            return "Prefect could not be reached; try again, or answer in the Prefect UI"
        if result.status.value == "ACCEPT":
            logger.info(
                "flow run %s, gate %s %s in Slack by %s",
                run_id,
                press.gate,
                "approved" if press.approve else "rejected",
                press.user_id,
            )
            return None
        return f"Not answered: {reason or 'the run no longer waits for this approval'}"

    async def _tell(self, press: ButtonPress, text: str) -> None:
        try:
            await asyncio.to_thread(self._channel.tell, press.user_id, text)
        except SlackError as error:
            logger.error("could not tell Slack user %s: %s", press.user_id, error)
