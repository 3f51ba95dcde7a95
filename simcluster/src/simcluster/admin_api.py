"""HTTP routes for fault injection (mounted by the server under ``/simcluster/``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from simcluster.errors import ApiError
from simcluster.faults import Faults

Obj = dict[str, Any]
Injector = Callable[[Obj], Obj]


def _injectors(faults: Faults) -> dict[str, Injector]:
    return {
        "kube-proxy-down": lambda b: faults.kube_proxy_down(
            b.get("nodes"), persistent=bool(b.get("persistent", False))
        ),
        "kube-proxy-rules-stale": lambda b: faults.kube_proxy_rules_stale(b.get("nodes")),
        "conntrack-table-full": lambda b: faults.conntrack_table_full(
            b.get("nodes"), **_pick(b, "fraction", "limit")
        ),
        "bad-kube-proxy-rollout": lambda b: faults.bad_kube_proxy_rollout(**_pick(b, "image")),
        "selector-mismatch": lambda b: faults.selector_mismatch(
            **_pick(b, "namespace", "service", "selector")
        ),
        "wrong-target-port": lambda b: faults.wrong_target_port(
            **_pick(b, "namespace", "service", "target_port")
        ),
        "app-pods-not-ready": lambda b: faults.app_pods_not_ready(
            **_pick(b, "namespace", "selector")
        ),
        "api-flaky": lambda b: faults.api_flaky(
            **_pick(b, "throttle_rate", "error_rate", "latency_seconds")
        ),
    }


def _pick(body: Obj, *keys: str) -> Obj:
    return {k: body[k] for k in keys if k in body}


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def admin_routes(faults: Faults) -> list[BaseRoute]:
    """Routes: ``GET /faults``, ``POST /faults/{name}`` (JSON options), ``DELETE /faults/{name}``,
    ``POST /heal`` (every fault)."""
    injectors = _injectors(faults)

    async def list_faults(request: Request) -> Response:
        del request
        return _json({"active": faults.active(), "available": sorted(injectors)})

    async def inject(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in injectors:
            return _json({"error": f"unknown fault {name!r}", "available": sorted(injectors)}, 404)
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            return _json({"error": "the body must be a JSON object"}, 400)
        if not isinstance(body, dict):
            return _json({"error": "the body must be a JSON object"}, 400)
        try:
            details = injectors[name](body)
        except ApiError as error:
            return _json(error.to_status(), error.code)
        except (TypeError, ValueError) as error:
            return _json({"error": str(error)}, 400)
        return _json({"fault": name, "details": details}, 201)

    async def heal(request: Request) -> Response:
        name = request.path_params["name"]
        if not faults.heal(name):
            return _json({"error": f"fault {name!r} is not active"}, 404)
        return _json({"healed": [name]})

    async def heal_all(request: Request) -> Response:
        del request
        return _json({"healed": faults.heal_all()})

    return [
        Route("/faults", list_faults, methods=["GET"]),
        Route("/faults/{name}", inject, methods=["POST"]),
        Route("/faults/{name}", heal, methods=["DELETE"]),
        Route("/heal", heal_all, methods=["POST"]),
    ]
