"""Unit tests of `flows.rollback.backup`: the backup kept before a rollback changes anything."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

import yaml

from flows.approval.models import clock_time
from flows.manifests import SERVER_FIELDS, restorable
from flows.rollback.backup import backup_markdown

TAKEN_AT = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
SERVER_OWNED = {
    "uid": "3f1c2d9e-0000-4000-8000-000000000001",
    "resourceVersion": "48213",
    "generation": 7,
    "creationTimestamp": "2024-04-01T00:00:00Z",
    "managedFields": [{"manager": "kube-controller-manager", "operation": "Update"}],
    "selfLink": "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy",
}


def daemon_set_object(image: str = "registry.k8s.io/kube-proxy:v1.30.2") -> dict[str, Any]:
    """The kube-proxy DaemonSet as the API server returns it: server metadata and status."""
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": "kube-proxy",
            "namespace": "kube-system",
            "labels": {"k8s-app": "kube-proxy"},
            "annotations": {"deprecated.daemonset.template.generation": "7"},
            **copy.deepcopy(SERVER_OWNED),
        },
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "kube-proxy"}},
                "spec": {"containers": [{"name": "kube-proxy", "image": image}]},
            },
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        },
        "status": {"observedGeneration": 7, "desiredNumberScheduled": 3, "numberAvailable": 3},
    }


def config_map_object() -> dict[str, Any]:
    """kube-proxy's ConfigMap as the API server returns it."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "kube-proxy",
            "namespace": "kube-system",
            **copy.deepcopy(SERVER_OWNED),
        },
        "data": {"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nmode: iptables\n"},
    }


def yaml_blocks(markdown: str) -> list[Any]:
    """The documents of each ```yaml block of ``markdown``, in order."""
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)\n```", markdown, re.S)]


def test_the_backup_title_names_the_daemon_set_and_revision() -> None:
    markdown = backup_markdown(
        daemon_set_object(), config_map_object(), revision=4, taken_at=TAKEN_AT
    )

    assert markdown.splitlines()[0] == "# Backup of DaemonSet kube-proxy (revision 4)"
    assert clock_time(TAKEN_AT) in markdown
    assert "--to-revision=4" in markdown


def test_the_backup_holds_a_daemon_set_block_and_a_config_map_block() -> None:
    markdown = backup_markdown(
        daemon_set_object(), config_map_object(), revision=4, taken_at=TAKEN_AT
    )

    assert "## DaemonSet" in markdown
    assert "## ConfigMap" in markdown
    assert markdown.index("## DaemonSet") < markdown.index("## ConfigMap")
    assert markdown.count("```yaml") == 2
    assert "could not be read" not in markdown


def test_the_backup_parses_back_to_the_restorable_objects() -> None:
    markdown = backup_markdown(
        daemon_set_object(), config_map_object(), revision=4, taken_at=TAKEN_AT
    )

    assert yaml_blocks(markdown) == [
        restorable(daemon_set_object()),
        restorable(config_map_object()),
    ]


def test_a_config_map_that_could_not_be_read_is_said_so_and_has_no_block() -> None:
    markdown = backup_markdown(daemon_set_object(), None, revision=2, taken_at=TAKEN_AT)

    assert "The ConfigMap could not be read" in markdown
    assert "## ConfigMap" not in markdown
    assert yaml_blocks(markdown) == [restorable(daemon_set_object())]


def test_the_backup_holds_no_server_owned_fields_or_status() -> None:
    markdown = backup_markdown(
        daemon_set_object(), config_map_object(), revision=4, taken_at=TAKEN_AT
    )

    for block in yaml_blocks(markdown):
        assert "status" not in block
        assert not SERVER_FIELDS & block["metadata"].keys()
    assert "3f1c2d9e-0000-4000-8000-000000000001" not in markdown
    assert "managedFields" not in markdown


def test_the_backup_ends_with_one_newline() -> None:
    markdown = backup_markdown(daemon_set_object(), None, revision=2, taken_at=TAKEN_AT)

    assert markdown.endswith("\n")
    assert not markdown.endswith("\n\n")
