"""Workload views (DaemonSet, ControllerRevision, Deployment, ReplicaSet, StatefulSet): rollout
state, what a Service's selector may match, and what to roll back to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from integrations.kubernetes.views.meta import (
    JsonObject,
    ObjectMeta,
    mapping,
    objects,
    optional_str,
    parse_meta,
)


@dataclass(frozen=True, slots=True)
class Container:
    """A container of a pod template: its name and image."""

    name: str
    image: str


@dataclass(frozen=True, slots=True)
class UpdateStrategy:
    """A DaemonSet's ``spec.updateStrategy``; the bounds are numbers or percentages."""

    type: str
    max_unavailable: int | str | None
    max_surge: int | str | None


@dataclass(frozen=True, slots=True)
class DaemonSetStatus:
    """A DaemonSet's status counters."""

    desired_number_scheduled: int
    current_number_scheduled: int
    updated_number_scheduled: int
    number_ready: int
    number_available: int
    number_unavailable: int
    number_misscheduled: int
    observed_generation: int | None


@dataclass(frozen=True, slots=True)
class DaemonSet:
    """A DaemonSet as rollouts see it; ``raw`` keeps the object for backups and rollbacks."""

    meta: ObjectMeta
    selector: Mapping[str, str]
    containers: tuple[Container, ...]
    update_strategy: UpdateStrategy
    status: DaemonSetStatus
    raw: JsonObject = field(repr=False, compare=False)

    @property
    def images(self) -> tuple[str, ...]:
        """The template's container images, in order."""
        return tuple(container.image for container in self.containers)

    @property
    def rollout_observed(self) -> bool:
        """Whether the controller has seen the latest spec (observedGeneration >= generation)."""
        observed, generation = self.status.observed_generation, self.meta.generation
        return observed is not None and (generation is None or observed >= generation)


REVISION_HASH_LABEL = "controller-revision-hash"
"""The label the DaemonSet controller puts on its ControllerRevisions and on each pod it creates
from one: how a pod tells which revision (which template) it runs."""


@dataclass(frozen=True, slots=True)
class ControllerRevision:
    """A ControllerRevision: a numbered snapshot of a DaemonSet's template (``data``)."""

    meta: ObjectMeta
    revision: int
    data: JsonObject
    raw: JsonObject = field(repr=False, compare=False)

    @property
    def hash(self) -> str:
        """Its ``controller-revision-hash`` (the label, else its name's ``-<hash>`` suffix)."""
        return self.meta.labels.get(REVISION_HASH_LABEL) or self.meta.name.rsplit("-", 1)[-1]

    @property
    def template(self) -> dict[str, Any]:
        """The pod template it holds (its patch without ``$patch``)."""
        template = mapping(mapping(self.data.get("spec")).get("template"))
        held = dict(template)
        held.pop("$patch", None)
        return held


@dataclass(frozen=True, slots=True)
class Condition:
    """One entry of a workload's ``status.conditions`` (e.g. ``Progressing``)."""

    type: str
    status: str
    reason: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    """A Deployment's status counters."""

    replicas: int
    ready_replicas: int
    available_replicas: int
    updated_replicas: int
    unavailable_replicas: int
    observed_generation: int | None
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True)
class Deployment:
    """A Deployment's desired and observed replicas."""

    meta: ObjectMeta
    replicas: int
    selector: Mapping[str, str]
    containers: tuple[Container, ...]
    status: DeploymentStatus
    raw: JsonObject = field(repr=False, compare=False)

    @property
    def template_labels(self) -> Mapping[str, str]:
        """The labels its pods are created with (what a Service's selector matches)."""
        return template_labels(self.raw)


@dataclass(frozen=True, slots=True)
class ReplicaSetStatus:
    """A ReplicaSet's status counters."""

    replicas: int
    ready_replicas: int
    available_replicas: int
    observed_generation: int | None


@dataclass(frozen=True, slots=True)
class ReplicaSet:
    """A ReplicaSet's desired and observed replicas (``meta.controller``: its Deployment)."""

    meta: ObjectMeta
    replicas: int
    selector: Mapping[str, str]
    template_labels: Mapping[str, str]
    status: ReplicaSetStatus
    raw: JsonObject = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class StatefulSetStatus:
    """A StatefulSet's status counters and revisions."""

    replicas: int
    ready_replicas: int
    updated_replicas: int
    observed_generation: int | None
    current_revision: str | None
    update_revision: str | None


@dataclass(frozen=True, slots=True)
class StatefulSet:
    """A StatefulSet's desired and observed replicas."""

    meta: ObjectMeta
    replicas: int
    selector: Mapping[str, str]
    template_labels: Mapping[str, str]
    status: StatefulSetStatus
    raw: JsonObject = field(repr=False, compare=False)


def _count(obj: JsonObject, key: str) -> int:
    value = obj.get(key)
    return value if isinstance(value, int) else 0


def _int_or_percent(value: Any) -> int | str | None:
    return value if isinstance(value, int | str) else None


def _generation(obj: JsonObject) -> int | None:
    value = obj.get("observedGeneration")
    return value if isinstance(value, int) else None


def parse_containers(spec: JsonObject) -> tuple[Container, ...]:
    """Read the containers of a workload's ``spec.template``."""
    pod_spec = mapping(mapping(spec.get("template")).get("spec"))
    return tuple(
        Container(name=str(c.get("name", "")), image=str(c.get("image", "")))
        for c in objects(pod_spec.get("containers"))
    )


def _match_labels(spec: JsonObject) -> Mapping[str, str]:
    return mapping(mapping(spec.get("selector")).get("matchLabels"))


def template_labels(obj: JsonObject) -> Mapping[str, str]:
    """The labels of a workload's pod template (``spec.template.metadata.labels``)."""
    template = mapping(mapping(obj.get("spec")).get("template"))
    return mapping(mapping(template.get("metadata")).get("labels"))


def _replicas(spec: JsonObject) -> int:
    replicas = spec.get("replicas")
    # The apiserver defaults an absent spec.replicas to 1.
    return replicas if isinstance(replicas, int) else 1


def _conditions(status: JsonObject) -> tuple[Condition, ...]:
    return tuple(
        Condition(
            type=str(c.get("type") or ""),
            status=str(c.get("status") or ""),
            reason=optional_str(c.get("reason")),
            message=optional_str(c.get("message")),
        )
        for c in objects(status.get("conditions"))
    )


def parse_daemon_set(obj: JsonObject) -> DaemonSet:
    """Read a DaemonSet object into a `DaemonSet` view."""
    spec = mapping(obj.get("spec"))
    status = mapping(obj.get("status"))
    strategy = mapping(spec.get("updateStrategy"))
    rolling = mapping(strategy.get("rollingUpdate"))
    return DaemonSet(
        meta=parse_meta(obj),
        selector=_match_labels(spec),
        containers=parse_containers(spec),
        update_strategy=UpdateStrategy(
            type=str(strategy.get("type") or "RollingUpdate"),
            max_unavailable=_int_or_percent(rolling.get("maxUnavailable")),
            max_surge=_int_or_percent(rolling.get("maxSurge")),
        ),
        status=DaemonSetStatus(
            desired_number_scheduled=_count(status, "desiredNumberScheduled"),
            current_number_scheduled=_count(status, "currentNumberScheduled"),
            updated_number_scheduled=_count(status, "updatedNumberScheduled"),
            number_ready=_count(status, "numberReady"),
            number_available=_count(status, "numberAvailable"),
            number_unavailable=_count(status, "numberUnavailable"),
            number_misscheduled=_count(status, "numberMisscheduled"),
            observed_generation=_generation(status),
        ),
        raw=obj,
    )


def parse_controller_revision(obj: JsonObject) -> ControllerRevision:
    """Read a ControllerRevision object into a `ControllerRevision` view."""
    return ControllerRevision(
        meta=parse_meta(obj),
        revision=_count(obj, "revision"),
        data=mapping(obj.get("data")),
        raw=obj,
    )


def parse_deployment(obj: JsonObject) -> Deployment:
    """Read a Deployment object into a `Deployment` view."""
    spec = mapping(obj.get("spec"))
    status = mapping(obj.get("status"))
    replicas = spec.get("replicas")
    return Deployment(
        meta=parse_meta(obj),
        replicas=replicas if isinstance(replicas, int) else 1,
        selector=_match_labels(spec),
        containers=parse_containers(spec),
        status=DeploymentStatus(
            replicas=_count(status, "replicas"),
            ready_replicas=_count(status, "readyReplicas"),
            available_replicas=_count(status, "availableReplicas"),
            updated_replicas=_count(status, "updatedReplicas"),
            unavailable_replicas=_count(status, "unavailableReplicas"),
            observed_generation=_generation(status),
            conditions=_conditions(status),
        ),
        raw=obj,
    )


def parse_replica_set(obj: JsonObject) -> ReplicaSet:
    """Read a ReplicaSet object into a `ReplicaSet` view."""
    spec = mapping(obj.get("spec"))
    status = mapping(obj.get("status"))
    return ReplicaSet(
        meta=parse_meta(obj),
        replicas=_replicas(spec),
        selector=_match_labels(spec),
        template_labels=template_labels(obj),
        status=ReplicaSetStatus(
            replicas=_count(status, "replicas"),
            ready_replicas=_count(status, "readyReplicas"),
            available_replicas=_count(status, "availableReplicas"),
            observed_generation=_generation(status),
        ),
        raw=obj,
    )


def parse_stateful_set(obj: JsonObject) -> StatefulSet:
    """Read a StatefulSet object into a `StatefulSet` view."""
    spec = mapping(obj.get("spec"))
    status = mapping(obj.get("status"))
    return StatefulSet(
        meta=parse_meta(obj),
        replicas=_replicas(spec),
        selector=_match_labels(spec),
        template_labels=template_labels(obj),
        status=StatefulSetStatus(
            replicas=_count(status, "replicas"),
            ready_replicas=_count(status, "readyReplicas"),
            updated_replicas=_count(status, "updatedReplicas"),
            observed_generation=_generation(status),
            current_revision=optional_str(status.get("currentRevision")),
            update_revision=optional_str(status.get("updateRevision")),
        ),
        raw=obj,
    )
