"""Problems found in a runbook catalog, and the error that carries them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CatalogProblem:
    """One thing wrong in the catalog, located precisely enough to fix it.

    Attributes:
        file: The runbook file (as found in the catalog directory), or the directory itself.
        line: 1-based line of the offending field, or None when the problem has no line.
        field_path: Dotted path of the field, e.g. ``parameters.service.from_label``; empty for
            problems of the whole file.
        message: What is wrong, naming the field or value.
        fix: What to change.
        blocking: False for a problem the catalog can live with for now (a deployment that
            lands later); such runbooks cannot start until it is fixed.
    """

    file: str
    line: int | None
    field_path: str
    message: str
    fix: str
    blocking: bool = True

    def __str__(self) -> str:
        # The message already names the field, so the field path is not repeated here.
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        kind = "" if self.blocking else "warning: "
        return f"{where}: {kind}{self.message} (fix: {self.fix})"


class CatalogError(Exception):
    """The catalog could not be loaded; `problems` says why, each with its location and fix."""

    def __init__(self, problems: Sequence[CatalogProblem]) -> None:
        self.problems = tuple(problems)
        listing = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"the runbook catalog has {len(self.problems)} problem(s):\n{listing}")


def format_field_path(path: Sequence[str | int]) -> str:
    """Join a location into ``a.b[0].c`` form."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text
