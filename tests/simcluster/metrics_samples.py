"""Reading an exposition back into series, with prometheus_client's parser (an independent one)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

import pytest
from prometheus_client.parser import text_string_to_metric_families

PROMTOOL_HINT = "promtool is not installed (apt-get install prometheus)"


@dataclass(frozen=True)
class Series:
    """One sample: its family's type, the sample's name, labels and value."""

    type: str
    name: str
    labels: dict[str, str]
    value: float


def parse(text: str) -> list[Series]:
    """Every sample of an exposition, in order."""
    return [
        Series(family.type, sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def named(text: str, name: str, **labels: str) -> list[Series]:
    """The samples called ``name`` whose labels include ``labels``."""
    return [
        s
        for s in parse(text)
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]


def value(text: str, name: str, **labels: str) -> float:
    """The one sample called ``name`` with ``labels``."""
    found = named(text, name, **labels)
    assert len(found) == 1, f"{name}{labels}: {found}"
    return found[0].value


def promtool_problems(text: str) -> list[str]:
    """What ``promtool check metrics`` says of an exposition (skips without promtool)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip(PROMTOOL_HINT)
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    said = (checked.stdout + checked.stderr).splitlines()
    problems = [line.strip() for line in said if line.strip()]
    assert checked.returncode == 0 or problems, f"promtool exited {checked.returncode}"
    return problems
