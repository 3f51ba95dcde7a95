"""A run's conversation in Slack: one parent message per run, everything else in its thread.

The parent says what the run is about and where it stands (updated in place); its thread gets
the approval request with Approve and Reject buttons (`engine.approvals.slack` takes the
presses), the answer, each step as it is done, and the outcome with a link to the report.

Only the request is posted while the run waits on it: if Slack refuses it (the token or the
channel), the run fails rather than wait for an answer nobody was asked for; if Slack cannot be
reached, the request waits in the Prefect UI and goes to Slack once Slack answers. Everything
else goes out in the background, in order per run (`Lanes`), through the client's retries (rate
limits wait as long as Slack says): it never blocks or fails the run, and what Slack still
refuses is logged once, with the fix.
A run that neither asks nor changes anything (nothing to do, a dry run) stays out of Slack.

Where the parent and each request were posted is kept with the flow run in Prefect, so a run
re-run after its answer, on this engine or another, goes on in the same thread.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import StateType

from flows.approval.lanes import Lanes
from flows.approval.models import (
    ApprovalAnswer,
    ApprovalRequest,
    RunEnding,
    RunSubject,
    StepNote,
    StepStatus,
)
from flows.approval.notifier import LogNotifier
from flows.approval.store import decided_key, keep_once, read_kept
from flows.approval.wording import (
    approval_message,
    decision_text,
    ending_line,
    report_url,
    run_url,
    step_line,
)
from integrations.slack import (
    MessageRef,
    ParentMessage,
    SlackChannel,
    SlackError,
    SlackUnavailableError,
    approval_blocks,
    decided_blocks,
    line_blocks,
    parent_blocks,
    slack_date,
)

logger = logging.getLogger(__name__)

THREAD_KEY = "slack-thread"
"""The flow-run-input key holding where the run's parent message is."""

#: How long a request waits for the run's earlier lines to go out first (they keep order).
SETTLE_SECONDS = 30.0
#: How often a request Slack could not take is tried again while it waits for an answer.
REPOST_SECONDS = 30.0


def message_key(gate: str) -> str:
    """The flow-run-input key holding where the request of `gate` was posted."""
    return f"slack-message-{gate}"


class SlackNotifier:
    """Tells the approvals channel about each run's requests, answers, steps and outcome."""

    def __init__(
        self,
        channel: SlackChannel,
        *,
        ui_url: str | None = None,
        default_approvers: tuple[str, ...] = (),
        settle_seconds: float = SETTLE_SECONDS,
        repost_seconds: float = REPOST_SECONDS,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Post to `channel`; link each run in the Prefect UI at `ui_url`.

        Args:
            channel: The approvals channel.
            ui_url: The Prefect UI, linked from every message.
            default_approvers: The engine's approvers (user and group IDs), named in requests
                whose runbook names none.
            settle_seconds: How long a request waits for the run's earlier lines.
            repost_seconds: How often a request Slack could not take is tried again.
            now: The clock requests' deadlines are read on.
        """
        self._channel = channel
        self._ui_url = ui_url
        self._default_approvers = default_approvers
        self._settle = settle_seconds
        self._repost = repost_seconds
        self._now = now
        self._log = LogNotifier()
        self._lanes = Lanes("slack")
        self._lock = threading.Lock()
        # Held while a parent is posted: a request and a step of one run must not both post one.
        self._parent_lock = threading.Lock()
        self._parents: dict[str, MessageRef] = {}
        self._told: set[tuple[str, str, StepStatus]] = set()
        self._logged: set[tuple[str, str]] = set()

    def approval_requested(self, run: RunSubject, request: ApprovalRequest) -> None:
        """Post the request with its buttons in the run's thread (opening it if need be).

        Slack unreachable (after the client's retries): the request waits in the Prefect UI,
        and is posted in the background once Slack answers.

        Raises:
            SlackRejectedError: Slack refused it (the token, the channel): the flow fails,
                naming the fix, rather than wait for an answer nobody was asked for.
        """
        self._log.approval_requested(run, request)
        self._lanes.wait(run.flow_run_id, self._settle)
        try:
            self._post_request(run, request)
        except SlackUnavailableError as error:
            logger.error(
                "Slack could not be reached to ask for approval of flow run %s (%s): the "
                "request waits in the Prefect UI (%s) and is posted to Slack once Slack "
                "answers, until its deadline",
                run.flow_run_id,
                error,
                run_url(self._ui_url, run.flow_run_id) or "the run's page, Resume",
            )
            self._lanes.submit(run.flow_run_id, lambda: self._post_when_back(run, request))

    def _post_request(self, run: RunSubject, request: ApprovalRequest) -> None:
        waiting = f"Waiting for approval until {slack_date(request.deadline)}: {request.title}"
        parent, opened = self._parent(run, status=waiting)
        message = approval_message(
            request, ui_url=self._ui_url, default_approvers=self._default_approvers
        )
        ref = self._channel.post(*approval_blocks(message), thread=parent)
        kept = json.dumps({"channel": ref.channel, "ts": ref.ts})
        keep_once(UUID(request.flow_run_id), message_key(request.gate), kept)
        if not opened:
            self._later(run, "mark the run as waiting", lambda: self._status(run, parent, waiting))

    def _post_when_back(self, run: RunSubject, request: ApprovalRequest) -> None:
        """Try the request again every `self._repost` seconds while the run waits for it."""
        flow_run_id = UUID(request.flow_run_id)
        while True:
            left = (request.deadline - self._now()).total_seconds()
            if left <= 0:
                return
            time.sleep(min(self._repost, left))
            try:
                if not _still_asking(flow_run_id, request):
                    return  # answered in the Prefect UI, or the run ended otherwise
                self._post_request(run, request)
            except SlackUnavailableError:
                continue
            except (SlackError, httpx.HTTPError) as error:
                self._failed(run, "post the approval request", error)
                return
            logger.info("approval request of flow run %s posted to Slack", run.flow_run_id)
            return

    def approval_updated(self, run: RunSubject, request: ApprovalRequest) -> None:
        """Rewrite the waiting request's message in place (its buttons stay)."""
        self._log.approval_updated(run, request)

        def tell() -> None:
            kept = read_kept(UUID(request.flow_run_id), message_key(request.gate))
            if kept is None:
                return  # not posted (yet): the request as posted will be the newer one
            message = approval_message(
                request, ui_url=self._ui_url, default_approvers=self._default_approvers
            )
            self._channel.update(_ref(kept), *approval_blocks(message))

        self._later(run, "update the request", tell)

    def approval_decided(
        self, run: RunSubject, request: ApprovalRequest, answer: ApprovalAnswer
    ) -> None:
        """Replace the request's buttons with the answer, and say it in the thread."""
        self._log.approval_decided(run, request, answer)
        text = decision_text(request, answer)

        def tell() -> None:
            kept = read_kept(UUID(request.flow_run_id), message_key(request.gate))
            if kept is not None:
                where = json.loads(kept)
                message = approval_message(
                    request, ui_url=self._ui_url, default_approvers=self._default_approvers
                )
                self._channel.update(
                    MessageRef(channel=where["channel"], ts=where["ts"]),
                    *decided_blocks(message, text),
                )
            parent = self._known_parent(run)
            if parent is not None:
                self._channel.post(*line_blocks(text), thread=parent)
                status = "Approved: carrying out the steps" if answer.approved else text
                self._status(run, parent, status)

        self._later(run, "tell the answer", tell)

    def step_done(self, run: RunSubject, step: StepNote) -> None:
        """Say the step in the run's thread (opening it if need be), once per step and result."""
        self._log.step_done(run, step)
        told = (run.flow_run_id, step.key, step.status)
        with self._lock:
            if told in self._told:
                return
            self._told.add(told)

        def tell() -> None:
            parent, _ = self._parent(run, status="Carrying out the steps the runbook approves")
            self._channel.post(*line_blocks(step_line(step)), thread=parent)

        self._later(run, f"tell step {step.key}", tell)

    def run_finished(self, run: RunSubject, ending: RunEnding) -> None:
        """Say how the run ended, with its report, and show it on the parent (if it has one)."""
        self._log.run_finished(run, ending)
        report = report_url(self._ui_url, run.report_key)

        def tell() -> None:
            parent = self._known_parent(run)
            if parent is None:
                return  # the run neither asked nor changed anything: nothing to close
            self._channel.post(*line_blocks(ending_line(ending, report=report)), thread=parent)
            self._status(run, parent, f"Ended *{ending.state}*: {ending.detail}")
            with self._lock:
                self._parents.pop(run.flow_run_id, None)
                self._told = {t for t in self._told if t[0] != run.flow_run_id}

        self._later(run, "tell the outcome", tell)

    def wait(self, flow_run_id: str, timeout: float) -> bool:
        """Wait until what was given for the run went out (or failed); whether it did."""
        return self._lanes.wait(flow_run_id, timeout)

    def _parent(self, run: RunSubject, *, status: str) -> tuple[MessageRef, bool]:
        """The run's parent message, posted now (with ``status``) if it has none; and whether
        it was posted now."""
        with self._parent_lock:
            known = self._known_parent(run)
            if known is not None:
                return known, False
            posted = self._channel.post(*parent_blocks(self._parent_message(run, status)))
            kept, first = keep_once(
                UUID(run.flow_run_id),
                THREAD_KEY,
                json.dumps({"channel": posted.channel, "ts": posted.ts}),
            )
            if not first:  # another engine opened the thread at the same moment: use its
                self._channel.delete(posted)
            ref = _ref(kept)
            self._parents[run.flow_run_id] = ref
            return ref, first

    def _known_parent(self, run: RunSubject) -> MessageRef | None:
        known = self._parents.get(run.flow_run_id)
        if known is None:
            kept = read_kept(UUID(run.flow_run_id), THREAD_KEY)
            if kept is not None:
                known = self._parents[run.flow_run_id] = _ref(kept)
        return known

    def _parent_message(self, run: RunSubject, status: str) -> ParentMessage:
        return ParentMessage(
            title=run.title,
            status=status,
            run_url=run_url(self._ui_url, run.flow_run_id),
            report_url=report_url(self._ui_url, run.report_key),
        )

    def _status(self, run: RunSubject, parent: MessageRef, status: str) -> None:
        self._channel.update(parent, *parent_blocks(self._parent_message(run, status)))

    def _later(self, run: RunSubject, what: str, job: Callable[[], None]) -> None:
        def quietly() -> None:
            try:
                job()
            except (SlackError, httpx.HTTPError) as error:
                self._failed(run, what, error)

        self._lanes.submit(run.flow_run_id, quietly)

    def _failed(self, run: RunSubject, what: str, error: Exception) -> None:
        # Once per run and failure: a channel Slack refuses would otherwise log every line.
        seen = (run.flow_run_id, type(error).__name__ + str(error))
        with self._lock:
            if seen in self._logged:
                return
            self._logged.add(seen)
        fix = "" if isinstance(error, SlackError) else " (Prefect could not be read or written)"
        logger.error(
            "Slack thread of flow run %s: could not %s: %s%s; the run goes on without it",
            run.flow_run_id,
            what,
            error,
            fix,
        )


def _still_asking(flow_run_id: UUID, request: ApprovalRequest) -> bool:
    """Whether the run still waits for `request`: not answered, and still paused."""
    if read_kept(flow_run_id, decided_key(request.gate)) is not None:
        return False
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run_id).state
    return state is not None and state.type is StateType.PAUSED


def _ref(kept: str) -> MessageRef:
    where = json.loads(kept)
    return MessageRef(channel=str(where["channel"]), ts=str(where["ts"]))
