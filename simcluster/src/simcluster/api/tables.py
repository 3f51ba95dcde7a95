"""Server-side printing: the `Table` responses kubectl asks for, with the apiserver's columns."""

from __future__ import annotations

from datetime import datetime

import orjson

from simcluster.api.printers import PRINTERS, Cell, Column, Obj, Printer, Since
from simcluster.resources import ResourceType


def wants_table(accept: str | None) -> bool:
    """Tell whether the ``Accept`` header asks for a ``meta.k8s.io`` Table (as kubectl get does)."""
    return accept is not None and "as=Table" in accept and "g=meta.k8s.io" in accept


def human_duration(seconds: float) -> str:
    """An age as the apiserver prints it (``duration.HumanDuration``): 45s, 3m20s, 5h, 12d."""
    s = int(seconds)
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 730:
        return f"{days}d"
    return f"{days // 365}y{days % 365}d" if days < 2920 and days % 365 else f"{days // 365}y"


def _since(now: datetime) -> Since:
    """How old a timestamp is at ``now`` (``translateTimestampSince``); ``<unknown>`` if unset."""

    def since(stamp: object) -> str:
        if not stamp:
            return "<unknown>"
        then = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        return human_duration((now - then).total_seconds())

    return since


def _created_at(obj: Obj, since: Since) -> list[Cell]:
    del since
    return [obj["metadata"]["name"], str(obj["metadata"].get("creationTimestamp") or "")]


def _name_and_age(obj: Obj, since: Since) -> list[Cell]:
    return [obj["metadata"]["name"], since(obj["metadata"].get("creationTimestamp"))]


# Kinds without a printer of their own: the apiserver's default table (NAME, CREATED AT), and a
# CustomResourceDefinition's when it declares no additionalPrinterColumns (NAME, AGE).
_DEFAULT = Printer((Column("Name", format="name"), Column("Created At", "date")), _created_at)
_CUSTOM = Printer((Column("Name", format="name"), Column("Age", "date")), _name_and_age)


def printer_for(rt: ResourceType) -> Printer:
    """The columns kubectl gets for a type, and how each row is filled."""
    if rt.custom:
        return _CUSTOM
    return PRINTERS.get(rt.kind, _DEFAULT)


def table_body(
    rt: ResourceType, items: list[bytes], *, resource_version: int, now: datetime
) -> bytes:
    """Render objects as a ``meta.k8s.io/v1`` Table (columns as kubectl shows them).

    Args:
        rt: The listed type.
        items: Stored objects, serialized.
        resource_version: The list's revision.
        now: The time ages are measured to.
    """
    printer, since = printer_for(rt), _since(now)
    rows = []
    for raw in items:
        obj = orjson.loads(raw)
        rows.append(
            {
                "cells": printer.cells(obj, since),
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj["metadata"],
                },
            }
        )
    return orjson.dumps(
        {
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": str(resource_version)},
            "columnDefinitions": [
                {
                    "name": column.name,
                    "type": column.type,
                    "format": column.format,
                    "description": "",
                    "priority": column.priority,
                }
                for column in printer.columns
            ],
            "rows": rows,
        }
    )
