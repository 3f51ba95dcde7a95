"""The Prometheus text exposition format (0.0.4): metric families, histograms, rendering."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

MetricType = Literal["counter", "gauge", "histogram"]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Sample:
    """One line: a series (name and labels) and its value."""

    name: str
    labels: Labels
    value: float


@dataclass
class Family:
    """A metric family: its HELP and TYPE header and the samples of its series.

    Args:
        name: The family's name (for a histogram, the stem of ``_bucket``, ``_sum``, ``_count``).
        help: The HELP text.
        type: counter, gauge or histogram.
    """

    name: str
    help: str
    type: MetricType
    samples: list[Sample] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> None:
        """Add one series of this family (label order is kept)."""
        self.samples.append(Sample(self.name, tuple(labels.items()), value))


class Histogram:
    """Cumulative buckets, sum and count of observations, as client_golang keeps them.

    Args:
        buckets: The upper bounds, ascending (``+Inf`` is added).
    """

    def __init__(self, buckets: Sequence[float]) -> None:
        self.buckets = tuple(buckets)
        self._counts = [0] * len(self.buckets)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        """Count one observation into every bucket it fits."""
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                self._counts[index] += 1
        self.sum += value
        self.count += 1

    def family(self, name: str, help: str) -> Family:
        """The histogram as a family: ``_bucket`` per bound, then ``_sum`` and ``_count``."""
        samples = [
            Sample(f"{name}_bucket", (("le", format_value(bound)),), count)
            for bound, count in zip(self.buckets, self._counts, strict=True)
        ]
        samples += [
            Sample(f"{name}_bucket", (("le", "+Inf"),), self.count),
            Sample(f"{name}_sum", (), self.sum),
            Sample(f"{name}_count", (), self.count),
        ]
        return Family(name, help, "histogram", samples)


def linear_buckets(start: float, width: float, count: int) -> list[float]:
    """client_golang's ``LinearBuckets``."""
    return [_tidy(start + width * i) for i in range(count)]


def exponential_buckets(start: float, factor: float, count: int) -> list[float]:
    """client_golang's ``ExponentialBuckets``."""
    return [_tidy(start * factor**i) for i in range(count)]


def _tidy(bound: float) -> float:
    # Go prints its bucket bounds exactly (0.001*2^3 is "0.008"); floating error must not show.
    return round(bound, 9)


def format_value(value: float) -> str:
    """A sample value or ``le`` bound as Go prints it: integers bare, ``+Inf``, ``NaN``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def render(families: Iterable[Family]) -> str:
    """The exposition text of ``families``; a family without series is left out entirely."""
    lines: list[str] = []
    for family in families:
        if not family.samples:
            continue
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.type}")
        for sample in family.samples:
            labels = ",".join(f'{k}="{_escape_label(v)}"' for k, v in sample.labels)
            series = f"{sample.name}{{{labels}}}" if labels else sample.name
            lines.append(f"{series} {format_value(sample.value)}")
    return "".join(line + "\n" for line in lines)
