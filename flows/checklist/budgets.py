"""Per-run budgets: how many pods a run may restart."""

from __future__ import annotations

import math
from decimal import Decimal


def restart_budget(total: int, fraction: float) -> int:
    """``floor(total * fraction)``, but at least 1: a run may always restart one pod.

    Decimal arithmetic keeps ``0.29 * 100`` at 29 rather than 28.999...
    """
    return max(1, math.floor(Decimal(str(fraction)) * total))
