"""Loading the runbook catalog, by default the one shipped in `runbooks/catalog/`."""

from __future__ import annotations

from pathlib import Path

from runbooks.problems import CatalogError
from runbooks.registry import Catalog
from runbooks.validation import KnownDeployments, check_catalog

SHIPPED_CATALOG = Path(__file__).with_name("catalog")
"""The catalog directory shipped as package data."""


def load_catalog(
    directory: Path | str | None = None, *, known_deployments: KnownDeployments | None = None
) -> Catalog:
    """Load and validate a catalog.

    Args:
        directory: Folder of runbook files; None loads the shipped catalog.
        known_deployments: Deployment name -> accepted parameter names; see `validate_catalog`.

    Raises:
        CatalogError: When any blocking problem is found; it carries all problems.
    """
    check = check_catalog(
        SHIPPED_CATALOG if directory is None else directory, known_deployments=known_deployments
    )
    if any(problem.blocking for problem in check.problems):
        raise CatalogError(check.problems)
    return Catalog(check.runbooks)
