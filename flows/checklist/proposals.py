"""Proposed Service fixes: a selector that nearly matches, a targetPort the pods expose."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher

from flows.checklist.observation import PodState, ServicePortState

SIMILAR_VALUE_RATIO = 0.6
"""How alike two label values must be (difflib ratio) to count as a near miss: web-v2 ~ web."""


@dataclass(frozen=True, slots=True)
class SelectorCandidate:
    """A selector that would match pods the current one nearly matches."""

    selector: Mapping[str, str]
    pods: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Unresolved:
    """No single fix can be proposed; why, and what was seen."""

    reason: str
    candidates: tuple[str, ...] = ()


def render_labels(labels: Mapping[str, str]) -> str:
    """``a=1,b=2`` with keys sorted, as in a label selector."""
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels)) or "(none)"


def matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Whether every pair of a non-empty equality selector is in `labels`."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _similar(wanted: str, seen: str) -> bool:
    if wanted.startswith(seen) or seen.startswith(wanted):
        return True
    return SequenceMatcher(None, wanted, seen).ratio() >= SIMILAR_VALUE_RATIO


def _near_selector(selector: Mapping[str, str], labels: Mapping[str, str]) -> dict[str, str] | None:
    """The selector corrected by one pair so that it matches `labels`, if one pair is off."""
    wrong = [key for key, value in selector.items() if labels.get(key) != value]
    if len(wrong) != 1:
        return None
    (key,) = wrong
    if key in labels:
        if not _similar(selector[key], labels[key]):
            return None
        return {**selector, key: labels[key]}
    # A key the pods lack: dropping it only helps when the rest still selects something.
    rest = {k: v for k, v in selector.items() if k != key}
    return rest or None


def selector_candidates(
    selector: Mapping[str, str], pods: Iterable[PodState]
) -> tuple[SelectorCandidate, ...]:
    """The distinct corrected selectors that would match some of `pods`, with those pods."""
    found: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for pod in pods:
        corrected = _near_selector(selector, pod.labels)
        if corrected is not None:
            found.setdefault(tuple(sorted(corrected.items())), []).append(pod.name)
    return tuple(
        SelectorCandidate(selector=dict(key), pods=tuple(sorted(names)))
        for key, names in sorted(found.items())
    )


def propose_selector(
    selector: Mapping[str, str], pods: Iterable[PodState]
) -> SelectorCandidate | Unresolved:
    """The one near-miss selector fix, or why there is none (no candidate, or several)."""
    candidates = selector_candidates(selector, pods)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        return Unresolved(f"no pod in the namespace nearly matches {render_labels(selector)}")
    return Unresolved(
        f"{len(candidates)} label sets nearly match {render_labels(selector)}; pick one by hand",
        tuple(f"{render_labels(c.selector)} ({', '.join(c.pods)})" for c in candidates),
    )


def port_resolves(port: ServicePortState, pod: PodState) -> bool | None:
    """Whether `pod` serves `port`'s targetPort: True, False, or None when it cannot be told.

    A named targetPort must name a declared container port. A numeric one may be served by
    a port the container never declares, so only a pod that declares ports, none of them
    this one, counts as False.
    """
    declared = [p for p in pod.container_ports if p.protocol == port.protocol]
    if isinstance(port.target_port, str):
        return any(p.name == port.target_port for p in declared)
    if not declared:
        return None
    return any(p.number == port.target_port for p in declared)


def exposed_ports(port: ServicePortState, pods: Iterable[PodState]) -> tuple[str, ...]:
    """The container ports (``name:number``) `pods` declare with `port`'s protocol."""
    seen = {
        f"{p.name}:{p.number}" if p.name else str(p.number)
        for pod in pods
        for p in pod.container_ports
        if p.protocol == port.protocol
    }
    return tuple(sorted(seen))


def propose_target_port(port: ServicePortState, pods: Iterable[PodState]) -> int | str | Unresolved:
    """The targetPort the pods expose, when they expose exactly one port of that protocol.

    A named targetPort is replaced by the name when the port has one, else by the number.
    """
    pods = tuple(pods)
    declared = {
        (p.name, p.number)
        for pod in pods
        for p in pod.container_ports
        if p.protocol == port.protocol
    }
    if not declared:
        return Unresolved(f"the pods declare no {port.protocol} container port")
    numbers = {number for _, number in declared}
    if len(numbers) != 1:
        return Unresolved(
            f"the pods expose {len(numbers)} {port.protocol} ports; pick one by hand",
            exposed_ports(port, pods),
        )
    names = {name for name, _ in declared if name}
    if isinstance(port.target_port, str) and len(names) == 1:
        return names.pop()
    return numbers.pop()
