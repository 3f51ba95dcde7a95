"""Validating a catalog directory: every file, then names and deployments across the catalog."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from runbooks.model import Runbook
from runbooks.problems import CatalogProblem
from runbooks.reading import RunbookFile, read_runbook_file
from runbooks.templates import template_fields

RUNBOOK_SUFFIXES = (".yaml", ".yml")

KnownDeployments = Mapping[str, Collection[str]]
"""Prefect deployment name (``flow/deployment``) -> the parameter names its flow accepts."""


@dataclass(frozen=True, slots=True)
class CatalogCheck:
    """The valid runbooks of a directory (file name order) and every problem found."""

    runbooks: tuple[Runbook, ...]
    problems: tuple[CatalogProblem, ...]


def validate_catalog(
    directory: Path | str, *, known_deployments: KnownDeployments | None = None
) -> list[CatalogProblem]:
    """List every problem of the runbook files in `directory` (not recursive).

    Args:
        directory: Folder of ``*.yaml`` / ``*.yml`` runbook files, one runbook each.
        known_deployments: Deployment name -> accepted parameter names, injected by the engine
            (the catalog knows no flows). When given, missing deployments and unknown parameter
            names are problems too; when None, those checks are skipped.

    Returns:
        The problems, in file order then line order; empty when the catalog is valid.
    """
    return list(check_catalog(directory, known_deployments=known_deployments).problems)


def check_catalog(
    directory: Path | str, *, known_deployments: KnownDeployments | None = None
) -> CatalogCheck:
    """Read and validate a catalog directory; see `validate_catalog` for the checks."""
    folder = Path(directory)
    if not folder.is_dir():
        problem = CatalogProblem(
            str(folder),
            None,
            "",
            "the catalog directory does not exist",
            "create it or fix the path",
        )
        return CatalogCheck((), (problem,))
    paths = sorted(p for p in folder.iterdir() if p.suffix in RUNBOOK_SUFFIXES and p.is_file())
    if not paths:
        problem = CatalogProblem(
            str(folder),
            None,
            "",
            "the catalog directory has no runbook files (*.yaml, *.yml)",
            "add runbook files, or point at the right directory",
        )
        return CatalogCheck((), (problem,))
    files = [read_runbook_file(path) for path in paths]
    problems = [problem for file in files for problem in file.problems]
    problems.extend(_duplicate_names(files))
    if known_deployments is not None:
        for file in files:
            problems.extend(_deployment_problems(file, known_deployments))
    problems.sort(key=lambda problem: (problem.file, problem.line or 0))
    valid = tuple(file.runbook for file in files if file.runbook is not None)
    blocked = any(problem.blocking for problem in problems)
    return CatalogCheck(() if blocked else valid, tuple(problems))


def _duplicate_names(files: list[RunbookFile]) -> list[CatalogProblem]:
    first_file: dict[str, RunbookFile] = {}
    problems: list[CatalogProblem] = []
    for file in files:
        if file.runbook is None:
            continue
        name = file.runbook.name
        if name in first_file:
            problems.append(
                CatalogProblem(
                    str(file.path),
                    file.line_of("name"),
                    "name",
                    f"runbook name {name!r} is already used by {first_file[name].path}",
                    "give each runbook a unique name",
                )
            )
        else:
            first_file[name] = file
    return problems


ALERT_IDENTITY_PARAMETERS = ("alertname", "alert_fingerprint", "alert_starts_at")
"""Parameters the engine passes to every run an alert starts, so the flow can re-check that its
alert still fires before it acts and name it in its report; alert-driven flows must accept them."""


def _deployment_problems(file: RunbookFile, known: KnownDeployments) -> list[CatalogProblem]:
    runbook = file.runbook
    if runbook is None:
        return []
    where = str(file.path)
    if runbook.deployment not in known:
        choices = ", ".join(sorted(known)) or "(none registered)"
        return [
            CatalogProblem(
                where,
                file.line_of("deployment"),
                "deployment",
                f"deployment {runbook.deployment!r} does not exist (yet)",
                f"create and register that deployment, or use one of: {choices}",
                # An alert-driven runbook must be able to start; a manual one can wait.
                blocking=not runbook.manual_only,
            )
        ]
    accepted = set(known[runbook.deployment])
    choices = ", ".join(sorted(accepted)) or "(none)"
    problems = [
        CatalogProblem(
            where,
            file.line_of("parameters", name),
            f"parameters.{name}",
            f"parameter {name!r} is not accepted by deployment {runbook.deployment!r}",
            f"remove it or rename it to one of: {choices}",
        )
        for name in runbook.parameters
        if name not in accepted
    ]
    missing_identity = [name for name in ALERT_IDENTITY_PARAMETERS if name not in accepted]
    if not runbook.manual_only and missing_identity:
        problems.append(
            CatalogProblem(
                where,
                file.line_of("deployment"),
                "deployment",
                f"deployment {runbook.deployment!r} does not accept the alert's identity "
                f"({', '.join(missing_identity)}), which every alert-started run receives",
                "add those parameters to the flow, or make the runbook manual_only",
            )
        )
    if runbook.manual_only:
        # Manual runs take their parameters from the operator, so templates may use any
        # parameter the flow accepts; alert-driven templates were checked by the schema.
        templates: list[tuple[tuple[str, ...], str]] = [
            (("concurrency_key",), runbook.concurrency_key)
        ]
        if runbook.cooldown is not None:
            templates.append((("cooldown", "target"), runbook.cooldown.target))
        for path, template in templates:
            for field in template_fields(template):
                if field not in accepted and field not in runbook.parameters:
                    problems.append(
                        CatalogProblem(
                            where,
                            file.line_of(*path),
                            ".".join(path),
                            f"template {template!r} uses {{{field}}}, which deployment "
                            f"{runbook.deployment!r} does not accept",
                            f"use parameters the flow accepts: {choices}",
                        )
                    )
    return problems
