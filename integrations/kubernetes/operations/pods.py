"""Operations on Pods (read, delete, logs, exec), Nodes, Events and ConfigMaps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from integrations.kubernetes.bodies import delete_options
from integrations.kubernetes.operations.base import KubeBase, json_headers
from integrations.kubernetes.pod_exec import ExecResult, run_in_pod
from integrations.kubernetes.selectors import (
    LabelSelector,
    involved_object_selector,
    label_selector_text,
)
from integrations.kubernetes.views import (
    ConfigMap,
    Event,
    Node,
    Pod,
    parse_config_map,
    parse_event,
    parse_node,
    parse_pod,
)

_EPOCH = datetime.min.replace(tzinfo=UTC)


class PodOperations(KubeBase):
    """Read and act on Pods and what runs around them."""

    def get_pod(self, name: str, namespace: str) -> Pod:
        """Read one Pod."""
        return parse_pod(self._call.call_json(self._core.read_namespaced_pod, name, namespace))

    def list_pods(
        self,
        namespace: str | None = None,
        *,
        label_selector: LabelSelector = None,
        field_selector: str | None = None,
    ) -> list[Pod]:
        """List Pods, e.g. ``list_pods("kube-system", label_selector={"k8s-app": "kube-proxy"})``.

        Args:
            namespace: The namespace; None lists all namespaces.
            label_selector: Label selector text or equality pairs.
            field_selector: Field selector text, e.g. ``spec.nodeName=node-1``.
        """
        return self._list(
            self._core.list_namespaced_pod,
            self._core.list_pod_for_all_namespaces,
            parse_pod,
            namespace,
            label_selector=label_selector_text(label_selector),
            field_selector=field_selector,
        )

    def delete_pod(
        self,
        name: str,
        namespace: str,
        *,
        uid: str | None = None,
        resource_version: str | None = None,
        grace_period_seconds: int | None = None,
    ) -> None:
        """Delete a Pod; with `uid`/`resource_version`, only if it is still that pod.

        Raises:
            Conflict: A precondition did not hold (the pod was replaced or changed).
            NotFound: No such pod.
        """
        self._call.call_bytes(
            self._core.delete_namespaced_pod,
            name,
            namespace,
            body=delete_options(uid=uid, resource_version=resource_version),
            grace_period_seconds=grace_period_seconds,
            _headers=json_headers(),
        )

    def read_pod_log(
        self,
        name: str,
        namespace: str,
        *,
        container: str | None = None,
        tail_lines: int | None = None,
        previous: bool = False,
    ) -> str:
        """Read a container's log: the last `tail_lines`, of the previous instance if asked."""
        body = self._call.call_bytes(
            self._core.read_namespaced_pod_log,
            name,
            namespace,
            container=container,
            tail_lines=tail_lines,
            previous=previous or None,
        )
        return body.decode("utf-8", errors="replace")

    def exec_in_pod(
        self,
        name: str,
        namespace: str,
        command: Sequence[str],
        *,
        container: str | None = None,
        timeout_seconds: float | None = None,
    ) -> ExecResult:
        """Run `command` in a pod: a refused handshake is retried, a started command never is.

        A non-zero exit is a result, not an error: check ``result.exit_code``.
        """
        return run_in_pod(
            self._api_client.configuration,
            name,
            namespace,
            command,
            container=container,
            request_timeout_seconds=self._call.request_timeout_seconds,
            exec_timeout_seconds=timeout_seconds or self._exec_timeout_seconds,
            retry_policy=self._call.retry_policy,
        )

    def get_node(self, name: str) -> Node:
        """Read one Node."""
        return parse_node(self._call.call_json(self._core.read_node, name))

    def list_nodes(self, *, label_selector: LabelSelector = None) -> list[Node]:
        """List Nodes."""
        return self._call.call_list(
            self._core.list_node, parse_node, label_selector=label_selector_text(label_selector)
        )

    def list_events_for(
        self, namespace: str, *, kind: str, name: str, uid: str | None = None
    ) -> list[Event]:
        """List the Events about one object, oldest first (by last occurrence)."""
        events = self._call.call_list(
            self._core.list_namespaced_event,
            parse_event,
            namespace,
            field_selector=involved_object_selector(kind=kind, name=name, uid=uid),
        )
        return sorted(events, key=lambda event: event.last_timestamp or _EPOCH)

    def list_events(self, namespace: str, *, field_selector: str | None = None) -> list[Event]:
        """List a namespace's Events (e.g. ``involvedObject.kind=Pod``), oldest first."""
        events = self._call.call_list(
            self._core.list_namespaced_event,
            parse_event,
            namespace,
            field_selector=field_selector,
        )
        return sorted(events, key=lambda event: event.last_timestamp or _EPOCH)

    def get_config_map(self, name: str, namespace: str) -> ConfigMap:
        """Read one ConfigMap."""
        return parse_config_map(
            self._call.call_json(self._core.read_namespaced_config_map, name, namespace)
        )
