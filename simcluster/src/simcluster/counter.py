"""Counts the API requests the simulated cluster served, by Kubernetes verb and resource."""

from __future__ import annotations

import threading
from collections import Counter


class RequestCounter:
    """A thread-safe tally of API requests keyed by ``(verb, resource)``.

    Verbs are Kubernetes verbs (get, list, watch, create, update, patch, delete,
    deletecollection); the resource is the plural name, or ``plural/subresource``.
    """

    def __init__(self) -> None:
        """Create an empty counter."""
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def record(self, verb: str, resource: str) -> None:
        """Count one request."""
        with self._lock:
            self._counts[(verb, resource)] += 1

    def snapshot(self) -> dict[tuple[str, str], int]:
        """A copy of every count so far."""
        with self._lock:
            return dict(self._counts)

    def total(self, *, verb: str | None = None, resource: str | None = None) -> int:
        """Sum the requests matching a verb and/or resource (None matches any)."""
        with self._lock:
            return sum(
                n
                for (v, r), n in self._counts.items()
                if (verb is None or v == verb) and (resource is None or r == resource)
            )

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._counts.clear()
