"""Key templates and duration strings."""

from __future__ import annotations

import pytest

from runbooks.durations import parse_duration
from runbooks.templates import render_template, template_fields


@pytest.mark.parametrize(
    ("template", "fields"),
    [
        ("{namespace}/{service}", ("namespace", "service")),
        ("kube-proxy", ()),
        ("{a}-{b}-{a}", ("a", "b")),
        ("{{literal}}/{a}", ("a",)),
    ],
)
def test_template_fields_are_listed_once_in_order(template: str, fields: tuple[str, ...]) -> None:
    assert template_fields(template) == fields


@pytest.mark.parametrize(
    "template", ["{namespace", "{0}", "{a.b}", "{a[0]}", "{a!r}", "{a:>10}", "{}", "}"]
)
def test_only_plain_named_fields_are_accepted(template: str) -> None:
    with pytest.raises(ValueError, match="template"):
        template_fields(template)


def test_rendering_fills_fields_with_parameter_values() -> None:
    assert (
        render_template(
            "{namespace}/{service}:{port}", {"namespace": "prod", "service": "a", "port": 80}
        )
        == "prod/a:80"
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("10m", 600), ("1h30m", 5400), ("1d", 86400), ("2h0m5s", 7205)],
)
def test_durations_convert_to_seconds(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "10 m", "1.5h", "m10", "10ms", "-5m"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)
