"""Parsing runbook YAML into data plus the node tree that remembers each field's line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A parsed YAML file: its data, and the composed node tree for locating fields."""

    data: object
    root: yaml.Node | None


@dataclass(frozen=True, slots=True)
class Location:
    """Where a field path was found: its 1-based line and the part of the path that exists."""

    line: int
    found: tuple[str | int, ...]


def parse_yaml(text: str) -> YamlDocument:
    """Compose and construct a single YAML document with the safe loader.

    Raises:
        yaml.YAMLError: On a syntax error (a `yaml.MarkedYAMLError` carries the position).
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return YamlDocument(data=data, root=root)


def locate(root: yaml.Node | None, path: Sequence[str | int]) -> Location:
    """Find the line of a field path (a pydantic error ``loc``) in a composed YAML tree.

    Walks mapping keys and sequence indexes as far as the path exists in the file: a missing
    field is reported at its parent, a mapping key at the key itself. Path parts the file does not
    have (pydantic's ``[key]`` marker, or a missing field) are left out of ``found``.
    """
    if root is None:
        return Location(line=1, found=())
    node: yaml.Node = root
    line = node.start_mark.line + 1
    found: list[str | int] = []
    for part in path:
        child = _child(node, part)
        if child is None:
            break
        key_line, node = child
        line = key_line
        found.append(part)
    return Location(line=line, found=tuple(found))


def _child(node: yaml.Node, part: str | int) -> tuple[int, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key.start_mark.line + 1, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item: yaml.Node = node.value[part]
        return item.start_mark.line + 1, item
    return None


def duplicate_keys(root: yaml.Node | None) -> list[tuple[tuple[str | int, ...], int, int]]:
    """Find mapping keys written twice (YAML loaders silently keep the last one).

    Returns:
        (path of the duplicated key, line of its first occurrence, line of the repeat) triples.
    """
    duplicates: list[tuple[tuple[str | int, ...], int, int]] = []
    pending: list[tuple[tuple[str | int, ...], yaml.Node]] = [((), root)] if root else []
    while pending:
        path, node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                name = str(key.value)
                line = key.start_mark.line + 1
                if name in seen:
                    duplicates.append(((*path, name), seen[name], line))
                seen.setdefault(name, line)
                pending.append(((*path, name), value))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(((*path, index), item) for index, item in enumerate(node.value))
    return sorted(duplicates, key=lambda duplicate: duplicate[2])
