"""The text exposition format: values as Go prints them, escaped labels, cumulative histograms."""

from __future__ import annotations

import math

import pytest

from simcluster.metrics.exposition import Family, Histogram, format_value, render


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1, "1"),
        (1.0, "1"),
        (0.25, "0.25"),
        (1732557661.0148, "1732557661.0148"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
        (1e20, "1e+20"),
    ],
)
def test_values_are_printed_as_go_prints_them(value: float, text: str) -> None:
    assert format_value(value) == text


def test_label_values_and_help_are_escaped() -> None:
    family = Family("x_info", 'a "help"\\ with\nnewline', "gauge")
    family.add(1, path='C:\\dir\\"q"\nnext')
    assert render([family]) == (
        '# HELP x_info a "help"\\\\ with\\nnewline\n'
        "# TYPE x_info gauge\n"
        'x_info{path="C:\\\\dir\\\\\\"q\\"\\nnext"} 1\n'
    )


def test_a_family_without_series_is_left_out() -> None:
    empty = Family("nothing_here", "No series.", "gauge")
    one = Family("something", "One series.", "counter")
    one.add(3)
    assert render([empty, one]) == (
        "# HELP something One series.\n# TYPE something counter\nsomething 3\n"
    )


def test_a_histogram_counts_each_observation_into_every_bucket_it_fits() -> None:
    histogram = Histogram([0.5, 1, 2])
    for observed in (0.1, 0.5, 1.5, 3):
        histogram.observe(observed)
    assert render([histogram.family("h_seconds", "A histogram.")]).splitlines()[2:] == [
        'h_seconds_bucket{le="0.5"} 2',
        'h_seconds_bucket{le="1"} 2',
        'h_seconds_bucket{le="2"} 3',
        'h_seconds_bucket{le="+Inf"} 4',
        "h_seconds_sum 5.1",
        "h_seconds_count 4",
    ]
