"""The approval gate shared by every flow: typed requests and answers, channels, durable waits."""

from flows.approval.gate import AlertEpisode, Approval, ApprovalGate
from flows.approval.models import (
    ENGINE_ANSWERER,
    ApprovalAnswer,
    ApprovalInput,
    ApprovalItem,
    ApprovalRequest,
    Channel,
    Decision,
    answer_from_input,
    render_request,
    timed_out_input,
    withdrawn_input,
)
from flows.approval.notifier import LogNotifier, Notifier
from flows.approval.store import keep_once, read_request

__all__ = [
    "ENGINE_ANSWERER",
    "AlertEpisode",
    "Approval",
    "ApprovalAnswer",
    "ApprovalGate",
    "ApprovalInput",
    "ApprovalItem",
    "ApprovalRequest",
    "Channel",
    "Decision",
    "LogNotifier",
    "Notifier",
    "answer_from_input",
    "keep_once",
    "read_request",
    "render_request",
    "timed_out_input",
    "withdrawn_input",
]
