"""What the HTTP API needs from the simulated cluster behind it."""

from __future__ import annotations

from typing import Any, Protocol

from simcluster.api_faults import ApiFaults
from simcluster.counter import RequestCounter
from simcluster.rbac import RbacPolicy
from simcluster.resources import ResourceType
from simcluster.store import Store


class ExecOutcome(Protocol):
    """The result of running a command in a container."""

    @property
    def stdout(self) -> str:
        """What the command wrote to standard output."""

    @property
    def stderr(self) -> str:
        """What the command wrote to standard error."""

    @property
    def exit_code(self) -> int:
        """The command's exit status."""


class Admitter(Protocol):
    """Admission: defaults, validation and allocations for writes."""

    def admit(self, rt: ResourceType, obj: dict[str, Any], *, old: dict[str, Any] | None) -> None:
        """Default, validate and complete an object about to be written (mutates it)."""


class PodExecutor(Protocol):
    """Runs commands in pods' containers."""

    def run(
        self, namespace: str, name: str, *, container: str | None, command: list[str]
    ) -> ExecOutcome:
        """Run a command in a pod's container."""


class PodLogReader(Protocol):
    """Reads pods' container logs."""

    def read(
        self,
        namespace: str,
        name: str,
        *,
        container: str | None,
        tail_lines: int | None,
        previous: bool,
    ) -> str:
        """Return a container's log."""


class ClusterBackend(Protocol):
    """The parts of `simcluster.cluster.SimCluster` that the API serves."""

    @property
    def store(self) -> Store:
        """The object store."""

    @property
    def api_faults(self) -> ApiFaults:
        """Faults injected into API requests."""

    @property
    def requests(self) -> RequestCounter:
        """The request tally."""

    @property
    def rbac(self) -> RbacPolicy | None:
        """The RBAC policy; None authorizes every authenticated request."""

    @property
    def admission(self) -> Admitter:
        """Admission of writes."""

    @property
    def pod_exec(self) -> PodExecutor:
        """``exec`` into pods."""

    @property
    def pod_logs(self) -> PodLogReader:
        """Pods' logs."""

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Admit and store a new object of any served kind (namespace from its metadata)."""

    def delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        *,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
    ) -> dict[str, Any]:
        """Delete an object, leaving its dependents when the policy is ``Orphan``.

        A pod on a node is only marked Terminating, for its grace period (the request's, else
        its own); 0 removes it at once.
        """
