"""Alertmanager's alert fingerprint: the FNV-1a 64-bit hash of the sorted label set."""

from __future__ import annotations

from collections.abc import Mapping

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK = 0xFFFFFFFFFFFFFFFF
# Prometheus' model.SeparatorByte: never valid UTF-8, so "a"+"bc" and "ab"+"c" hash apart.
_SEPARATOR = b"\xff"


def fingerprint_labels(labels: Mapping[str, str]) -> str:
    """Compute the fingerprint Alertmanager gives an alert with these labels.

    Same algorithm as Prometheus' ``model.LabelSet.Fingerprint``, so an alert built by
    ``runbooks fire`` carries the fingerprint Alertmanager would have sent for it.

    Returns:
        16 lowercase hex digits.
    """
    value = _FNV_OFFSET
    for name in sorted(labels):
        for chunk in (name.encode(), _SEPARATOR, labels[name].encode(), _SEPARATOR):
            for byte in chunk:
                value = ((value ^ byte) * _FNV_PRIME) & _MASK
    return f"{value:016x}"
