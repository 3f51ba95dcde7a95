"""Operations on DaemonSets, their ControllerRevisions, Deployments, ReplicaSets, StatefulSets."""

from __future__ import annotations

from integrations.kubernetes.bodies import Patch, patch_body, patch_content_type
from integrations.kubernetes.operations.base import KubeBase
from integrations.kubernetes.selectors import LabelSelector, label_selector_text
from integrations.kubernetes.views import (
    ControllerRevision,
    DaemonSet,
    Deployment,
    ReplicaSet,
    StatefulSet,
    parse_controller_revision,
    parse_daemon_set,
    parse_deployment,
    parse_replica_set,
    parse_stateful_set,
)


class WorkloadOperations(KubeBase):
    """Read and patch workloads, and find a DaemonSet's revisions."""

    def get_daemon_set(self, name: str, namespace: str) -> DaemonSet:
        """Read one DaemonSet."""
        return parse_daemon_set(
            self._call.call_json(self._apps.read_namespaced_daemon_set, name, namespace)
        )

    def list_daemon_sets(
        self, namespace: str | None = None, *, label_selector: LabelSelector = None
    ) -> list[DaemonSet]:
        """List DaemonSets in `namespace` (None: all namespaces)."""
        return self._list(
            self._apps.list_namespaced_daemon_set,
            self._apps.list_daemon_set_for_all_namespaces,
            parse_daemon_set,
            namespace,
            label_selector=label_selector_text(label_selector),
        )

    def patch_daemon_set(self, name: str, namespace: str, patch: Patch) -> DaemonSet:
        """Patch a DaemonSet (strategic merge or JSON patch) and return the result."""
        patched = self._call.call_json(
            self._apps.patch_namespaced_daemon_set,
            name,
            namespace,
            patch_body(patch),
            _content_type=patch_content_type(patch),
        )
        return parse_daemon_set(patched)

    def list_daemon_set_revisions(self, daemon_set: DaemonSet) -> list[ControllerRevision]:
        """List the ControllerRevisions a DaemonSet owns, oldest revision first.

        This is what ``kubectl rollout undo`` chooses from: revisions matching the DaemonSet's
        selector and owned by it (by uid).
        """
        revisions = self._call.call_list(
            self._apps.list_namespaced_controller_revision,
            parse_controller_revision,
            daemon_set.meta.namespace or "default",
            label_selector=label_selector_text(daemon_set.selector),
        )
        owned = [
            revision
            for revision in revisions
            if any(owner.uid == daemon_set.meta.uid for owner in revision.meta.owner_references)
        ]
        return sorted(owned, key=lambda revision: revision.revision)

    def get_deployment(self, name: str, namespace: str) -> Deployment:
        """Read one Deployment."""
        return parse_deployment(
            self._call.call_json(self._apps.read_namespaced_deployment, name, namespace)
        )

    def list_deployments(
        self, namespace: str | None = None, *, label_selector: LabelSelector = None
    ) -> list[Deployment]:
        """List Deployments in `namespace` (None: all namespaces)."""
        return self._list(
            self._apps.list_namespaced_deployment,
            self._apps.list_deployment_for_all_namespaces,
            parse_deployment,
            namespace,
            label_selector=label_selector_text(label_selector),
        )

    def list_replica_sets(
        self, namespace: str | None = None, *, label_selector: LabelSelector = None
    ) -> list[ReplicaSet]:
        """List ReplicaSets in `namespace` (None: all namespaces)."""
        return self._list(
            self._apps.list_namespaced_replica_set,
            self._apps.list_replica_set_for_all_namespaces,
            parse_replica_set,
            namespace,
            label_selector=label_selector_text(label_selector),
        )

    def list_stateful_sets(
        self, namespace: str | None = None, *, label_selector: LabelSelector = None
    ) -> list[StatefulSet]:
        """List StatefulSets in `namespace` (None: all namespaces)."""
        return self._list(
            self._apps.list_namespaced_stateful_set,
            self._apps.list_stateful_set_for_all_namespaces,
            parse_stateful_set,
            namespace,
            label_selector=label_selector_text(label_selector),
        )
