"""The loaded catalog: runbooks by name, split into alert-driven and manual ones."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from runbooks.model import Runbook


@dataclass(frozen=True, slots=True)
class Catalog:
    """An immutable set of runbooks with unique names, in catalog (file name) order."""

    runbooks: tuple[Runbook, ...]
    alert_driven: tuple[Runbook, ...] = field(init=False, repr=False)
    _by_name: dict[str, Runbook] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Runbook] = {}
        for runbook in self.runbooks:
            if runbook.name in by_name:
                raise ValueError(f"runbook name {runbook.name!r} is used twice")
            by_name[runbook.name] = runbook
        # Frozen: the derived indexes are set once here, never again.
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(
            self, "alert_driven", tuple(r for r in self.runbooks if not r.manual_only)
        )

    def __iter__(self) -> Iterator[Runbook]:
        return iter(self.runbooks)

    def __len__(self) -> int:
        return len(self.runbooks)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> Runbook:
        """Return the runbook called `name`.

        Raises:
            KeyError: When the catalog has no such runbook.
        """
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self._by_name) or "(none)"
            raise KeyError(f"no runbook named {name!r}; known: {known}") from None
