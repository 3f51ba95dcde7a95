"""RFC 6902 JSON patch, checked against the RFC's appendix examples."""

from __future__ import annotations

from typing import Any

import pytest

from simcluster.json_patch import JsonPatchError, apply_json_patch, json_equal

# RFC 6902 appendix A: (section, document, patch, expected result)
APPENDIX_SUCCESSES: list[tuple[str, Any, list[dict[str, Any]], Any]] = [
    (
        "A.1 adding an object member",
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux"}],
        {"baz": "qux", "foo": "bar"},
    ),
    (
        "A.2 adding an array element",
        {"foo": ["bar", "baz"]},
        [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]},
    ),
    (
        "A.3 removing an object member",
        {"baz": "qux", "foo": "bar"},
        [{"op": "remove", "path": "/baz"}],
        {"foo": "bar"},
    ),
    (
        "A.4 removing an array element",
        {"foo": ["bar", "qux", "baz"]},
        [{"op": "remove", "path": "/foo/1"}],
        {"foo": ["bar", "baz"]},
    ),
    (
        "A.5 replacing a value",
        {"baz": "qux", "foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"},
    ),
    (
        "A.6 moving a value",
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
    ),
    (
        "A.7 moving an array element",
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]},
    ),
    (
        "A.8 testing a value: success",
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [
            {"op": "test", "path": "/baz", "value": "qux"},
            {"op": "test", "path": "/foo/1", "value": 2},
        ],
        {"baz": "qux", "foo": ["a", 2, "c"]},
    ),
    (
        "A.10 adding a nested member object",
        {"foo": "bar"},
        [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}},
    ),
    (
        "A.11 ignoring unrecognized elements",
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}],
        {"foo": "bar", "baz": "qux"},
    ),
    (
        "A.14 ~ escape ordering",
        {"/": 9, "~1": 10},
        [{"op": "test", "path": "/~01", "value": 10}],
        {"/": 9, "~1": 10},
    ),
    (
        "A.16 adding an array value",
        {"foo": ["bar"]},
        [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]},
    ),
    (
        "copying a value leaves the source in place",
        {"a": {"b": [1]}},
        [{"op": "copy", "from": "/a", "path": "/c"}],
        {"a": {"b": [1]}, "c": {"b": [1]}},
    ),
    (
        "~1 in a key addresses a slash",
        {"metadata": {"annotations": {"example.com/owner": "a"}}},
        [{"op": "replace", "path": "/metadata/annotations/example.com~1owner", "value": "b"}],
        {"metadata": {"annotations": {"example.com/owner": "b"}}},
    ),
    (
        "an empty path replaces the whole document",
        {"a": 1},
        [{"op": "replace", "path": "", "value": {"b": 2}}],
        {"b": 2},
    ),
]

APPENDIX_FAILURES: list[tuple[str, Any, list[dict[str, Any]]]] = [
    (
        "A.9 testing a value: error",
        {"baz": "qux"},
        [{"op": "test", "path": "/baz", "value": "bar"}],
    ),
    (
        "A.12 adding to a nonexistent target",
        {"foo": "bar"},
        [{"op": "add", "path": "/baz/bat", "value": "qux"}],
    ),
    (
        "A.15 comparing strings and numbers",
        {"/": 9, "~1": 10},
        [{"op": "test", "path": "/~01", "value": "10"}],
    ),
    ("removing a missing member", {"a": 1}, [{"op": "remove", "path": "/b"}]),
    ("replacing a missing member", {"a": 1}, [{"op": "replace", "path": "/b", "value": 2}]),
    ("an index past the end", {"a": [1]}, [{"op": "add", "path": "/a/2", "value": 2}]),
    ("an index with a leading zero", {"a": [1, 2]}, [{"op": "remove", "path": "/a/01"}]),
    ("a negative index", {"a": [1, 2]}, [{"op": "remove", "path": "/a/-1"}]),
    (
        "moving a value into its own child",
        {"a": {"b": 1}},
        [{"op": "move", "from": "/a", "path": "/a/c"}],
    ),
    ("an unknown operation", {"a": 1}, [{"op": "frobnicate", "path": "/a"}]),
    ("an operation without a path", {"a": 1}, [{"op": "remove"}]),
    ("an add without a value", {"a": 1}, [{"op": "add", "path": "/b"}]),
    ("a pointer without a leading slash", {"a": 1}, [{"op": "remove", "path": "a"}]),
    ("true is not 1", {"a": 1}, [{"op": "test", "path": "/a", "value": True}]),
]


@pytest.mark.parametrize(
    ("document", "patch", "expected"),
    [case[1:] for case in APPENDIX_SUCCESSES],
    ids=[case[0] for case in APPENDIX_SUCCESSES],
)
def test_rfc6902_example_applies(document: Any, patch: list[dict[str, Any]], expected: Any) -> None:
    assert apply_json_patch(document, patch) == expected


@pytest.mark.parametrize(
    ("document", "patch"),
    [case[1:] for case in APPENDIX_FAILURES],
    ids=[case[0] for case in APPENDIX_FAILURES],
)
def test_rfc6902_example_is_refused(document: Any, patch: list[dict[str, Any]]) -> None:
    with pytest.raises(JsonPatchError):
        apply_json_patch(document, patch)


def test_a_failing_operation_leaves_the_document_as_it_was() -> None:
    document = {"items": [1, 2]}
    patch = [
        {"op": "add", "path": "/items/-", "value": 3},
        {"op": "test", "path": "/items/0", "value": 9},
    ]
    with pytest.raises(JsonPatchError, match="testing value /items/0 failed"):
        apply_json_patch(document, patch)
    assert document == {"items": [1, 2]}


def test_added_values_are_not_shared_with_the_patch() -> None:
    value: dict[str, Any] = {"x": []}
    result = apply_json_patch({}, [{"op": "add", "path": "/v", "value": value}])
    result["v"]["x"].append(1)
    assert value == {"x": []}


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        ({"a": [1, "b"]}, {"a": [1, "b"]}, True),
        ({"a": 1}, {"a": 1, "b": None}, False),
        ([1, 2], [2, 1], False),
        (None, None, True),
        ("1", 1, False),
    ],
)
def test_json_equality_follows_json_types(left: Any, right: Any, equal: bool) -> None:
    assert json_equal(left, right) is equal
