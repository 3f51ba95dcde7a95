"""``runbooks sim`` and ``runbooks scenarios``: serve and describe the simulated cluster."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path

from engine.cluster_access import SIMULATOR_MISSING


def wait_for_interrupt() -> None:
    """Block until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()


def sim_banner(
    url: str, *, scenario: str, nodes: int, admin: Path, engine: Path, faults: str | None = None
) -> str:
    """The loud banner that says a cluster is simulated, and how to reach it."""
    bar = "=" * 78
    return "\n".join(
        [
            bar,
            "  SIMULATED KUBERNETES CLUSTER: not a real cluster; nothing here touches production",
            bar,
            f"  API server : {url}",
            *([f"  fault API  : {faults}/simcluster/faults  (plain HTTP)"] if faults else []),
            f"  scenario   : {scenario} ({nodes} nodes)",
            f"  kubeconfig : {admin}",
            f"               kubectl --kubeconfig {admin} get pods -A",
            f"  engine     : {engine}  (the engine's ServiceAccount; RBAC from deploy/rbac)",
            bar,
        ]
    )


def run_sim(args: argparse.Namespace) -> int:
    """Serve the simulated cluster until interrupted, writing kubeconfigs for admin and engine."""
    try:
        from simcluster import DEPLOY_RBAC_DIR, SCENARIOS, RbacPolicy, SimServer, build_cluster
    except ModuleNotFoundError:
        print(f"error: {SIMULATOR_MISSING}")
        return 2
    if args.scenario not in SCENARIOS:
        known = ", ".join(sorted(SCENARIOS))
        print(f"error: --scenario: unknown scenario {args.scenario!r}; pick one of: {known}")
        return 2
    cluster = build_cluster(nodes=args.nodes, scenario=args.scenario)
    if not args.no_rbac and DEPLOY_RBAC_DIR.is_dir():
        cluster.rbac = RbacPolicy.from_directory(DEPLOY_RBAC_DIR)
    try:
        server = SimServer(
            cluster, host=args.host, https_port=args.port, enforce_rbac=not args.no_rbac
        )
    except OSError as error:  # its ports are bound at once: a taken one fails here
        print(
            f"error: cannot listen on {args.host}:{args.port}: {error.strerror or error}; "
            "pass --port with a free port (0 picks one)"
        )
        return 2
    with server as sim:
        admin = sim.write_kubeconfig(args.kubeconfig, user="admin")
        engine = sim.write_kubeconfig(
            args.kubeconfig.with_name(args.kubeconfig.name + "-engine"), user="engine"
        )
        print(
            sim_banner(
                sim.https_url,
                scenario=args.scenario,
                nodes=args.nodes,
                admin=admin,
                engine=engine,
                faults=sim.url,
            )
        )
        sys.stdout.flush()
        wait_for_interrupt()
    return 0


def run_scenarios(args: argparse.Namespace) -> int:
    """Print the simulated cluster's named scenarios."""
    try:
        from simcluster import SCENARIOS
    except ModuleNotFoundError:
        print(f"error: {SIMULATOR_MISSING}")
        return 2
    width = max(len(name) for name in SCENARIOS)
    for name, scenario in SCENARIOS.items():
        print(f"{name:<{width}}  {scenario.description}")
    return 0
