"""One engine replica in a process of its own, as a pod runs it: started, stopped, or SIGKILLed.

The child (``python -m tests.e2e.engine_replica``) assembles the engine as ``runbooks up`` does
(`ServedEngine`: receiver, dispatcher, warm executor, sweeper, Slack route) on the Prefect API
its environment names, serves it until SIGTERM, then shuts down as the pod would.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

#: The Slack app the replicas post approvals as (`tests.slack_fake` accepts its token).
SLACK_TOKEN = "xoxb-test"
SLACK_CHANNEL = "C0123ABC"
SLACK_APPROVER = "U0123ABCD"
REPO = Path(__file__).parents[2]


@dataclass
class EngineReplica:
    """A replica's process, seen from the test.

    Attributes:
        name: For its log file and messages.
        kubeconfig: The engine user's kubeconfig of the simulated cluster.
        environment: Its Prefect settings (API URL, home, shared result storage).
        log_dir: Where its stderr goes, one file per start.
        slack_url: The fake Slack's base URL; None: approvals only in the Prefect UI.
        unresponsive_after_seconds: The automation's silence before a run is marked Crashed.
        port: Fixed at construction, kept across restarts (its Service would be).
    """

    name: str
    kubeconfig: Path
    environment: Mapping[str, str]
    log_dir: Path
    slack_url: str | None = None
    unresponsive_after_seconds: int = 120
    port: int = 0
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _starts: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not self.port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]

    @property
    def url(self) -> str:
        """The replica's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The running process's id."""
        assert self._process is not None, f"{self.name} is not running"
        return self._process.pid

    @property
    def engine_name(self) -> str:
        """How the replica names itself in the runs it claims (`engine.execution.executor`)."""
        return f"{socket.gethostname()}/{self.pid}"

    def launch(self) -> None:
        """Start the process; `wait_until_serving` tells when it serves."""
        self._starts += 1
        log = self.log_dir / f"{self.name}-{self._starts}.log"
        arguments = ["--port", str(self.port), "--kubeconfig", str(self.kubeconfig)]
        arguments += ["--silence", str(self.unresponsive_after_seconds)]
        if self.slack_url:
            arguments += ["--slack-url", self.slack_url]
        with log.open("wb") as stderr:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tests.e2e.engine_replica", *arguments],
                cwd=REPO,
                env={**os.environ, **self.environment},
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
            )

    def wait_until_serving(self, within: float = 180.0) -> None:
        """Return once ``GET /healthz`` answers; raise with the log's tail if it never does."""
        deadline = time.monotonic() + within
        while True:
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited while starting:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not serve within {within:g}s")
            time.sleep(0.2)

    def start(self) -> None:
        """Start it and wait until it serves."""
        self.launch()
        self.wait_until_serving()

    def stop(self, within: float = 60.0) -> None:
        """SIGTERM, as Kubernetes stops a pod; SIGKILL if it has not exited ``within`` s."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL: nothing of it runs on, nothing is cleaned up."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        """The end of its latest log."""
        log = self.log_dir / f"{self.name}-{self._starts}.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def serve(arguments: Sequence[str]) -> None:
    """The child: assemble and serve an engine until SIGTERM (or SIGINT)."""
    # Imported here: the parent needs none of the engine to start and stop children.
    import logging

    from engine.execution.run_threads import flush_run_records
    from engine.startup import SlackApprovals
    from integrations.slack import SlackCredentials
    from tests.e2e.served_engine import ServedEngine, simulated_access
    from tests.slack_press import SIGNING_SECRET

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--silence", type=int, required=True)
    parser.add_argument("--slack-url")
    options = parser.parse_args(arguments)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    slack = None
    if options.slack_url:
        credentials = SlackCredentials(
            bot_token=SLACK_TOKEN,
            signing_secret=SIGNING_SECRET,
            channel=SLACK_CHANNEL,
            api_url=options.slack_url,
        )
        slack = SlackApprovals(credentials, approvers=frozenset({SLACK_APPROVER}))
    # Blocked before any thread starts, so every thread inherits it and sigwait receives them.
    stops = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    engine = ServedEngine(
        access=simulated_access(options.kubeconfig),
        slack=slack,
        port=options.port,
        unresponsive_after_seconds=options.silence,
    )
    engine.start(timeout=180)
    signal.sigwait(stops)
    engine.stop()
    flush_run_records()


if __name__ == "__main__":
    serve(sys.argv[1:])
