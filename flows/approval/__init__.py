"""The approval gate shared by every flow; this package's own names are its pure vocabulary.

The gate (`flows.approval.gate`), the answer form (`.form`), the channels (`.notifier`,
`.slack`) and the durable store (`.store`) use Prefect and are imported from their modules, so
that a pure module can speak of approvals without loading Prefect.
"""

from flows.approval.models import (
    ENGINE_ANSWERER,
    Approval,
    ApprovalAnswer,
    ApprovalItem,
    ApprovalRequest,
    ApprovalRules,
    Channel,
    Coverage,
    Decision,
    RunEnding,
    RunSubject,
    StepNote,
    StepStatus,
    answer_line,
    clock_time,
    render_request,
)

__all__ = [
    "ENGINE_ANSWERER",
    "Approval",
    "ApprovalAnswer",
    "ApprovalItem",
    "ApprovalRequest",
    "ApprovalRules",
    "Channel",
    "Coverage",
    "Decision",
    "RunEnding",
    "RunSubject",
    "StepNote",
    "StepStatus",
    "answer_line",
    "clock_time",
    "render_request",
]
