"""Operations on Services, Endpoints and EndpointSlices."""

from __future__ import annotations

from integrations.kubernetes.bodies import Patch, delete_options, patch_body, patch_content_type
from integrations.kubernetes.operations.base import KubeBase, json_headers
from integrations.kubernetes.selectors import LabelSelector, label_selector_text
from integrations.kubernetes.views import (
    SERVICE_NAME_LABEL,
    Endpoints,
    EndpointSlice,
    JsonObject,
    Service,
    parse_endpoint_slice,
    parse_endpoints,
    parse_service,
)


class NetworkingOperations(KubeBase):
    """Read Services and where their traffic goes; create and delete Services."""

    def get_service(self, name: str, namespace: str) -> Service:
        """Read one Service."""
        return parse_service(
            self._call.call_json(self._core.read_namespaced_service, name, namespace)
        )

    def list_services(
        self, namespace: str | None = None, *, label_selector: LabelSelector = None
    ) -> list[Service]:
        """List Services in `namespace` (None: all namespaces)."""
        return self._list(
            self._core.list_namespaced_service,
            self._core.list_service_for_all_namespaces,
            parse_service,
            namespace,
            label_selector=label_selector_text(label_selector),
        )

    def create_service(self, namespace: str, manifest: JsonObject) -> Service:
        """Create a Service from its manifest; raises `AlreadyExists` if the name is taken."""
        created = self._call.call_json(
            self._core.create_namespaced_service,
            namespace,
            dict(manifest),
            _headers=json_headers(),
        )
        return parse_service(created)

    def patch_service(self, name: str, namespace: str, patch: Patch) -> Service:
        """Patch a Service (strategic merge or JSON patch) and return the result.

        Raises:
            Invalid: A JSON patch's ``test`` failed (the Service changed since it was read).
        """
        patched = self._call.call_json(
            self._core.patch_namespaced_service,
            name,
            namespace,
            patch_body(patch),
            _content_type=patch_content_type(patch),
        )
        return parse_service(patched)

    def delete_service(
        self,
        name: str,
        namespace: str,
        *,
        uid: str | None = None,
        resource_version: str | None = None,
    ) -> None:
        """Delete a Service; with `uid`/`resource_version` only if it is still that object."""
        self._call.call_bytes(
            self._core.delete_namespaced_service,
            name,
            namespace,
            body=delete_options(uid=uid, resource_version=resource_version),
            _headers=json_headers(),
        )

    def get_endpoints(self, name: str, namespace: str) -> Endpoints:
        """Read the Endpoints of the Service `name`."""
        return parse_endpoints(
            self._call.call_json(self._core.read_namespaced_endpoints, name, namespace)
        )

    def list_endpoints(
        self, namespace: str | None = None, *, label_selector: LabelSelector = None
    ) -> list[Endpoints]:
        """List Endpoints in `namespace` (None: all namespaces)."""
        return self._list(
            self._core.list_namespaced_endpoints,
            self._core.list_endpoints_for_all_namespaces,
            parse_endpoints,
            namespace,
            label_selector=label_selector_text(label_selector),
        )

    def list_endpoint_slices(
        self,
        namespace: str | None = None,
        *,
        service_name: str | None = None,
        label_selector: LabelSelector = None,
    ) -> list[EndpointSlice]:
        """List EndpointSlices, optionally only those of the Service `service_name`."""
        selector = label_selector_text(label_selector)
        if service_name is not None:
            own = f"{SERVICE_NAME_LABEL}={service_name}"
            selector = f"{selector},{own}" if selector else own
        return self._list(
            self._discovery.list_namespaced_endpoint_slice,
            self._discovery.list_endpoint_slice_for_all_namespaces,
            parse_endpoint_slice,
            namespace,
            label_selector=selector,
        )
