"""Duration strings such as "10m" or "1h30m", as Prometheus and Alertmanager write them."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(?:\d+[smhd])+")
_PART = re.compile(r"(\d+)([smhd])")

DURATION_PATTERN = r"^(?:\d+[smhd])+$"
"""The JSON Schema pattern of a duration string."""


def parse_duration(text: str) -> int:
    """Convert a duration string to whole seconds.

    Args:
        text: One or more ``<integer><unit>`` parts, unit one of s, m, h, d (e.g. ``"1h30m"``).

    Returns:
        The total number of seconds.

    Raises:
        ValueError: When the text is not a duration string.
    """
    if not _DURATION.fullmatch(text):
        raise ValueError(f"{text!r} is not a duration like '90s', '10m', '1h30m' or '1d'")
    return sum(int(amount) * _UNIT_SECONDS[unit] for amount, unit in _PART.findall(text))
