"""Derive the simulated cluster's vendored OpenAPI schemas from Kubernetes 1.30's own.

kubernetes-validate (a dev dependency) ships the 1.30 OpenAPI definitions as JSON Schema. The
simulated cluster serves the ones its kinds reach, without descriptions, from a copy in its
package (it installs without kubernetes-validate). Regenerate the copy after serving a new kind:

    uv run --frozen python -m tests.simcluster.openapi_vendoring
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources as package_files
from pathlib import Path
from typing import Any

from simcluster import resources
from simcluster.api.openapi_schemas import VENDORED_FILE

KUBERNETES_VERSION = "v1.30.0-local"
# Meta types every group version's document carries beside its kinds.
META = tuple(
    f"io.k8s.apimachinery.pkg.apis.meta.v1.{name}"
    for name in ("APIResourceList", "DeleteOptions", "Patch", "Status", "WatchEvent")
)


def upstream_definitions() -> dict[str, Any]:
    """Kubernetes 1.30's definitions, as kubernetes-validate ships them."""
    folder = package_files.files("kubernetes_validate") / "kubernetes-json-schema"
    document = (folder / KUBERNETES_VERSION / "_definitions.json").read_text(encoding="utf-8")
    definitions: dict[str, Any] = json.loads(document)["$defs"]
    return definitions


def vendored_definitions(upstream: dict[str, Any]) -> dict[str, Any]:
    """What the simulated cluster keeps: every definition its built-in kinds reach, undescribed."""
    wanted = {
        (rt.group, rt.version, kind)
        for rt in resources.ALL
        if not rt.custom
        for kind in (rt.kind, rt.list_kind)
    }
    roots = [
        name
        for name, schema in upstream.items()
        if any(
            (gvk["group"], gvk["version"], gvk["kind"]) in wanted
            for gvk in schema.get("x-kubernetes-group-version-kind", [])
        )
    ]
    reached: set[str] = set()
    pending = [*roots, *META]
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            pending.extend(_references(upstream[name]))
    return {name: _undescribed(upstream[name]) for name in sorted(reached)}


def render(definitions: dict[str, Any]) -> str:
    """One definition a line, so a regenerated file diffs by definition."""
    lines = [
        f"  {json.dumps(name)}: {json.dumps(schema, sort_keys=True)}"
        for name, schema in definitions.items()
    ]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _references(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref":
                yield str(value).rsplit("/", 1)[-1]
            else:
                yield from _references(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _references(item)


def _undescribed(schema: Any) -> Any:
    if isinstance(schema, dict):
        # A property called "description" is a schema (a dict), never dropped.
        return {
            k: _undescribed(v)
            for k, v in schema.items()
            if not (k == "description" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_undescribed(item) for item in schema]
    return schema


def main() -> None:
    target = Path(str(VENDORED_FILE))
    target.write_text(render(vendored_definitions(upstream_definitions())), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
