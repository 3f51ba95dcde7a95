"""The daily configuration backup: Services, Endpoints and kube-proxy as YAML files, kept N days.

Each backup is a directory named by its time, written under a temporary name and renamed when
complete, so a crash never leaves a half backup looking whole; re-running writes the same
directory again. Only the newest ``keep`` backups are kept.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.manifests import manifest_list

NAME = re.compile(r"^\d{8}T\d{6}Z$")
STAGING = re.compile(r"^\.\d{8}T\d{6}Z-")
STAGING_GRACE_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class BackupResult:
    """Where a backup went, how many objects each file holds, and the old backups removed."""

    directory: Path
    files: Mapping[str, int]
    pruned: tuple[str, ...]


def backup_name(taken_at: datetime) -> str:
    """A backup's directory name: its UTC time, sortable."""
    return taken_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def write_backup(
    root: Path,
    contents: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    taken_at: datetime,
    keep: int,
) -> BackupResult:
    """Write each ``file name -> objects`` as a ``kind: List`` YAML file, then prune old backups.

    Args:
        root: The directory holding every backup.
        contents: The objects of each file, e.g. ``{"services.yaml": [...]}``.
        taken_at: When the objects were read (names the backup).
        keep: How many backups to keep, this one included (at least 1).

    Raises:
        ValueError: ``keep`` is below 1.
    """
    if keep < 1:
        raise ValueError(f"keep must be at least 1 (got {keep}): it counts this backup too")
    root.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_staging(root)
    final = root / backup_name(taken_at)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=root))
    for name, objects in contents.items():
        (staging / name).write_text(manifest_list(objects), encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    backups = sorted(
        path.name for path in root.iterdir() if path.is_dir() and NAME.match(path.name)
    )
    # Never the one just written, even when older than backups already there (clock skew).
    older = [name for name in backups if name != final.name]
    pruned = tuple(older[: max(len(older) - (keep - 1), 0)])
    for name in pruned:
        shutil.rmtree(root / name)
    return BackupResult(final, {name: len(objs) for name, objs in contents.items()}, pruned)


def _remove_abandoned_staging(root: Path) -> None:
    """Remove staging directories a crashed run left (over an hour old: not a running one's)."""
    cutoff = time.time() - STAGING_GRACE_SECONDS
    for path in root.iterdir():
        if path.is_dir() and STAGING.match(path.name) and path.stat().st_mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)
