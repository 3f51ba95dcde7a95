"""The apiserver's discovery documents (/version, /api, /apis and their group versions)."""

from __future__ import annotations

from typing import Any

from simcluster import resources
from simcluster.resources import ResourceType

GIT_VERSION = "v1.30.5-sim"

_SUBRESOURCE_KINDS = {"exec": "PodExecOptions", "log": "Pod", "scale": "Scale"}
# Subresources served in another group's kind (kubectl scale resolves the Scale's group here).
_SUBRESOURCE_GROUP_VERSIONS = {"scale": ("autoscaling", "v1")}
_SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "log": ["get"],
    "exec": ["create", "get"],
    "scale": ["get", "patch", "update"],
}


def version_info() -> dict[str, str]:
    """The body of ``/version``."""
    return {
        "major": "1",
        "minor": "30",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-09-11T00:00:00Z",
        "goVersion": "go1.22.6",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> dict[str, Any]:
    """The body of ``/api`` (the legacy core group's versions)."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group_version_entries(group: str) -> list[dict[str, str]]:
    return [
        {"groupVersion": f"{g}/{v}", "version": v}
        for g, v in resources.group_versions()
        if g == group
    ]


def _api_group(group: str) -> dict[str, Any]:
    versions = _group_version_entries(group)
    return {"name": group, "versions": versions, "preferredVersion": versions[0]}


def api_group_list() -> dict[str, Any]:
    """The body of ``/apis``: every named group served."""
    groups = dict.fromkeys(g for g, _ in resources.group_versions() if g)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_api_group(g) for g in groups]}


def api_group(group: str) -> dict[str, Any] | None:
    """The body of ``/apis/{group}``, or None when the group is not served."""
    if not _group_version_entries(group) or not group:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_api_group(group)}


def _resource_entry(rt: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    return entry


def _subresource_entry(rt: ResourceType, subresource: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": f"{rt.plural}/{subresource}",
        "singularName": "",
        "namespaced": rt.namespaced,
        "kind": _SUBRESOURCE_KINDS.get(subresource, rt.kind),
        "verbs": _SUBRESOURCE_VERBS.get(subresource, ["get"]),
    }
    if subresource in _SUBRESOURCE_GROUP_VERSIONS:
        entry["group"], entry["version"] = _SUBRESOURCE_GROUP_VERSIONS[subresource]
    return entry


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    """The body of ``/api/v1`` or ``/apis/{group}/{version}``, or None when not served."""
    served = [rt for rt in resources.ALL if rt.group == group and rt.version == version]
    if not served:
        return None
    entries: list[dict[str, Any]] = []
    for rt in served:
        entries.append(_resource_entry(rt))
        entries.extend(_subresource_entry(rt, sub) for sub in rt.subresources)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": entries,
    }
