"""Label and field selectors parse and match as the apiserver's do."""

from __future__ import annotations

import re

import pytest

from simcluster.selectors import (
    SelectorError,
    parse_field_selector,
    parse_label_selector,
    selector_from_match_labels,
)

WEB = {"app": "web", "tier": "frontend", "env": "prod"}
CANARY = {"app": "web", "tier": "frontend", "canary": "true"}
DB = {"app": "db"}


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("", WEB, True),
        ("app=web", WEB, True),
        ("app==web", WEB, True),
        ("app=db", WEB, False),
        ("app!=db", WEB, True),
        ("env!=prod", DB, True),  # != matches objects that lack the key
        ("tier in (frontend, backend)", WEB, True),
        ("tier in (backend)", WEB, False),
        ("tier notin (backend)", DB, True),
        ("tier notin (frontend)", WEB, False),
        ("canary", CANARY, True),
        ("canary", WEB, False),
        ("!canary", WEB, True),
        ("!canary", CANARY, False),
        ("app=web,!canary,tier in (frontend)", WEB, True),
        ("app=web,!canary,tier in (frontend)", CANARY, False),
        ("k8s-app=kube-proxy", {"k8s-app": "kube-proxy"}, True),
        ("kubernetes.io/service-name=web", {"kubernetes.io/service-name": "web"}, True),
        ("app=", {"app": ""}, True),
    ],
)
def test_label_selector_matches_like_the_apiserver(
    selector: str, labels: dict[str, str], expected: bool
) -> None:
    assert parse_label_selector(selector).matches(labels) is expected


@pytest.mark.parametrize(
    "selector",
    ["a=b=c", "app in (web", "app in web)", "=web", "app=-bad-", "tier in (a,)x"],
)
def test_malformed_label_selector_is_rejected_with_the_offending_text(selector: str) -> None:
    with pytest.raises(SelectorError) as error:
        parse_label_selector(selector)
    assert selector in str(error.value)


def test_service_selector_map_becomes_an_equality_selector() -> None:
    selector = selector_from_match_labels({"app": "web", "tier": "frontend"})
    assert selector.matches(WEB)
    assert not selector.matches(DB)
    assert selector.equality_pairs() == (("app", "web"), ("tier", "frontend"))


def test_empty_service_selector_map_matches_everything() -> None:
    assert selector_from_match_labels({}).matches(DB)


POD_FIELDS = {
    "metadata.name": "web-1",
    "metadata.namespace": "shop",
    "spec.nodeName": "node-2",
    "status.phase": "Running",
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("spec.nodeName=node-2", True),
        ("spec.nodeName==node-2", True),
        ("spec.nodeName=node-1", False),
        ("status.phase!=Running", False),
        ("status.phase!=Pending,metadata.namespace=shop", True),
        ("metadata.name=web-1,spec.nodeName=node-1", False),
    ],
)
def test_field_selector_matches_selectable_fields(selector: str, expected: bool) -> None:
    parsed = parse_field_selector(selector, supported=POD_FIELDS.__contains__)
    assert parsed.matches(POD_FIELDS) is expected


def test_field_selector_names_an_unsupported_field_like_the_apiserver() -> None:
    with pytest.raises(SelectorError, match=r'field label not supported: "spec\.hostname"'):
        parse_field_selector("spec.hostname=x", supported=POD_FIELDS.__contains__)


def test_field_selector_pins_a_value_for_index_lookups() -> None:
    parsed = parse_field_selector("spec.nodeName=node-3", supported=POD_FIELDS.__contains__)
    assert parsed.value_of("spec.nodeName") == "node-3"
    assert parsed.value_of("status.phase") is None


@pytest.mark.parametrize(
    ("selector", "says"),
    [
        ("app in (web", "unbalanced '('"),
        ("app=web)", "unbalanced ')'"),
        ("app=" + "x" * 64, "must be 63 characters or less"),
        ("app in (web, -bad)", "invalid label value '-bad'"),
        ("app web", "unable to parse requirement 'app web'"),
    ],
)
def test_a_malformed_label_selector_says_what_is_wrong(selector: str, says: str) -> None:
    with pytest.raises(SelectorError, match=re.escape(says)):
        parse_label_selector(selector)


@pytest.mark.parametrize(
    ("selector", "pairs"),
    [
        ("", ()),
        ("app=web", (("app", "web"),)),
        ("app==web,tier!=db,env in (prod),canary,!legacy", (("app", "web"),)),
    ],
)
def test_only_equalities_narrow_an_index_scan(
    selector: str, pairs: tuple[tuple[str, str], ...]
) -> None:
    assert parse_label_selector(selector).equality_pairs() == pairs


@pytest.mark.parametrize("selector", ["spec.nodeName", "spec.nodeName~node-1", "=node-1"])
def test_a_malformed_field_selector_is_rejected(selector: str) -> None:
    with pytest.raises(SelectorError, match="invalid selector"):
        parse_field_selector(selector, supported=POD_FIELDS.__contains__)


def test_a_blank_field_selector_selects_everything() -> None:
    for blank in (None, "", "  "):
        assert parse_field_selector(blank, supported=POD_FIELDS.__contains__).matches({})
