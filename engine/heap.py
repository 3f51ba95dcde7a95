"""The engine process's heap: what start-up built is kept out of the collector's full passes."""

from __future__ import annotations

import gc


def settle_heap() -> int:
    """Collect once, then freeze every object left (call once the engine is assembled).

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
    return gc.get_freeze_count()
