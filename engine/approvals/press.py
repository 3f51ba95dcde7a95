"""What a Slack press may do to the request it was posted for (pure; table-tested).

A press names a run, a gate and a request. It answers that request only if the request is the
one the run waits on now, nobody answered it yet, its deadline has not passed at this moment,
the presser may answer it, and its four-eyes rules hold; otherwise the presser is told, in
words, what stands instead. Nothing here reads or writes: the endpoint gathers the `Situation`
and carries out the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.approval import ApprovalAnswer, ApprovalRequest, Channel, Decision
from flows.approval.form import EngineAnswer, Vote
from flows.approval.wording import SLACK_REASON, already_text
from integrations.slack import ButtonPress, mention, slack_date

NOTHING_CHANGED = "Nothing was changed."


@dataclass(frozen=True, slots=True, kw_only=True)
class Situation:
    """What Prefect holds about the run and request a press names.

    Attributes:
        run_found: Whether the run exists.
        state_name: The run's state, as Prefect names it.
        paused_at: The gate the run waits at now, if it waits.
        running: Whether the run is Running (or Pending) rather than waiting or ended.
        request: The request the run keeps for the pressed gate, if any.
        answer: The answer that stands for it (as the run will read it), if any.
        first_vote: The first of two approvals, for a two-approver request.
    """

    run_found: bool
    state_name: str | None = None
    paused_at: str | None = None
    running: bool = False
    request: ApprovalRequest | None = None
    answer: ApprovalAnswer | None = None
    first_vote: Vote | None = None


@dataclass(frozen=True, slots=True)
class Allowed:
    """Who may answer: Slack user IDs (None: anyone who can see the message), in words."""

    members: frozenset[str] | None
    named: str


@dataclass(frozen=True, slots=True)
class Refuse:
    """Answer nothing; tell the presser ``text``."""

    text: str


@dataclass(frozen=True, slots=True)
class Resume:
    """Resume the run with ``answer``."""

    answer: EngineAnswer


@dataclass(frozen=True, slots=True)
class FirstApproval:
    """Keep ``vote`` as the first of two approvals; the run waits for a second approver."""

    vote: Vote


Verdict = Refuse | Resume | FirstApproval


def who_pressed(press: ButtonPress) -> str:
    """The presser as the report shows them."""
    return f"{press.user_name} (Slack {press.user_id})"


def judge_press(
    press: ButtonPress, situation: Situation, *, now: datetime, allowed: Allowed
) -> Verdict:
    """What ``press`` does, given ``situation`` at ``now`` and who is ``allowed`` to answer."""
    if not situation.run_found:
        return Refuse(
            f"This request's run no longer exists in Prefect (it was deleted). {NOTHING_CHANGED}"
        )
    request = situation.request
    if request is None:
        return Refuse(
            f"The run has no approval request `{press.gate}`: this message is not one it "
            f"waits on. {NOTHING_CHANGED}"
        )
    if press.request_id != request.request_id:
        return Refuse(stale_text(request))
    if situation.answer is not None:
        return Refuse(already_text(request, situation.answer))
    if now > request.deadline:
        return Refuse(
            f"This request expired at {slack_date(request.deadline)}: no answer by then "
            f"counts as a rejection. {NOTHING_CHANGED}"
        )
    if situation.paused_at is None and situation.running:
        # Posted a moment before the run suspends (or a run re-running to this request).
        return Refuse(f"The run is not waiting yet; press again in a moment. {NOTHING_CHANGED}")
    if situation.paused_at != request.gate:
        state = situation.state_name or "not waiting"
        return Refuse(
            f"The run no longer waits for this request (it is {state}). {NOTHING_CHANGED}"
        )
    if allowed.members is not None and press.user_id not in allowed.members:
        return Refuse(
            f"You are not one of this request's approvers ({allowed.named}). {NOTHING_CHANGED}"
        )
    return _decide(press, request, first_vote=situation.first_vote, now=now)


def _decide(
    press: ButtonPress, request: ApprovalRequest, *, first_vote: Vote | None, now: datetime
) -> Verdict:
    by = who_pressed(press)
    if not press.approve:
        return Resume(_answer(request, Decision.REJECTED, by, (press.user_id,), now=now))
    rules = request.rules
    if rules.not_the_starter and rules.started_by in (press.user_id, press.user_name):
        return Refuse(
            f"You started this run, so someone else must approve it (four-eyes). {NOTHING_CHANGED}"
        )
    if not rules.two_approvers:
        return Resume(_answer(request, Decision.APPROVED, by, (press.user_id,), now=now))
    if first_vote is None:
        return FirstApproval(Vote(user_id=press.user_id, by=by, at=now))
    if first_vote.user_id == press.user_id:
        return Refuse(
            "You approved already; a second, different person must approve too (four-eyes). "
            f"{NOTHING_CHANGED}"
        )
    return Resume(
        _answer(
            request,
            Decision.APPROVED,
            f"{first_vote.by} and {by}",
            (first_vote.user_id, press.user_id),
            now=now,
        )
    )


def _answer(
    request: ApprovalRequest,
    decision: Decision,
    by: str,
    answerers: tuple[str, ...],
    *,
    now: datetime,
) -> EngineAnswer:
    return EngineAnswer(
        request_id=request.request_id,
        decision=decision,
        by=by,
        answerers=answerers,
        reason=SLACK_REASON,
        channel=Channel.SLACK,
        answered_at=now,
    )


def stale_text(request: ApprovalRequest) -> str:
    """What a press on a button of another (earlier) request of the run is told."""
    return (
        "This button belongs to an earlier request of this run, which is over; the run's "
        f"current request was asked at {slack_date(request.requested_at)}. {NOTHING_CHANGED}"
    )


def first_approval_text(vote: Vote) -> str:
    """What the message says once the first of two approvals is in."""
    return (
        f"Approved by {mention(vote.user_id)} at {slack_date(vote.at)}; a second, different "
        "person must approve too (four-eyes)."
    )
