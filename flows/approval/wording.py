"""What a run's Slack thread says to people: the request, who answered and when, each step, the
outcome (pure).

People are mentions (``<@U123>``) when Slack knows them, times are Slack dates shown in each
reader's time zone; nothing carries microseconds.
"""

from __future__ import annotations

import re

from flows.approval.models import (
    ENGINE_ANSWERER,
    ApprovalAnswer,
    ApprovalRequest,
    ApprovalRules,
    Channel,
    Decision,
    RunEnding,
    StepNote,
    StepStatus,
)
from integrations.slack import ApprovalMessage, MessageItem, group_mention, mention, slack_date
from runbooks.approval import SLACK_USER_PATTERN

#: What the engine writes as the reason of a Slack press: not worth repeating.
SLACK_REASON = "answered in Slack"

#: A thread line's mark: a skipped step changed and verified nothing, so it must not look done.
STEP_MARKS = {
    StepStatus.DONE: ":white_check_mark:",
    StepStatus.SKIPPED: ":fast_forward:",
    StepStatus.FAILED: ":x:",
}


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


def run_url(ui_url: str | None, flow_run_id: str) -> str | None:
    """The run's page in the Prefect UI."""
    return f"{ui_url.rstrip('/')}/runs/flow-run/{flow_run_id}" if ui_url else None


def report_url(ui_url: str | None, report_key: str) -> str | None:
    """The latest version of the run's report in the Prefect UI."""
    return f"{ui_url.rstrip('/')}/artifacts/key/{report_key}" if ui_url else None


def rules_lines(request: ApprovalRequest, *, default_approvers: tuple[str, ...] = ()) -> list[str]:
    """Who may answer ``request``, and its four-eyes rules, as the message says them."""
    rules = request.rules
    lines = [f"Who may answer: {approvers_text(rules, default=default_approvers)}."]
    if rules.two_approvers:
        lines.append("Two different people must approve (four-eyes).")
    if rules.not_the_starter and rules.started_by:
        starter = rules.started_by
        shown = mention(starter) if re.fullmatch(SLACK_USER_PATTERN, starter) else starter
        lines.append(f"{shown} started this run and may not approve it (four-eyes).")
    return lines


def approval_message(
    request: ApprovalRequest, *, ui_url: str | None, default_approvers: tuple[str, ...] = ()
) -> ApprovalMessage:
    """The Slack message for `request`."""
    context = None
    if request.alertname or request.alert_fingerprint:
        context = f"Alert *{request.alertname or '-'}* (`{request.alert_fingerprint or '-'}`)"
    return ApprovalMessage(
        run_id=request.flow_run_id,
        gate=request.gate,
        request_id=request.request_id,
        title=request.title,
        items=tuple(
            MessageItem(item.description, item.blast_radius, tuple(item.diff))
            for item in request.items
        ),
        deadline=request.deadline,
        notes=(*(request.coverage.lines() if request.coverage else ()), *request.notes),
        rules=tuple(rules_lines(request, default_approvers=default_approvers)),
        context=context,
        run_url=run_url(ui_url, request.flow_run_id),
    )


def step_line(step: StepNote) -> str:
    """A step as its thread line."""
    return f"{STEP_MARKS[step.status]} {step.text}"


def ending_line(ending: RunEnding, *, report: str | None) -> str:
    """The outcome as the thread's last line."""
    mark = ":white_check_mark:" if ending.ok else ":warning:"
    link = f" <{report}|Report>" if report else ""
    return f"{mark} Ended *{ending.state}* at {slack_date(ending.at)}: {ending.detail}.{link}"
