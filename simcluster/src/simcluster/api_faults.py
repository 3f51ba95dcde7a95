"""Injected API-level faults: latency, throttling (429) and server errors (500)."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from simcluster.errors import ApiError, InternalError, TooManyRequestsError


@dataclass
class ApiFaults:
    """Faults the simulated apiserver injects into matching API requests.

    Discovery, ``/version`` and the ``/simcluster`` admin routes are never affected. The fields
    may be changed at any time; the next request sees the new values.

    Attributes:
        latency_seconds: Delay added before each matching request is served.
        throttle_rate: Fraction (0..1) of matching requests answered 429 with ``Retry-After``.
        error_rate: Fraction (0..1) of matching requests answered 500.
        verbs: Kubernetes verbs affected; None for all.
        resources: Resources affected, e.g. ``pods`` (which also covers ``pods/log``) or
            ``pods/exec`` (only that subresource); None for all.
        seed: Seed of the random draws, for reproducible runs; None for a random seed.
        retry_after_seconds: What a throttled response tells the client to wait.
    """

    latency_seconds: float = 0.0
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    verbs: frozenset[str] | None = None
    resources: frozenset[str] | None = None
    seed: int | None = None
    retry_after_seconds: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _rng: random.Random = field(init=False, repr=False)
    _rng_seed: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._rng_seed = self.seed

    def applies_to(self, verb: str, resource: str) -> bool:
        """Tell whether a request with this verb and resource is subject to the faults."""
        if self.verbs is not None and verb not in self.verbs:
            return False
        if self.resources is None:
            return True
        return resource in self.resources or resource.split("/", 1)[0] in self.resources

    def delay_for(self, verb: str, resource: str) -> float:
        """The latency to add to a request (0 when it is not affected)."""
        return self.latency_seconds if self.applies_to(verb, resource) else 0.0

    def draw(self, verb: str, resource: str) -> ApiError | None:
        """Decide whether this request fails, and how.

        Returns:
            A `TooManyRequestsError` or `InternalError` to answer with, or None to serve it.
        """
        if not self.applies_to(verb, resource) or (
            self.throttle_rate <= 0 and self.error_rate <= 0
        ):
            return None
        with self._lock:
            if self.seed != self._rng_seed:
                self._rng = random.Random(self.seed)
                self._rng_seed = self.seed
            roll = self._rng.random()
        if roll < self.throttle_rate:
            return TooManyRequestsError(
                "the server has received too many requests and has asked us to try again later",
                retry_after_seconds=self.retry_after_seconds,
            )
        if roll < self.throttle_rate + self.error_rate:
            return InternalError(f"Internal error occurred: injected fault on {verb} {resource}")
        return None

    def clear(self) -> None:
        """Remove every fault (keeps the seed)."""
        self.latency_seconds = 0.0
        self.throttle_rate = 0.0
        self.error_rate = 0.0
        self.verbs = None
        self.resources = None
