"""Runbook catalog: YAML runbooks, their schema, and matching of alerts to runbooks (pure)."""

# `runbooks.schema` is left out on purpose: it runs as `python -m runbooks.schema`, and importing
# it here would make runpy warn about a module imported twice.

from runbooks.approval import ActionKind, ApprovalMode, ApprovalPolicy, Approvers, FourEyes
from runbooks.loader import SHIPPED_CATALOG, load_catalog
from runbooks.matching import (
    Match,
    MatchResult,
    Rejection,
    UnmatchedReason,
    match_alert,
    resolve_manual_run,
)
from runbooks.model import (
    AlertStatus,
    Cooldown,
    Matcher,
    ParameterSource,
    Runbook,
)
from runbooks.problems import CatalogError, CatalogProblem
from runbooks.registry import Catalog
from runbooks.table import format_table
from runbooks.validation import ALERT_IDENTITY_PARAMETERS, KnownDeployments, validate_catalog

__all__ = [
    "ALERT_IDENTITY_PARAMETERS",
    "SHIPPED_CATALOG",
    "ActionKind",
    "AlertStatus",
    "ApprovalMode",
    "ApprovalPolicy",
    "Approvers",
    "Catalog",
    "CatalogError",
    "CatalogProblem",
    "Cooldown",
    "FourEyes",
    "KnownDeployments",
    "Match",
    "MatchResult",
    "Matcher",
    "ParameterSource",
    "Rejection",
    "Runbook",
    "UnmatchedReason",
    "format_table",
    "load_catalog",
    "match_alert",
    "resolve_manual_run",
    "validate_catalog",
]
