"""What an answer says to people in Slack: who, when, with what outcome (pure).

People are mentions (``<@U123>``) when Slack knows them, times are Slack dates shown in each
reader's time zone; nothing carries microseconds.
"""

from __future__ import annotations

from flows.approval.models import (
    ENGINE_ANSWERER,
    ApprovalAnswer,
    ApprovalRequest,
    ApprovalRules,
    Channel,
    Decision,
)
from integrations.slack import group_mention, mention, slack_date

#: What the engine writes as the reason of a Slack press: not worth repeating.
SLACK_REASON = "answered in Slack"


def who(answer: ApprovalAnswer) -> str:
    """Who answered: Slack mentions, else the name the form gave and where."""
    if answer.answerers:
        return " and ".join(mention(user) for user in answer.answerers)
    if answer.channel is Channel.PREFECT_UI:
        return f"{answer.by} (Prefect UI)"
    return answer.by


def decision_text(request: ApprovalRequest, answer: ApprovalAnswer) -> str:
    """The answer in one line: ``Approved by <@U123> at <date>``, ``Withdrawn at <date>: ...``."""
    at = slack_date(answer.decided_at)
    why = f": {answer.reason}" if answer.reason and answer.reason != SLACK_REASON else ""
    if answer.decision is Decision.TIMED_OUT:
        text = f"Not answered by {slack_date(request.deadline)}: rejected by default"
        if answer.late_by:
            text += f"; a late answer from {answer.late_by} at {at} was refused"
        return text
    if answer.decision is Decision.WITHDRAWN:
        return f"Withdrawn at {at}: {answer.reason or 'the alert resolved'}"
    if answer.decision is Decision.APPROVED:
        return f"Approved by {who(answer)} at {at}{why}"
    if answer.by == ENGINE_ANSWERER:
        return f"Refused at {at}{why}"
    return f"Rejected by {who(answer)} at {at}{why}"


def already_text(request: ApprovalRequest, answer: ApprovalAnswer) -> str:
    """What a late, repeated or second press is told: the answer that stands."""
    text = decision_text(request, answer)
    lead = "Already over: " if answer.decision is Decision.TIMED_OUT else "Already "
    return f"{lead}{text[0].lower()}{text[1:]}. Your press changed nothing."


def approvers_text(rules: ApprovalRules, *, default: tuple[str, ...] = ()) -> str:
    """Who may answer, as mentions: the runbook's approvers, else ``default`` (the engine's)."""
    users, groups = rules.approvers, rules.approver_groups
    if not rules.names_approvers:
        users = tuple(i for i in default if not i.startswith("S"))
        groups = tuple(i for i in default if i.startswith("S"))
    named = [mention(u) for u in users] + [f"members of {group_mention(g)}" for g in groups]
    return ", ".join(named) if named else "anyone who can see this message"
