"""Loading the runbook catalog, by default the one shipped in `runbooks/catalog/`."""

from __future__ import annotations

import functools
from pathlib import Path

from runbooks.problems import CatalogError
from runbooks.registry import Catalog
from runbooks.validation import KnownDeployments, check_catalog

SHIPPED_CATALOG = Path(__file__).with_name("catalog")
"""The catalog directory shipped as package data."""

FileState = tuple[str, int, int, int]
"""A catalog file's name, inode, size and modification time (ns): what an edit changes."""


def load_catalog(
    directory: Path | str | None = None, *, known_deployments: KnownDeployments | None = None
) -> Catalog:
    """Load and validate a catalog.

    The shipped catalog is read again only when one of its files changed: every flow run
    looks up its runbook's policy in it, and reading and validating the files took 11 ms of
    the engine's CPU per run start (6% of it in an alert storm).

    Args:
        directory: Folder of runbook files; None loads the shipped catalog.
        known_deployments: Deployment name -> accepted parameter names; see `validate_catalog`.

    Raises:
        CatalogError: When any blocking problem is found; it carries all problems.
    """
    if directory is None and known_deployments is None:
        return _unchanged_shipped_catalog(_file_states(SHIPPED_CATALOG))
    return _load(SHIPPED_CATALOG if directory is None else Path(directory), known_deployments)


def _file_states(directory: Path) -> tuple[FileState, ...]:
    states: list[FileState] = []
    for path in sorted(directory.iterdir()):
        stat = path.stat()
        states.append((path.name, stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(states)


@functools.lru_cache(maxsize=4)
def _unchanged_shipped_catalog(states: tuple[FileState, ...]) -> Catalog:
    del states  # the key: a catalog read while the files were in this state
    return _load(SHIPPED_CATALOG, None)


def _load(directory: Path, known_deployments: KnownDeployments | None) -> Catalog:
    check = check_catalog(directory, known_deployments=known_deployments)
    if any(problem.blocking for problem in check.problems):
        raise CatalogError(check.problems)
    return Catalog(check.runbooks)
