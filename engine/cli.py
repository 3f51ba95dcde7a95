"""The ``runbooks`` command line: start the engine or the simulated cluster, and operate them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from engine.settings import EngineSettings, settings_error_message


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``runbooks`` subcommand."""
    parser = argparse.ArgumentParser(
        prog="runbooks",
        description="Incident-response runbooks for Kubernetes Service networking.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser(
        "up",
        help="Start the engine: Prefect (SQLite unless PREFECT_API_URL is set), the flows, "
        "the webhook receiver; the simulated cluster when no cluster is configured.",
    )

    sim = commands.add_parser(
        "sim", help="Serve a simulated Kubernetes cluster (for demos, drills and tests)."
    )
    sim.add_argument("--host", default="127.0.0.1", help="Listen address (default 127.0.0.1).")
    sim.add_argument(
        "--port",
        type=int,
        default=6443,
        help="The API server's HTTPS port, as the kubeconfigs name it (default 6443; 0 picks one).",
    )
    sim.add_argument("--nodes", type=int, default=5, help="Number of nodes (default 5).")
    sim.add_argument("--scenario", default="healthy", help="See `runbooks scenarios`.")
    sim.add_argument(
        "--kubeconfig",
        type=Path,
        default=Path(".runbooks/sim-kubeconfig"),
        help="Where to write the admin kubeconfig (the engine's is written beside it).",
    )
    sim.add_argument(
        "--no-rbac", action="store_true", help="Do not enforce deploy/rbac for the engine user."
    )
    commands.add_parser("scenarios", help="List the simulated cluster's named scenarios.")

    for name, text in (("list", "Show the runbook catalog."), ("validate", "Check it.")):
        command = commands.add_parser(name, help=text)
        command.add_argument(
            "--catalog", type=Path, default=None, help="Catalog folder (default: the shipped one)."
        )

    fire = commands.add_parser("fire", help="Send an alert to a running engine (demos, drills).")
    fire.add_argument("alertname", help="The alert's name, e.g. ServiceDown.")
    fire.add_argument(
        "--label", action="append", default=[], metavar="K=V", help="A label; repeatable."
    )
    fire.add_argument("--resolve", action="store_true", help="Send the resolved notification.")
    fire.add_argument("--url", help="Webhook URL (default: this machine's engine).")

    drill = commands.add_parser(
        "drill",
        help="Inject a fault into a simulated cluster and follow it through a real Prometheus, "
        "Alertmanager and the engine until the alert resolves; print the timeline.",
    )
    drill.add_argument(
        "scenario", nargs="?", help="kube-proxy-down, selector-mismatch, bad-kube-proxy-rollout."
    )
    drill.add_argument("--all", action="store_true", help="Every scenario, on one stack.")
    drill.add_argument(
        "--timeout", type=float, default=300.0, help="Longest wait per drill (default 300 s)."
    )
    drill.add_argument(
        "--for-scale",
        type=float,
        default=0.1,
        help="Multiply the rules' for: by this (default 0.1); the verdict uses the shipped ones.",
    )
    drill.add_argument("--nodes", type=int, default=5, help="Simulated nodes (default 5).")
    drill.add_argument(
        "--interactive",
        action="store_true",
        help="Approve yourself in the Prefect UI instead of the drill's automatic approval.",
    )
    drill.add_argument(
        "--state-dir", type=Path, help="Keep the stack's state and logs here (default: temporary)."
    )

    commands.add_parser(
        "doctor",
        help="Check that Prefect, the cluster (every RBAC verb the flows use), Alertmanager, "
        "Slack and the webhook credentials answer; exit 1 on any miss.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``runbooks`` console script.

    Args:
        argv: Arguments without the program name; None reads ``sys.argv``.

    Returns:
        The process exit code.
    """
    args = build_parser().parse_args(argv)
    try:
        settings = EngineSettings()
    except ValidationError as error:
        print(f"error: bad engine settings:\n{settings_error_message(error)}", file=sys.stderr)
        return 2
    match args.command:
        case "sim":
            from engine.commands.sim import run_sim

            return run_sim(args)
        case "scenarios":
            from engine.commands.sim import run_scenarios

            return run_scenarios(args)
        case "list":
            from engine.commands.catalog import run_list

            return run_list(args)
        case "validate":
            from engine.commands.catalog import run_validate

            return run_validate(args)
        case "doctor":
            from engine.commands.doctor import run_doctor

            return run_doctor(args, settings)
        case "drill":
            from engine.commands.drill import run_drill

            return run_drill(args)
        case "fire":
            from engine.commands.fire import run_fire

            return run_fire(args, settings)
        case _:
            from engine.startup import run_up

            return run_up(settings)


if __name__ == "__main__":
    sys.exit(main())
