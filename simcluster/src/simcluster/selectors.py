"""Label and field selectors with Kubernetes' syntax, parsed once and matched many times."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum


class SelectorError(ValueError):
    """A selector string that Kubernetes would reject (the API answers 400 BadRequest)."""


class Operator(Enum):
    """Operators of one label requirement."""

    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector, e.g. ``tier in (web,api)``."""

    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Tell whether a label set satisfies this clause."""
        value = labels.get(self.key)
        match self.operator:
            case Operator.EQUALS | Operator.IN:
                return value is not None and value in self.values
            case Operator.NOT_EQUALS | Operator.NOT_IN:
                # Kubernetes: `!=` and `notin` also match objects that lack the key.
                return value is None or value not in self.values
            case Operator.EXISTS:
                return value is not None
            case Operator.DOES_NOT_EXIST:
                return value is None


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector: every requirement must hold (an empty one matches all)."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Tell whether a label set satisfies every requirement."""
        return all(r.matches(labels) for r in self.requirements)

    def equality_pairs(self) -> tuple[tuple[str, str], ...]:
        """The ``key=value`` requirements, usable to narrow a scan through an index."""
        return tuple(
            (r.key, next(iter(r.values)))
            for r in self.requirements
            if r.operator is Operator.EQUALS
        )


_KEY = r"(?:[a-z0-9A-Z](?:[-a-z0-9A-Z.]*[a-z0-9A-Z])?/)?[a-zA-Z0-9](?:[-a-zA-Z0-9_.]*[a-zA-Z0-9])?"
_VALUE = r"(?:[a-zA-Z0-9](?:[-a-zA-Z0-9_.]*[a-zA-Z0-9])?)?"
_VALUE_RE = re.compile(_VALUE)
_SET_RE = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(([^)]*)\)\s*$")
_BINARY_RE = re.compile(rf"^\s*({_KEY})\s*(==|!=|=)\s*(\S*?)\s*$")
_UNARY_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")


def _split_clauses(selector: str) -> list[str]:
    """Split on commas that are not inside a ``( … )`` value set."""
    clauses: list[str] = []
    depth = 0
    current: list[str] = []
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise SelectorError(f"unbalanced ')' in selector {selector!r}")
        if char == "," and depth == 0:
            clauses.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise SelectorError(f"unbalanced '(' in selector {selector!r}")
    clauses.append("".join(current))
    return clauses


def _check_value(value: str, selector: str) -> str:
    if len(value) > 63 or not _VALUE_RE.fullmatch(value):
        raise SelectorError(
            f"invalid label value {value!r} in selector {selector!r}: must be 63 characters or "
            "less, alphanumeric, '-', '_' or '.', starting and ending with an alphanumeric"
        )
    return value


def _parse_clause(clause: str, selector: str) -> Requirement:
    if m := _SET_RE.match(clause):
        values = [v.strip() for v in m.group(3).split(",")]
        op = Operator.IN if m.group(2) == "in" else Operator.NOT_IN
        return Requirement(m.group(1), op, frozenset(_check_value(v, selector) for v in values))
    if m := _BINARY_RE.match(clause):
        op = Operator.NOT_EQUALS if m.group(2) == "!=" else Operator.EQUALS
        return Requirement(m.group(1), op, frozenset({_check_value(m.group(3), selector)}))
    if m := _UNARY_RE.match(clause):
        op = Operator.DOES_NOT_EXIST if m.group(1) else Operator.EXISTS
        return Requirement(m.group(2), op)
    raise SelectorError(f"unable to parse requirement {clause.strip()!r} in selector {selector!r}")


def parse_label_selector(selector: str | None) -> LabelSelector:
    """Parse a label selector string as the apiserver does.

    Args:
        selector: e.g. ``app=web,tier in (a,b),!canary``; None or blank selects everything.

    Raises:
        SelectorError: the string is not a valid selector.
    """
    if selector is None or not selector.strip():
        return LabelSelector()
    return LabelSelector(tuple(_parse_clause(c, selector) for c in _split_clauses(selector)))


def selector_from_match_labels(match_labels: Mapping[str, str]) -> LabelSelector:
    """Build the selector a Service's ``spec.selector`` (plain equality map) stands for."""
    return LabelSelector(
        tuple(Requirement(k, Operator.EQUALS, frozenset({v})) for k, v in match_labels.items())
    )


@dataclass(frozen=True)
class FieldRequirement:
    """One clause of a field selector, e.g. ``spec.nodeName=node-3``."""

    path: str
    value: str
    negated: bool

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Tell whether the object's selectable fields satisfy this clause."""
        equal = fields.get(self.path, "") == self.value
        return not equal if self.negated else equal


@dataclass(frozen=True)
class FieldSelector:
    """A parsed field selector: every clause must hold."""

    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Tell whether the object's selectable fields satisfy every clause."""
        return all(r.matches(fields) for r in self.requirements)

    def value_of(self, path: str) -> str | None:
        """The required value of ``path`` when the selector pins it with ``=``."""
        for r in self.requirements:
            if r.path == path and not r.negated:
                return r.value
        return None


_FIELD_RE = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*$")


def parse_field_selector(
    selector: str | None, *, supported: Callable[[str], bool]
) -> FieldSelector:
    """Parse a field selector, rejecting fields the resource cannot be filtered on.

    Args:
        selector: e.g. ``spec.nodeName=node-1,status.phase!=Running``.
        supported: tells whether a field path is selectable for this resource.

    Raises:
        SelectorError: malformed, or names an unsupported field (the apiserver's wording).
    """
    if selector is None or not selector.strip():
        return FieldSelector()
    clauses: list[FieldRequirement] = []
    for clause in selector.split(","):
        m = _FIELD_RE.match(clause)
        if not m:
            raise SelectorError(f"invalid selector: {selector!r}; can't understand {clause!r}")
        path, op, value = m.groups()
        if not supported(path):
            raise SelectorError(f'field label not supported: "{path}"')
        clauses.append(FieldRequirement(path, value, op == "!="))
    return FieldSelector(tuple(clauses))


__all__ = [
    "FieldRequirement",
    "FieldSelector",
    "LabelSelector",
    "Operator",
    "Requirement",
    "SelectorError",
    "parse_field_selector",
    "parse_label_selector",
    "selector_from_match_labels",
]
