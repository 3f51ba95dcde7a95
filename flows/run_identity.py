"""Run identity: the tags and labels a run started for an alert carries, written and read here only.

The engine writes them when it creates a run (`run_tags`, `run_labels`) and finds runs by them
(episode, target, cooldown); flows read them back (the runbook, the alert's labels). One
vocabulary, so a renamed tag cannot leave a reader behind.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Protocol

PRODUCT_TAG = "service-runbooks"
"""The tag of every deployment the engine registers (the retention flow trims their runs only)."""
ALERT_TAG = "alert:"
FINGERPRINT_TAG = "fingerprint:"
RUNBOOK_TAG = "runbook:"
EPISODE_TAG = "episode:"
TARGET_TAG = "target:"
COOLDOWN_TAG = "cooldown:"
#: The tag of the Variables that record a resolved alert episode.
RESOLUTION_TAG = "alert-resolution"
#: The tags of a run a flow started to continue its own work (the checklist's deferred nodes):
#: ``follow-up``, and ``follow-up-of:<run id>`` naming the run it continues.
FOLLOW_UP_TAG = "follow-up"
FOLLOW_UP_OF_TAG = "follow-up-of:"

ALERT_LABEL = "alert."
FINGERPRINT_LABEL = "alert.fingerprint"
STARTS_AT_LABEL = "alert.starts_at"
RUNBOOK_LABEL = "runbook"
CONCURRENCY_KEY_LABEL = "concurrency_key"
#: Labels under ``alert.`` that are the alert's identity, not labels the alert itself carried.
_IDENTITY_LABELS = frozenset({FINGERPRINT_LABEL, STARTS_AT_LABEL})

_SAFE_FINGERPRINT = re.compile(r"^[a-z0-9]{1,64}$")


class AlertRun(Protocol):
    """What a run is started for: one alert episode matched to one runbook."""

    @property
    def alertname(self) -> str: ...
    @property
    def alert_fingerprint(self) -> str: ...
    @property
    def alert_starts_at(self) -> datetime: ...
    @property
    def runbook(self) -> str: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def concurrency_key(self) -> str | None: ...
    @property
    def cooldown_key(self) -> str | None: ...


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive time is taken to be UTC already (as Alertmanager's are)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def episode_key(fingerprint: str, starts_at: datetime) -> str:
    """One alert episode (fingerprint + startsAt), as lowercase letters, digits and dashes."""
    fp = fingerprint.lower()
    if not _SAFE_FINGERPRINT.match(fp):
        # Alertmanager fingerprints are 16 hex digits; anything else is hashed to stay a valid name.
        fp = hashlib.sha256(fingerprint.encode()).hexdigest()[:32]
    return f"{fp}-{as_utc(starts_at).strftime('%Y%m%dt%H%M%Sz')}"


def resolution_variable_name(fingerprint: str, starts_at: datetime) -> str:
    """The Prefect Variable (tagged `RESOLUTION_TAG`) recording that this episode resolved."""
    return f"alert-resolved-{episode_key(fingerprint, starts_at)}"


def alert_tag(alertname: str) -> str:
    """The tag shared by every run (and resolution record) of one alert name."""
    return f"{ALERT_TAG}{alertname}"


def episode_tag(fingerprint: str, starts_at: datetime) -> str:
    """The tag shared by every run of one alert episode (what a resolution looks up)."""
    return f"{EPISODE_TAG}{episode_key(fingerprint, starts_at)}"


def target_tag(concurrency_key: str) -> str:
    """The tag of the runs that act on ``concurrency_key``'s target."""
    return f"{TARGET_TAG}{concurrency_key}"


def cooldown_tag(key: str) -> str:
    """The tag shared by the runs of one cooldown key."""
    return f"{COOLDOWN_TAG}{key}"


def target_key(tags: Iterable[str]) -> str | None:
    """The concurrency key a run's tags name (the first ``target:`` tag), if any."""
    return _first_value(tags, TARGET_TAG)


def cooldown_keys(tags: Iterable[str]) -> list[str]:
    """The cooldown keys a run's tags name."""
    return [tag.removeprefix(COOLDOWN_TAG) for tag in tags if _has_value(tag, COOLDOWN_TAG)]


def runbook_of(tags: Iterable[str]) -> str | None:
    """The runbook a run was started for (its ``runbook:`` tag); None for a run started by hand."""
    return _first_value(tags, RUNBOOK_TAG)


def run_tags(run: AlertRun) -> list[str]:
    """The tags a run carries, to find it in the UI and from a resolution or a cooldown check."""
    tags = [
        alert_tag(run.alertname),
        f"{FINGERPRINT_TAG}{run.alert_fingerprint}",
        f"{RUNBOOK_TAG}{run.runbook}",
        episode_tag(run.alert_fingerprint, run.alert_starts_at),
    ]
    if run.concurrency_key:
        tags.append(target_tag(run.concurrency_key))
    if run.cooldown_key:
        tags.append(cooldown_tag(run.cooldown_key))
    return tags


def follow_up_tags(tags: Iterable[str], *, of: str) -> list[str]:
    """The tags of a follow-up of the run tagged ``tags`` (whose id is ``of``): the same
    runbook (so the same approval policy), alert, target and cooldown, marked a follow-up."""
    kept = [tag for tag in tags if tag != FOLLOW_UP_TAG and not tag.startswith(FOLLOW_UP_OF_TAG)]
    return [*kept, FOLLOW_UP_TAG, f"{FOLLOW_UP_OF_TAG}{of}"]


def run_labels(run: AlertRun) -> dict[str, str]:
    """Key-value labels kept on the run for the record: the alert's labels and its identity."""
    labels = {f"{ALERT_LABEL}{name}": value for name, value in run.labels.items()}
    labels[FINGERPRINT_LABEL] = run.alert_fingerprint
    labels[STARTS_AT_LABEL] = as_utc(run.alert_starts_at).isoformat()
    labels[RUNBOOK_LABEL] = run.runbook
    if run.concurrency_key:
        labels[CONCURRENCY_KEY_LABEL] = run.concurrency_key
    return labels


def alert_labels_of(labels: Mapping[str, object]) -> dict[str, str]:
    """The alert's own labels, as `run_labels` keeps them on its run (``alert.<name>``)."""
    return {
        key.removeprefix(ALERT_LABEL): str(value)
        for key, value in labels.items()
        if key.startswith(ALERT_LABEL) and key not in _IDENTITY_LABELS
    }


def alert_episode_of(labels: Mapping[str, object]) -> tuple[str, str] | None:
    """The (fingerprint, startsAt) a run's labels name; None for a run no alert started."""
    fingerprint, starts_at = labels.get(FINGERPRINT_LABEL), labels.get(STARTS_AT_LABEL)
    if not isinstance(fingerprint, str) or not isinstance(starts_at, str):
        return None
    return fingerprint, starts_at


def _has_value(tag: str, prefix: str) -> bool:
    return tag.startswith(prefix) and len(tag) > len(prefix)


def _first_value(tags: Iterable[str], prefix: str) -> str | None:
    return next((tag.removeprefix(prefix) for tag in tags if _has_value(tag, prefix)), None)
