"""Starting the real Alertmanager binary, configured to post to a webhook, for end-to-end tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

BINARY_NAMES = ("prometheus-alertmanager", "alertmanager")


def find_alertmanager() -> str | None:
    """The Alertmanager binary on PATH (Debian names it prometheus-alertmanager), or None."""
    for name in BINARY_NAMES:
        if (path := shutil.which(name)) is not None:
            return path
    return None


@dataclass(frozen=True)
class Alertmanager:
    """A running Alertmanager.

    Attributes:
        url: Its base URL, ``http://127.0.0.1:<port>``.
        log: Its log file (stderr), for failure messages.
    """

    url: str
    log: Path

    def post_alerts(self, alerts: Sequence[dict[str, Any]]) -> None:
        """Send alerts as Prometheus does (``POST /api/v2/alerts``)."""
        response = httpx.post(f"{self.url}/api/v2/alerts", json=list(alerts), timeout=10)
        response.raise_for_status()

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of its log."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def webhook_config(webhook_url: str, *, token_file: Path, group_wait: str = "1s") -> dict[str, Any]:
    """An Alertmanager config routing every alert to `webhook_url` with bearer auth.

    The route is deploy/alertmanager/alertmanager.yml's, with short intervals so a test sees
    firing and resolved notifications within seconds.
    """
    return {
        "route": {
            "receiver": "service-runbooks",
            "group_by": ["alertname", "namespace", "service"],
            "group_wait": group_wait,
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "service-runbooks",
                "webhook_configs": [
                    {
                        "url": webhook_url,
                        "send_resolved": True,
                        "max_alerts": 0,
                        "http_config": {
                            "authorization": {
                                "type": "Bearer",
                                "credentials_file": str(token_file),
                            }
                        },
                    }
                ],
            }
        ],
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_alertmanager(
    workdir: Path,
    *,
    webhook_url: str,
    token: str,
    binary: str,
    startup_timeout: float = 30.0,
    route: Mapping[str, Any] | None = None,
) -> Iterator[Alertmanager]:
    """Run Alertmanager on 127.0.0.1 (no clustering) until the block ends.

    Args:
        workdir: Where its config, token file, storage and log go.
        webhook_url: Where it posts notifications.
        token: The bearer token it sends (written to a credentials file).
        binary: The Alertmanager executable.
        startup_timeout: Longest to wait for ``/-/ready``.
        route: Settings that replace the route's (``group_wait``, ``repeat_interval``, ...).
    """
    token_file = workdir / "webhook-token"
    token_file.write_text(token)
    config = workdir / "alertmanager.yml"
    settings = webhook_config(webhook_url, token_file=token_file)
    settings["route"].update(route or {})
    config.write_text(yaml.safe_dump(settings))
    storage = workdir / "data"
    storage.mkdir()
    log = workdir / "alertmanager.log"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={storage}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=debug",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    alertmanager = Alertmanager(url=url, log=log)
    try:
        _wait_ready(process, alertmanager, startup_timeout)
        yield alertmanager
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_ready(
    process: subprocess.Popen[bytes], alertmanager: Alertmanager, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"Alertmanager exited with {process.returncode}:\n{alertmanager.log_tail()}"
            )
        try:
            if httpx.get(f"{alertmanager.url}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    raise RuntimeError(f"Alertmanager not ready after {timeout:g}s:\n{alertmanager.log_tail()}")
