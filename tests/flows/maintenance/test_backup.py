"""Unit tests of `flows.maintenance.backup`: backup directories, their files and pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.maintenance.backup import backup_name, write_backup

TAKEN_AT = datetime(2024, 5, 1, 6, 30, 5, tzinfo=UTC)
SERVER_OWNED = ("uid", "resourceVersion", "managedFields", "creationTimestamp", "generation")


def obj(kind: str, name: str, namespace: str = "kube-system") -> dict[str, Any]:
    """An object as the API server returns it, with server-owned fields and a status."""
    return {
        "apiVersion": "apps/v1" if kind == "DaemonSet" else "v1",
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"k8s-app": name},
            "uid": f"uid-{name}",
            "resourceVersion": "4711",
            "managedFields": [{"manager": "kube-controller-manager"}],
            "creationTimestamp": "2024-04-01T00:00:00Z",
            "generation": 2,
        },
        "spec": {"selector": {"k8s-app": name}},
        "status": {"observedGeneration": 2},
    }


CONTENTS = {
    "services.yaml": [obj("Service", "kube-dns"), obj("Service", "web", "shop")],
    "endpoints.yaml": [obj("Endpoints", "kube-dns")],
    "kube-proxy-daemonset.yaml": [obj("DaemonSet", "kube-proxy")],
    "kube-proxy-configmap.yaml": [],
}


def read(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def make_backups(root: Path, names: list[str]) -> None:
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "services.yaml").write_text("kind: List\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("taken_at", "name"),
    [
        (TAKEN_AT, "20240501T063005Z"),
        (datetime(2024, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), "20241231T235959Z"),
        (datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), "20250102T030405Z"),
    ],
    ids=["morning", "microseconds dropped", "zero padded"],
)
def test_the_backup_is_named_by_its_utc_time_to_the_second(taken_at: datetime, name: str) -> None:
    assert backup_name(taken_at) == name


def test_a_time_in_another_timezone_names_the_backup_in_utc() -> None:
    in_berlin = datetime(2024, 5, 1, 8, 30, 5, tzinfo=timezone(timedelta(hours=2)))

    assert backup_name(in_berlin) == "20240501T063005Z"


def test_each_file_is_a_list_the_yaml_loader_reads_back(tmp_path: Path) -> None:
    result = write_backup(tmp_path, CONTENTS, taken_at=TAKEN_AT, keep=14)

    assert result.directory == tmp_path / "20240501T063005Z"
    assert sorted(p.name for p in result.directory.iterdir()) == sorted(CONTENTS)
    for name, objects in CONTENTS.items():
        document = read(result.directory / name)
        assert (document["apiVersion"], document["kind"]) == ("v1", "List")
        assert [i["metadata"]["name"] for i in document["items"]] == [
            o["metadata"]["name"] for o in objects
        ]


@pytest.mark.parametrize("field", SERVER_OWNED)
def test_server_owned_metadata_is_not_backed_up(tmp_path: Path, field: str) -> None:
    result = write_backup(tmp_path, CONTENTS, taken_at=TAKEN_AT, keep=14)

    items = read(result.directory / "services.yaml")["items"]
    assert [field in item["metadata"] for item in items] == [False, False]


def test_the_status_is_dropped_and_the_rest_is_kept(tmp_path: Path) -> None:
    result = write_backup(tmp_path, CONTENTS, taken_at=TAKEN_AT, keep=14)

    assert read(result.directory / "kube-proxy-daemonset.yaml")["items"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {
                "name": "kube-proxy",
                "namespace": "kube-system",
                "labels": {"k8s-app": "kube-proxy"},
            },
            "spec": {"selector": {"k8s-app": "kube-proxy"}},
        }
    ]


def test_files_counts_the_objects_of_each_file(tmp_path: Path) -> None:
    result = write_backup(tmp_path, CONTENTS, taken_at=TAKEN_AT, keep=14)

    assert result.files == {
        "services.yaml": 2,
        "endpoints.yaml": 1,
        "kube-proxy-daemonset.yaml": 1,
        "kube-proxy-configmap.yaml": 0,
    }
    assert read(result.directory / "kube-proxy-configmap.yaml")["items"] == []


def test_a_missing_root_directory_is_created(tmp_path: Path) -> None:
    root = tmp_path / "state" / "backups"

    result = write_backup(root, CONTENTS, taken_at=TAKEN_AT, keep=14)

    assert result.directory.parent == root
    assert result.directory.is_dir()


def test_writing_again_for_the_same_time_replaces_the_backup(tmp_path: Path) -> None:
    write_backup(tmp_path, CONTENTS, taken_at=TAKEN_AT, keep=14)
    again = {"services.yaml": [obj("Service", "api", "shop")]}

    result = write_backup(tmp_path, again, taken_at=TAKEN_AT, keep=14)

    assert [p.name for p in tmp_path.iterdir()] == ["20240501T063005Z"]
    assert [p.name for p in result.directory.iterdir()] == ["services.yaml"]
    assert read(result.directory / "services.yaml")["items"][0]["metadata"]["name"] == "api"
    assert result.pruned == ()


OLDER = ["20240428T063000Z", "20240429T063000Z", "20240430T063000Z"]


@pytest.mark.parametrize(
    ("keep", "pruned"),
    [
        (14, ()),
        (4, ()),
        (3, ("20240428T063000Z",)),
        (2, ("20240428T063000Z", "20240429T063000Z")),
        (1, tuple(OLDER)),
    ],
    ids=["plenty", "exactly enough", "one too many", "two too many", "only the new one"],
)
def test_only_the_newest_backups_are_kept(
    tmp_path: Path, keep: int, pruned: tuple[str, ...]
) -> None:
    make_backups(tmp_path, OLDER)

    result = write_backup(tmp_path, CONTENTS, taken_at=TAKEN_AT, keep=keep)

    assert result.pruned == pruned
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert remaining == [*sorted(set(OLDER) - set(pruned)), "20240501T063005Z"]


def test_the_backup_just_written_is_kept_even_if_newer_ones_exist(tmp_path: Path) -> None:
    make_backups(tmp_path, ["20240502T063000Z"])

    result = write_backup(tmp_path, CONTENTS, taken_at=TAKEN_AT, keep=1)

    assert result.directory.is_dir()


@pytest.mark.parametrize(
    "other",
    ["notes", "2024-04-01", "20240101T000000", "20240101T000000Z.old", ".20240101T000000Z-x1y2"],
    ids=["notes", "a date", "no Z", "a suffix", "a left-over staging directory"],
)
def test_directories_not_named_like_a_backup_are_never_pruned(tmp_path: Path, other: str) -> None:
    make_backups(tmp_path, [other, *OLDER])

    result = write_backup(tmp_path, CONTENTS, taken_at=TAKEN_AT, keep=1)

    assert result.pruned == tuple(OLDER)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([other, "20240501T063005Z"])


def test_a_file_named_like_a_backup_is_not_pruned(tmp_path: Path) -> None:
    (tmp_path / "20240101T000000Z").write_text("not a backup\n", encoding="utf-8")

    result = write_backup(tmp_path, CONTENTS, taken_at=TAKEN_AT, keep=1)

    assert result.pruned == ()
    assert (tmp_path / "20240101T000000Z").is_file()


def test_no_staging_directory_is_left_after_a_backup(tmp_path: Path) -> None:
    write_backup(tmp_path, CONTENTS, taken_at=TAKEN_AT, keep=14)
    write_backup(tmp_path, CONTENTS, taken_at=TAKEN_AT + timedelta(days=1), keep=14)

    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["20240501T063005Z", "20240502T063005Z"]


@pytest.mark.parametrize("keep", [0, -1])
def test_keeping_fewer_than_this_backup_is_refused(tmp_path: Path, keep: int) -> None:
    with pytest.raises(ValueError, match="keep must be at least 1"):
        write_backup(tmp_path, {}, taken_at=datetime(2024, 5, 1, tzinfo=UTC), keep=keep)
