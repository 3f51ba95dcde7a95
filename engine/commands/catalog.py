"""``runbooks list`` and ``runbooks validate``: show and check the runbook catalog."""

from __future__ import annotations

import argparse
from pathlib import Path

from runbooks import CatalogError, format_table, load_catalog, validate_catalog


def _known_deployments() -> dict[str, frozenset[str]]:
    from engine.deployments import deployment_parameters, product_deployments

    return deployment_parameters(product_deployments())


def run_list(args: argparse.Namespace) -> int:
    """Print the catalog as a table."""
    try:
        catalog = load_catalog(args.catalog)
    except CatalogError as error:
        print(f"error: {error}")
        return 1
    print(format_table(catalog))
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """Check every runbook file: schema, deployments, and parameters against the flows.

    Returns:
        1 when a blocking problem was found, else 0 (warnings are printed either way).
    """
    directory: Path | None = args.catalog
    if directory is None:
        from runbooks.loader import SHIPPED_CATALOG

        directory = SHIPPED_CATALOG
    problems = validate_catalog(directory, known_deployments=_known_deployments())
    for problem in problems:
        print(problem)
    blocking = [p for p in problems if p.blocking]
    warnings = len(problems) - len(blocking)
    if blocking:
        print(f"{len(blocking)} problem(s), {warnings} warning(s) in {directory}")
        return 1
    print(f"catalog OK: {directory} ({warnings} warning(s))")
    return 0
