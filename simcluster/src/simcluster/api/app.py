"""The Starlette app: authentication, counting, faults and authorization around each verb."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import orjson
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp
from starlette.websockets import WebSocket

from simcluster import resources
from simcluster.api import discovery
from simcluster.api.access import check_access, resource_access
from simcluster.api.backend import ClusterBackend
from simcluster.api.handlers import serve_resource
from simcluster.api.impersonation import impersonated
from simcluster.api.openapi import openapi_v3
from simcluster.api.paths import PathNotFoundError, ResourcePath, resolve_path
from simcluster.api.podio import choose_subprotocol, run_exec, stream_exec
from simcluster.api.responses import error_response, json_response, raw_json
from simcluster.api.reviews import answer
from simcluster.api.verbs import is_watch, request_verb
from simcluster.api.watching import WatchHub
from simcluster.authn import TokenAuthenticator, UserInfo
from simcluster.errors import ApiError, BadRequestError, InternalError, UnauthorizedError
from simcluster.rbac import RbacPolicy

_log = logging.getLogger(__name__)

_DISCOVERY_ROOTS = ("/version", "/version/", "/api", "/api/", "/apis", "/apis/")
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_REVIEWS = (resources.SELF_SUBJECT_REVIEWS, resources.SELF_SUBJECT_ACCESS_REVIEWS)


def _static_discovery() -> dict[str, bytes]:
    """Discovery documents that never change, serialized once, by URL path."""
    documents: dict[str, bytes] = {
        "/version": orjson.dumps(discovery.version_info()),
        "/apis": orjson.dumps(discovery.api_group_list()),
    }
    for group, version in resources.group_versions():
        base = f"/apis/{group}" if group else "/api"
        resource_list = discovery.api_resource_list(group, version)
        if resource_list is not None:
            documents[f"{base}/{version}"] = orjson.dumps(resource_list)
        group_doc = discovery.api_group(group)
        if group_doc is not None:
            documents[base] = orjson.dumps(group_doc)
    return documents


class KubeApi:
    """The request pipeline of the simulated apiserver.

    Args:
        cluster: The cluster whose objects are served.
        enforce_rbac: Authorize resource requests with ``cluster.rbac``.
        authenticator: Bearer-token authenticator (defaults to the sim's admin and engine tokens).
        hub: Registry of live watches (ended when the server stops).
    """

    def __init__(
        self,
        cluster: ClusterBackend,
        *,
        enforce_rbac: bool = True,
        authenticator: TokenAuthenticator | None = None,
        hub: WatchHub | None = None,
    ) -> None:
        self.cluster = cluster
        self.enforce_rbac = enforce_rbac
        self.authenticator = authenticator or TokenAuthenticator()
        self.hub = hub or WatchHub()
        self._discovery = _static_discovery()

    def authenticate(self, headers: Headers) -> UserInfo:
        """Identify the caller from its bearer token, or whom it may impersonate.

        Raises:
            UnauthorizedError: no token or an unknown one.
            ApiError: an impersonation the caller may not make (403) or a malformed one (400).
        """
        user = self.authenticator.authenticate_header(headers.get("authorization"))
        if user is None:
            raise UnauthorizedError("Unauthorized")
        return impersonated(
            user,
            user=headers.get("impersonate-user"),
            groups=headers.getlist("impersonate-group"),
            policy=self.policy,
        )

    @property
    def policy(self) -> RbacPolicy | None:
        """The policy requests are authorized by; None when RBAC is not enforced."""
        return self.cluster.rbac if self.enforce_rbac else None

    async def admit_request(self, user: UserInfo, verb: str, target: ResourcePath) -> None:
        """Count the request, apply injected faults, then authorize it.

        Raises:
            ApiError: an injected 429/500, or RBAC's 403.
        """
        resource = target.counted_resource
        self.cluster.requests.record(verb, resource)
        faults = self.cluster.api_faults
        delay = faults.delay_for(verb, resource)
        if delay > 0:
            await asyncio.sleep(delay)
        fault = faults.draw(verb, resource)
        if fault is not None:
            raise fault
        if self.enforce_rbac:
            check_access(self.policy, resource_access(user, verb, target))

    async def discovery_document(self, request: Request) -> Response:
        """Serve ``/version``, ``/api`` and ``/apis`` (any authenticated user may read them)."""
        try:
            self.authenticate(request.headers)
        except ApiError as error:
            return error_response(error)
        if request.url.path.rstrip("/") == "/api":
            return json_response(discovery.api_versions(request.url.netloc))
        return raw_json(self._discovery[request.url.path.rstrip("/")])

    async def openapi_document(self, request: Request) -> Response:
        """Serve ``/openapi/v3`` and its group versions' documents (to any authenticated user)."""
        try:
            self.authenticate(request.headers)
        except ApiError as error:
            return error_response(error)
        documents = openapi_v3()
        key = request.url.path.removeprefix("/openapi/v3").strip("/")
        if not key:
            return raw_json(documents.index)
        found = documents.document(key)
        if found is None:
            return error_response(PathNotFoundError())
        body, digest = found
        response = raw_json(body)
        # A hashed URL never changes content, so clients may keep it (as the apiserver says).
        fresh = request.query_params.get("hash") == digest
        response.headers["Cache-Control"] = "public, immutable" if fresh else "no-cache, private"
        response.headers["ETag"] = f'"{digest}"'
        return response

    async def resource_request(self, request: Request) -> ASGIApp:
        """Serve anything under ``/api/`` and ``/apis/``: discovery or a resource verb."""
        try:
            user = self.authenticate(request.headers)
            path = request.url.path.rstrip("/")
            if path in self._discovery:
                return raw_json(self._discovery[path])
            target = resolve_path(path)
            verb = request_verb(
                request.method, target, watch=is_watch(request.query_params.get("watch"))
            )
            await self.admit_request(user, verb, target)
            if target.resource in _REVIEWS:
                body = await request.body()
                return json_response(answer(target.resource, body, user, self.policy), 201)
            return await serve_resource(request, self.cluster, target, verb=verb, hub=self.hub)
        except ApiError as error:
            return error_response(error)

    async def exec_socket(self, websocket: WebSocket) -> None:
        """Run ``pods/{name}/exec`` over a WebSocket (refusals are plain HTTP `Status` answers)."""
        try:
            user = self.authenticate(websocket.headers)
            target = resolve_path(websocket.url.path)
            await self.admit_request(user, "create", target)
            subprotocol = choose_subprotocol(websocket.headers.get("sec-websocket-protocol"))
            if subprotocol is None:
                raise BadRequestError("a v4 or v5 channel.k8s.io subprotocol is required")
            commands = websocket.query_params.getlist("command")
            outcome = await run_exec(self.cluster, target, websocket.query_params, commands)
        except ApiError as error:
            await websocket.send_denial_response(error_response(error))
            return
        await stream_exec(websocket, outcome, commands, subprotocol)

    async def not_found(self, request: Request) -> Response:
        """Answer any other path with a 404 `Status`."""
        return error_response(PathNotFoundError())


async def _internal_error(request: Request, exc: Exception) -> Response:
    _log.error("unhandled error serving %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(InternalError(f"Internal error occurred: {exc}"))


async def _ok(request: Request) -> Response:
    return PlainTextResponse("ok")


def build_app(
    cluster: ClusterBackend,
    *,
    enforce_rbac: bool = True,
    authenticator: TokenAuthenticator | None = None,
    hub: WatchHub | None = None,
    admin_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """Build the ASGI application serving the Kubernetes API of ``cluster``.

    Args:
        cluster: The simulated cluster.
        enforce_rbac: Authorize requests with ``cluster.rbac`` (admins always pass).
        authenticator: Bearer-token authenticator; defaults to the sim's admin and engine tokens.
        hub: Registry of live watches; pass one to be able to end them on shutdown.
        admin_routes: Extra routes mounted under ``/simcluster`` (not faulted nor counted).
    """
    api = KubeApi(cluster, enforce_rbac=enforce_rbac, authenticator=authenticator, hub=hub)
    routes: list[BaseRoute] = [
        *(Route(path, api.discovery_document) for path in _DISCOVERY_ROOTS),
        Route("/healthz", _ok),
        Route("/readyz", _ok),
        Route("/livez", _ok),
        Route("/openapi/v3", api.openapi_document),
        Route("/openapi/v3/{rest:path}", api.openapi_document),
        WebSocketRoute("/api/v1/namespaces/{namespace}/pods/{name}/exec", api.exec_socket),
        Route("/api/{rest:path}", api.resource_request, methods=_ALL_METHODS),
        Route("/apis/{rest:path}", api.resource_request, methods=_ALL_METHODS),
    ]
    if admin_routes:
        routes.append(Mount("/simcluster", routes=list(admin_routes)))
    routes.append(Route("/{rest:path}", api.not_found, methods=_ALL_METHODS))
    return Starlette(routes=routes, exception_handlers={Exception: _internal_error})
