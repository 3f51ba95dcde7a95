"""Schema rules that hold for any runbook: approval defaults, guards, and the catalog's names."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from runbooks.approval import ActionKind, ApprovalMode, ApprovalPolicy
from runbooks.registry import Catalog
from tests.runbooks.builders import catalog, runbook


@pytest.mark.parametrize(
    ("action", "mode"),
    [
        (ActionKind.DIAGNOSE, ApprovalMode.AUTO),
        (ActionKind.RESTART_KUBE_PROXY_POD, ApprovalMode.REQUIRED),
        (ActionKind.ROLLBACK_KUBE_PROXY, ApprovalMode.REQUIRED),
        (ActionKind.DELETE_STALE_CONNTRACK, ApprovalMode.REQUIRED),
        (ActionKind.FLUSH_CONNTRACK, ApprovalMode.REQUIRED),
    ],
)
def test_unlisted_actions_need_approval_unless_read_only(
    action: ActionKind, mode: ApprovalMode
) -> None:
    assert ApprovalPolicy().mode_for(action) is mode


RESTART = ActionKind.RESTART_KUBE_PROXY_POD


@pytest.mark.parametrize(
    ("policy", "action", "drill", "mode"),
    [
        ({"actions": {"restart_kube_proxy_pod": "auto"}}, RESTART, False, ApprovalMode.AUTO),
        ({"actions": {"diagnose": "required"}}, ActionKind.DIAGNOSE, False, ApprovalMode.REQUIRED),
        ({"auto_approve_for_drills": True}, RESTART, True, ApprovalMode.AUTO),
        ({"auto_approve_for_drills": True}, RESTART, False, ApprovalMode.REQUIRED),
        ({"auto_approve_for_drills": False}, RESTART, True, ApprovalMode.REQUIRED),
        (
            {"auto_approve_for_drills": True},
            ActionKind.FLUSH_CONNTRACK,
            True,
            ApprovalMode.REQUIRED,
        ),
    ],
)
def test_listed_modes_and_drills_override_the_defaults(
    policy: dict[str, object], action: ActionKind, drill: bool, mode: ApprovalMode
) -> None:
    approval = ApprovalPolicy.model_validate(policy)

    assert approval.mode_for(action, drill=drill) is mode


def test_a_full_conntrack_flush_can_never_be_set_to_auto() -> None:
    with pytest.raises(ValidationError, match="flush_conntrack cannot be auto"):
        ApprovalPolicy.model_validate({"actions": {"flush_conntrack": "auto"}})


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"unknown": 1}, "Extra inputs are not permitted"),
        ({"match": {}}, "match has no condition"),
        ({"statuses": []}, "at least 1 item"),
        ({"parameters": {"x": None}}, "neither a constant nor a mapping"),
        ({"parameters": {"x": {"value": None}}}, "value is null"),
        ({"parameters": {"x": {"value": 1, "from_label": "a"}}}, "both value and from_label"),
        ({"parameters": {"x": {"value": 1, "default": "a"}}}, "only apply to from_label"),
        (
            {
                "parameters": {"ns": {"from_label": "namespace", "required": False}},
                "concurrency_key": "{ns}",
            },
            "may be absent",
        ),
        ({"concurrency_key": "{namespace"}, "malformed"),
        ({"deployment": "service-checklist"}, "deployment 'service-checklist' is not valid"),
    ],
)
def test_invalid_runbooks_are_refused(fields: dict[str, object], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        runbook(**fields)


def test_runbooks_are_immutable() -> None:
    book = runbook()

    with pytest.raises(ValidationError, match="frozen"):
        book.name = "other"  # type: ignore[misc]  # the assignment itself is what is tested


def test_a_catalog_refuses_two_runbooks_with_one_name() -> None:
    with pytest.raises(ValueError, match="'service-down' is used twice"):
        catalog(runbook(), runbook())


def test_a_catalog_finds_runbooks_by_name_and_names_the_known_ones_otherwise() -> None:
    books = Catalog((runbook(), runbook(name="other")))

    assert books.get("other").name == "other"
    assert "service-down" in books
    assert len(books) == 2
    with pytest.raises(KeyError, match="known: service-down, other"):
        books.get("missing")
