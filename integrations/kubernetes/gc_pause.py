"""Pausing the cyclic garbage collector while a large list response is decoded and parsed."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Keep the cyclic GC off inside the block (re-entrant and thread-safe).

    Decoding 5,000 pods allocates hundreds of thousands of acyclic dicts and lists; each
    allocation burst triggers collections that walk everything alive, which costs as much as
    the decoding itself. Reference counting still frees everything as usual meanwhile.
    """
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
