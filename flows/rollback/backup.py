"""The backup a rollback keeps before it changes anything: the DaemonSet and its ConfigMap."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import yaml

from flows.approval.models import clock_time
from flows.manifests import restorable


def backup_markdown(
    daemon_set: Mapping[str, Any],
    config_map: Mapping[str, Any] | None,
    *,
    revision: int,
    taken_at: datetime,
) -> str:
    """The backup as markdown: each object as a YAML block, and how to restore it.

    Args:
        daemon_set: The DaemonSet object as read before the rollback.
        config_map: kube-proxy's ConfigMap as read then (None: it could not be read).
        revision: The DaemonSet revision the backup holds.
        taken_at: When it was read.
    """
    name = dict(daemon_set.get("metadata") or {}).get("name", "kube-proxy")
    parts = [
        f"# Backup of DaemonSet {name} (revision {revision})",
        "",
        f"Read at {clock_time(taken_at)}, before the rollback. Restore with "
        "`kubectl apply -f` on the YAML below, or `kubectl rollout undo "
        f"daemonset/{name} -n kube-system --to-revision={revision}`.",
        "",
        "## DaemonSet",
        "",
        "```yaml",
        yaml.safe_dump(restorable(daemon_set), sort_keys=False).rstrip(),
        "```",
    ]
    if config_map is not None:
        parts += [
            "",
            "## ConfigMap",
            "",
            "```yaml",
            yaml.safe_dump(restorable(config_map), sort_keys=False).rstrip(),
            "```",
        ]
    else:
        parts += ["", "The ConfigMap could not be read; it is not changed by a rollback."]
    return "\n".join(parts) + "\n"
