"""HTTP routes serving the exporters (mounted by the server under ``/simcluster/``)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from simcluster.errors import NotFoundError
from simcluster.metrics.exporters import Exporters
from simcluster.metrics.exposition import CONTENT_TYPE
from simcluster.metrics.targets import JOBS, http_sd


def _exposition(text: str) -> Response:
    return Response(text, media_type=CONTENT_TYPE)


def metrics_routes(exporters: Exporters) -> list[BaseRoute]:
    """Routes under ``/metrics``: ``kube-state-metrics``, ``kube-proxy/{node}``,
    ``node-exporter/{node}`` and ``targets`` (Prometheus HTTP SD, optionally ``?job=``)."""

    async def kube_state_metrics(request: Request) -> Response:
        del request
        return _exposition(exporters.kube_state_metrics())

    async def kube_proxy(request: Request) -> Response:
        node = request.path_params["node"]
        try:
            text = exporters.kube_proxy(node)
        except NotFoundError as error:
            return PlainTextResponse(error.message + "\n", 404)
        if text is None:
            # A real scrape finds nothing listening; any non-2xx makes Prometheus' `up` 0 too.
            return PlainTextResponse(f"kube-proxy is not running on node {node}\n", 503)
        return _exposition(text)

    async def node_exporter(request: Request) -> Response:
        try:
            return _exposition(exporters.node_exporter(request.path_params["node"]))
        except NotFoundError as error:
            return PlainTextResponse(error.message + "\n", 404)

    async def targets(request: Request) -> Response:
        job = request.query_params.get("job")
        if job is not None and job not in JOBS:
            return PlainTextResponse(f"unknown job {job!r}; jobs: {', '.join(JOBS)}\n", 400)
        chosen = [t for t in exporters.targets() if job is None or t.job == job]
        # The targets are this listener, as the caller reached it.
        groups = http_sd(chosen, address=request.url.netloc, scheme=request.url.scheme)
        return Response(orjson.dumps(groups), media_type="application/json")

    return [
        Route("/metrics/kube-state-metrics", kube_state_metrics, methods=["GET"]),
        Route("/metrics/kube-proxy/{node}", kube_proxy, methods=["GET"]),
        Route("/metrics/node-exporter/{node}", node_exporter, methods=["GET"]),
        Route("/metrics/targets", targets, methods=["GET"]),
    ]
