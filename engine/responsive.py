"""The engine process tuned so its receiver answers promptly while flows run beside it.

Flows run on threads of the process that serves the webhook (`engine.execution`), so whatever
stops the receiver's event loop delays every acknowledgement: the collector's full passes over
the whole heap, and a flow thread holding the interpreter while the loop waits for its turn.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_SECONDS = 0.001
"""How long a busy flow thread keeps the interpreter while the event loop waits for it
(Python's default is 5 ms; an acknowledgement waits for it at each of its network round
trips)."""


def settle_for_serving() -> int:
    """Freeze what start-up built and shorten the threads' turns (call once assembled).

    What start-up builds (modules, Prefect's and our pydantic models, the catalog, clients)
    lives as long as the process, and a full collection walks all of it: in an alert storm
    each full pass stopped the receiver's event loop, and every flow thread with it, for
    190-290 ms (`bench/incident_storm.py`). Frozen, it is never walked again; what the engine
    builds later is collected as before.

    Returns:
        How many objects were frozen.
    """
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    return gc.get_freeze_count()
