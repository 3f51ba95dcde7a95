"""Names and hashes the way Kubernetes generates them (random suffixes, safe-encoded hashes)."""

from __future__ import annotations

import random
from collections.abc import Callable

import orjson

SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def random_suffix(rng: random.Random, length: int = 5) -> str:
    """A suffix like the apiserver's ``generateName`` (no vowels, no look-alike digits)."""
    return "".join(rng.choice(SUFFIX_ALPHABET) for _ in range(length))


def unique_name(prefix: str, rng: random.Random, taken: Callable[[str], bool]) -> str:
    """``prefix`` plus a random five-character suffix not yet taken."""
    while True:
        name = prefix + random_suffix(rng)
        if not taken(name):
            return name


def fnv32a(data: bytes) -> int:
    """The 32-bit FNV-1a hash Kubernetes uses for template hashes."""
    value = 0x811C9DC5
    for byte in data:
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """Kubernetes' ``rand.SafeEncodeString``: map each byte onto the suffix alphabet."""
    return "".join(SUFFIX_ALPHABET[ord(ch) % len(SUFFIX_ALPHABET)] for ch in text)


def template_hash(template: object) -> str:
    """The hash naming a pod template (``pod-template-hash``, ``controller-revision-hash``)."""
    return safe_encode(str(fnv32a(orjson.dumps(template, option=orjson.OPT_SORT_KEYS))))
