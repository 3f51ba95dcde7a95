"""``POST /slack/interactions``: an Approve or Reject press in Slack answers the request it was
posted for, and only that one.

The press is checked against what Prefect holds for the run (`press.judge_press`): the exact
request (a replayed or stale button cannot answer a later request of the run), not answered yet,
its deadline not passed at this moment, the presser an approver, its four-eyes rules. It then
becomes an `EngineAnswer` naming the request (Prefect checks the name again as it takes the
answer), submitted through Prefect's resume API: the run's answer input is the durable record of
who answered, when and how, and the first answer wins. Slack shows an error and does not retry
when a callback fails, and wants its answer within 3 seconds: a signed, well-formed press is
answered 200 at once and acted on in the background (the deadline is judged at the moment the
press arrived), and the presser is told, only them, in words, what happened when their press
changed nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import StateType
from prefect.exceptions import ObjectNotFound
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from engine.approvals.approvers import ApproverDirectory
from engine.approvals.press import (
    NOTHING_CHANGED,
    Allowed,
    FirstApproval,
    Refuse,
    Resume,
    Situation,
    first_approval_text,
    judge_press,
    stale_text,
)
from engine.approvals.resume import ResumeOutcome, resume_run
from engine.handoff import RunLauncher
from engine.intake.request_body import BodyTooLargeError, read_limited_body
from flows.approval import ApprovalRequest
from flows.approval.form import EngineAnswer, Vote, judge_answer
from flows.approval.models import is_gate_key
from flows.approval.store import akeep_vote, aread_answer, aread_vote, read_request
from flows.approval.wording import already_text, approval_message
from integrations.slack import (
    ButtonPress,
    InteractionError,
    InvalidSignatureError,
    MessageRef,
    SlackChannel,
    SlackError,
    approval_blocks,
    line_blocks,
    parse_button_press,
    verify_signature,
)

logger = logging.getLogger(__name__)

#: Slack's largest interaction payload carries the whole message: 50 blocks of 3,000
#: characters, each non-ASCII character up to 9 bytes once form-encoded (~1.4 MB), and more.
MAX_BODY_BYTES = 2 * 1024 * 1024
UNREACHABLE = (
    "Prefect could not be reached, so nothing was changed; try again, or answer in the Prefect UI."
)


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
        ui_url: str | None = None,
        directory: ApproverDirectory | None = None,
    ) -> None:
        """Verify callbacks with `signing_secret`; answer runs through `prefect`.

        Args:
            signing_secret: The Slack app's signing secret.
            channel: Where refusals are told to the user who pressed.
            approvers: The engine's approvers (Slack user and user group IDs), for requests
                whose runbook names none; empty: anyone who can see the message.
            launcher: Given each resumed run at once (the warm executor), rather than leave
                it to the executor's next poll.
            prefect: Opens a Prefect client (async context manager).
            now: The clock, for the signature's freshness and the requests' deadlines.
            ui_url: The Prefect UI, linked from messages the endpoint updates.
            directory: Resolves approvers (default: one over ``channel``).
        """
        self._secret = signing_secret
        self._channel = channel
        self._directory = directory or ApproverDirectory(channel, default=approvers)
        self._launcher = launcher
        self._prefect = prefect
        self._now = now
        self._ui_url = ui_url
        self._acting: set[asyncio.Task[None]] = set()

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
        # Slack wants its answer within 3 s; Prefect may take longer (its retries on 503).
        act = asyncio.get_running_loop().create_task(self._act(press, pressed_at=self._now()))
        self._acting.add(act)
        act.add_done_callback(self._acting.discard)
        return Response(status_code=200)

    async def settled(self) -> None:
        """Wait until every press taken so far has been acted on (tests, shutdown)."""
        while self._acting:
            await asyncio.gather(*self._acting, return_exceptions=True)

    async def _act(self, press: ButtonPress, *, pressed_at: float) -> None:
        refusal = await self._answer(press, pressed_at=pressed_at)
        if refusal is not None:
            await self._tell(press, refusal)

    async def _answer(self, press: ButtonPress, *, pressed_at: float) -> str | None:
        """Answer the press's request; what to tell the presser when nothing was answered."""
        try:
            run_id = UUID(press.run_id)
        except ValueError:
            return f"{press.run_id!r} is not a flow run id; nothing was answered"
        try:
            async with self._prefect() as client:
                return await self._answer_run(
                    client, run_id, press, pressed_at=pressed_at, second_look=True
                )
        except httpx.HTTPError as error:  # PrefectHTTPStatusError is one too
            logger.error("could not answer flow run %s from Slack: %r", run_id, error)
            return UNREACHABLE

    async def _answer_run(
        self,
        client: PrefectClient,
        run_id: UUID,
        press: ButtonPress,
        *,
        pressed_at: float,
        second_look: bool,
    ) -> str | None:
        situation = await read_situation(client, run_id, press.gate)
        try:
            allowed = await self._allowed(situation.request)
        except SlackError as error:
            logger.error("could not resolve the approvers of flow run %s: %s", run_id, error)
            return f"Slack could not tell who may answer ({error}). {NOTHING_CHANGED} Try again."
        now = datetime.fromtimestamp(pressed_at, UTC)
        verdict = judge_press(press, situation, now=now, allowed=allowed)
        if isinstance(verdict, Refuse):
            logger.info("Slack press on flow run %s refused: %s", run_id, verdict.text)
            return verdict.text
        assert situation.request is not None  # a verdict other than Refuse names the request
        if isinstance(verdict, Resume):
            return await self._resume(client, run_id, situation.request, verdict.answer)
        return await self._first_approval(
            client,
            run_id,
            press,
            situation.request,
            verdict,
            pressed_at=pressed_at,
            second_look=second_look,
        )

    async def _allowed(self, request: ApprovalRequest | None) -> Allowed:
        if request is None:
            return Allowed(None, "")
        return await self._directory.allowed(request.rules)

    async def _resume(
        self, client: PrefectClient, run_id: UUID, request: ApprovalRequest, answer: EngineAnswer
    ) -> str | None:
        resumed = await resume_run(client, run_id, answer.run_input())
        if resumed.outcome is ResumeOutcome.ACCEPTED:
            logger.info(
                "flow run %s, request %s %s in Slack by %s",
                run_id,
                request.request_id,
                answer.decision.value,
                ", ".join(answer.answerers),
            )
            if self._launcher is not None:
                self._launcher.launch(await client.read_flow_run(run_id))
            return None
        if resumed.outcome is ResumeOutcome.NOT_PAUSED:
            return await self._after_someone_else(client, run_id, request, answer)
        if resumed.outcome is ResumeOutcome.REFUSED and "request_id" in resumed.reason:
            return stale_text(request)
        words = {
            ResumeOutcome.NOT_READY: "The run is still suspending; press again in a moment.",
            ResumeOutcome.UNAVAILABLE: "Prefect is unavailable (503), so nothing was changed; "
            "try again in a moment, or answer in the Prefect UI.",
        }
        logger.warning("flow run %s did not take a Slack answer: %s", run_id, resumed)
        return words.get(
            resumed.outcome, f"Prefect refused the answer ({resumed.reason}). {NOTHING_CHANGED}"
        )

    async def _after_someone_else(
        self, client: PrefectClient, run_id: UUID, request: ApprovalRequest, answer: EngineAnswer
    ) -> str | None:
        situation = await read_situation(client, run_id, request.gate)
        standing = situation.answer
        if standing is None:
            state = situation.state_name or "not waiting"
            return f"The run no longer waits for this request (it is {state}). {NOTHING_CHANGED}"
        if standing.answerers == answer.answerers and standing.decided_at == answer.answered_at:
            return None  # ours: taken by a try Prefect answered 503 to
        return already_text(request, standing)

    async def _first_approval(
        self,
        client: PrefectClient,
        run_id: UUID,
        press: ButtonPress,
        request: ApprovalRequest,
        verdict: FirstApproval,
        *,
        pressed_at: float,
        second_look: bool,
    ) -> str | None:
        kept = await akeep_vote(client, request, verdict.vote)
        if kept.user_id != verdict.vote.user_id and second_look:
            # Someone else approved first a moment ago: this press is the second approval.
            return await self._answer_run(
                client, run_id, press, pressed_at=pressed_at, second_look=False
            )
        logger.info("flow run %s: first of two approvals by %s", run_id, kept.user_id)
        await self._show_first_approval(press, request, kept)
        return (
            "Your approval is kept. A second, different person must approve too (four-eyes) "
            "before anything changes."
        )

    async def _show_first_approval(
        self, press: ButtonPress, request: ApprovalRequest, vote: Vote
    ) -> None:
        note = first_approval_text(vote)
        message = approval_message(
            request, ui_url=self._ui_url, default_approvers=self._directory.default
        )
        try:
            if press.channel and press.message_ts:
                ref = MessageRef(channel=press.channel, ts=press.message_ts)
                await asyncio.to_thread(
                    self._channel.update, ref, *approval_blocks(message, note=note)
                )
            if press.channel and press.thread_ts:
                thread = MessageRef(channel=press.channel, ts=press.thread_ts)
                await asyncio.to_thread(self._channel.post, *line_blocks(note), thread=thread)
        except SlackError as error:
            logger.error("could not show a first approval in Slack: %s", error)

    async def _tell(self, press: ButtonPress, text: str) -> None:
        try:
            await asyncio.to_thread(
                self._channel.tell, press.user_id, text, thread_ts=press.thread_ts
            )
        except SlackError as error:
            logger.error("could not tell Slack user %s: %s", press.user_id, error)


async def read_situation(client: PrefectClient, run_id: UUID, gate: str) -> Situation:
    """What Prefect holds about run ``run_id`` and its request at ``gate``.

    Raises:
        httpx.HTTPError: Prefect could not be read.
    """
    try:
        run = await client.read_flow_run(run_id)
    except ObjectNotFound:
        return Situation(run_found=False)
    state = run.state
    paused = state is not None and state.type is StateType.PAUSED
    # The gate is the button's (signed, but any text): only a gate key names an input.
    request = await read_request(client, run_id, gate) if is_gate_key(gate) else None
    answer = vote = None
    if request is not None:
        if request.rules.two_approvers:
            vote = await aread_vote(client, request)
        stored = await aread_answer(client, request)
        if stored is not None:
            answer = judge_answer(
                request, stored.submitted, answered_at=stored.answered_at, first_vote=vote
            )
    return Situation(
        run_found=True,
        state_name=state.name if state else None,
        paused_at=state.state_details.pause_key if paused and state else None,
        running=state is not None and state.type in (StateType.RUNNING, StateType.PENDING),
        request=request,
        answer=answer,
        first_vote=vote,
    )
