"""Benchmark: the simulated cluster at production scale, driven through the Kubernetes adapter.

Run: ``uv run --frozen python -m bench.sim_scale [--nodes 5000 --services 20000 --pods 100000]``.

The cluster is served from a child process, so the server's memory is measured alone and the
client's decoding does not share its interpreter. Prints medians and their ratio to the targets
of issue 2: list all kube-proxy pods by label selector ≤ 300 ms; read one Service, read its
EndpointSlices, delete one kube-proxy pod ≤ 10 ms each; server memory ≤ 2 GB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from integrations.kubernetes import Kube, KubeConnection, connect

KUBE_PROXY = "k8s-app=kube-proxy"


def _serve(args: argparse.Namespace) -> None:
    from simcluster.bulk import build_large_cluster
    from simcluster.server import SimServer

    started = time.perf_counter()
    cluster = build_large_cluster(nodes=args.nodes, services=args.services, pods=args.pods)
    build_seconds = time.perf_counter() - started
    with SimServer(cluster) as server:
        kubeconfig = server.write_kubeconfig(Path(args.workdir) / "kubeconfig", user="admin")
        ready = {"kubeconfig": str(kubeconfig), "build_seconds": build_seconds}
        Path(args.workdir, "ready.json").write_text(json.dumps(ready))
        sys.stdin.read()  # serve until the parent closes our stdin


def _median_ms(operation: Callable[[int], object], runs: int) -> float:
    operation(-1)  # warm-up: connection pool, code paths
    samples = []
    for index in range(runs):
        start = time.perf_counter()
        operation(index)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _wait_ready(workdir: Path, child: subprocess.Popen[bytes], limit: float) -> dict[str, Any]:
    deadline = time.monotonic() + limit
    ready = workdir / "ready.json"
    while time.monotonic() < deadline:
        if ready.exists():
            return dict(json.loads(ready.read_text()))
        if child.poll() is not None:
            raise SystemExit(f"the simulated cluster exited early with code {child.returncode}")
        time.sleep(0.2)
    raise SystemExit(f"the simulated cluster was not ready within {limit:.0f} s")


def _measure(kube: Kube, runs: int) -> dict[str, float]:
    pods = kube.list_pods("kube-system", label_selector=KUBE_PROXY)
    services = kube.list_services("app-1")
    service = services[0].meta.name
    victims = [p.meta.name for p in pods[: runs + 1]]
    return {
        "kube-proxy pods": float(len(pods)),
        "list kube-proxy pods (ms)": _median_ms(
            lambda _: kube.list_pods("kube-system", label_selector=KUBE_PROXY), runs
        ),
        "get one Service (ms)": _median_ms(lambda _: kube.get_service(service, "app-1"), runs),
        "list its EndpointSlices (ms)": _median_ms(
            lambda _: kube.list_endpoint_slices("app-1", service_name=service), runs
        ),
        "get one Pod (ms)": _median_ms(lambda _: kube.get_pod(victims[0], "kube-system"), runs),
        "delete one kube-proxy pod (ms)": _median_ms(
            lambda i: kube.delete_pod(victims[i + 1], "kube-system"), runs
        ),
    }


def main() -> None:
    """Start the large cluster in a child process, measure through the adapter, print figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--services", type=int, default=20_000)
    parser.add_argument("--pods", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args)
        return

    with tempfile.TemporaryDirectory() as scratch:
        command = [sys.executable, "-m", "bench.sim_scale", "--serve", "--workdir", scratch]
        command += ["--nodes", str(args.nodes), "--services", str(args.services)]
        command += ["--pods", str(args.pods)]
        child = subprocess.Popen(command, stdin=subprocess.PIPE)
        try:
            ready = _wait_ready(Path(scratch), child, limit=600)
            server = psutil.Process(child.pid)
            rss_loaded = server.memory_info().rss
            kube = connect(KubeConnection(kubeconfig=Path(ready["kubeconfig"])))
            with kube:
                figures = _measure(kube, args.runs)
            rss_after = server.memory_info().rss
        finally:
            if child.stdin:
                child.stdin.close()
            child.wait(timeout=30)

    size = f"{args.nodes} nodes, {args.services} Services, {args.pods} app Pods"
    print(f"simulated cluster: {size}; built in {ready['build_seconds']:.1f} s")
    targets = {
        "list kube-proxy pods (ms)": 300.0,
        "get one Service (ms)": 10.0,
        "list its EndpointSlices (ms)": 10.0,
        "get one Pod (ms)": 10.0,
        "delete one kube-proxy pod (ms)": 10.0,
    }
    for name, value in figures.items():
        target = targets.get(name)
        ratio = f"  ({value / target:.2f} of target {target:.0f})" if target else ""
        print(f"  {name:<32} {value:10.1f}{ratio}")
    gib = 1024**3
    for label, rss in (("server RSS loaded", rss_loaded), ("server RSS after runs", rss_after)):
        print(f"  {label:<32} {rss / gib:10.2f} GiB  ({rss / (2 * gib):.2f} of target 2 GiB)")


if __name__ == "__main__":
    main()
