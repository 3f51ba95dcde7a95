"""The drill stack on 127.0.0.1: simulated cluster, Prometheus, Alertmanager, Prefect, engine.

Prometheus and Alertmanager are the real binaries (Debian's ``prometheus`` and
``prometheus-alertmanager``) configured from the shipped files: ``deploy/prometheus/rules.yml``
with its ``for:`` scaled and every group evaluated each interval, and
``deploy/alertmanager/alertmanager.yml``'s route and receiver aimed at the engine. The engine is
``runbooks up`` in a process of its own, with the cluster's kubeconfig and Alertmanager's URL.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from engine.cluster_access import SIMULATOR_MISSING
from engine.commands.drill_timeline import RuleTiming
from engine.prefect_server import (
    API_URL_VARIABLE,
    PrefectServer,
    find_free_port,
    forget_prefect_api,
    use_prefect_api,
)
from runbooks.durations import parse_duration

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SHIPPED_RULES = DEPLOY / "prometheus" / "rules.yml"
SHIPPED_ALERTMANAGER = DEPLOY / "alertmanager" / "alertmanager.yml"
RECEIVER = "service-runbooks"
LOCAL = "127.0.0.1"


class StackError(RuntimeError):
    """A part of the stack is missing or did not start; the message names it and the fix."""


def prometheus_duration(seconds: float) -> str:
    """Seconds as a Prometheus duration: whole seconds, else milliseconds (``1500ms``)."""
    millis = max(round(seconds * 1000), 1)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def scaled_rules(
    rules: dict[str, Any], *, scale: float, interval: str
) -> tuple[dict[str, Any], dict[str, RuleTiming]]:
    """A copy of a rule file with each ``for:`` times ``scale``, every group every ``interval``.

    Returns:
        The copy, and each alert's shipped and scaled ``for:`` (none: 0 both ways).
    """
    if scale <= 0:
        raise ValueError(f"the for: scale must be positive, not {scale:g}")
    timings: dict[str, RuleTiming] = {}
    groups = []
    for group in rules.get("groups", []):
        scaled = []
        for rule in group.get("rules", []):
            rule = dict(rule)
            if "alert" in rule:
                shipped = float(parse_duration(str(rule["for"]))) if "for" in rule else 0.0
                if shipped:
                    rule["for"] = prometheus_duration(shipped * scale)
                timings[rule["alert"]] = RuleTiming(rule["alert"], shipped, shipped * scale)
            scaled.append(rule)
        groups.append({**group, "interval": interval, "rules": scaled})
    return {**rules, "groups": groups}, timings


def prometheus_config(
    *, targets_url: str, rule_file: Path, alertmanager: str, interval: str
) -> dict[str, Any]:
    """Scrape every exporter the simulated cluster lists (HTTP SD) with the labels it gives."""
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(rule_file)],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [
            {
                "job_name": "simcluster",
                # job, instance and node come from the target list, as relabeling gives them.
                "honor_labels": True,
                "http_sd_configs": [{"url": targets_url, "refresh_interval": interval}],
            }
        ],
    }


def alertmanager_config(
    shipped: dict[str, Any], *, webhook_url: str, token_file: Path, group_wait: str
) -> dict[str, Any]:
    """The shipped configuration, its runbooks route quick and its receiver at ``webhook_url``."""
    config: dict[str, Any] = yaml.safe_load(yaml.safe_dump(shipped))
    for route in config["route"].get("routes", []):
        if route.get("receiver") == RECEIVER:
            route.update(group_wait=group_wait, group_interval=group_wait)
    for receiver in (r for r in config["receivers"] if r["name"] == RECEIVER):
        for webhook in receiver.get("webhook_configs", []):
            webhook["url"] = webhook_url
            webhook["http_config"]["authorization"]["credentials_file"] = str(token_file)
    return config


@dataclass(frozen=True)
class StackOptions:
    """Cluster size, ``for:`` scale, intervals, whether runs are drills, the Prefect UI."""

    state_dir: Path
    nodes: int = 5
    scale: float = 0.1
    interval: str = "1s"
    group_wait: str = "1s"
    auto_approve: bool = True
    ui: bool = False
    startup_timeout: float = 180.0


def _binary(*names: str) -> str:
    found = next((path for name in names if (path := shutil.which(name))), None)
    if found is None:
        raise StackError(f"{names[0]} is not installed: apt-get install {names[0]}")
    return found


def _wait(ready: Callable[[], bool], *, what: str, within: float, log: Path) -> None:
    deadline = time.monotonic() + within
    while not ready():
        if time.monotonic() > deadline:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise StackError(f"{what} not ready after {within:g}s; {log}:\n{tail}")
        time.sleep(0.2)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def _process(
    command: list[str], *, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` in a session of its own (a Ctrl-C is the drill's) until the block ends."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


class DrillStack:
    """The running stack: `start` it, `close` it (every part, the last started first)."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.timings: dict[str, RuleTiming] = {}
        self.sim_url = self.prometheus_url = self.alertmanager_url = self.engine_url = ""
        self.ui_url = ""
        self.engine_log = options.state_dir / "engine.log"
        self._parts = ExitStack()

    def start(self) -> DrillStack:
        """Start every part; Alertmanager only once Prometheus shows no alert.

        Until its first scrapes Prometheus sees no kube-proxy target, and with a scaled
        ``for:`` its ``absent()`` rule (KubeProxyDown) may fire: no Alertmanager hears of it.
        """
        # Whatever fails (or is interrupted) half-way stops what already started; on success
        # the parts are kept until `close`.
        with self._parts as starting:
            self._start()
            self._parts = starting.pop_all()
        return self

    def _start(self) -> None:
        options, folder = self.options, self.options.state_dir
        binaries = _binary("prometheus"), _binary("prometheus-alertmanager", "alertmanager")
        if not SHIPPED_RULES.is_file() or not SHIPPED_ALERTMANAGER.is_file():
            raise StackError(f"the drill needs the repository's {DEPLOY} (rules, Alertmanager)")
        if folder.is_dir() and any(folder.iterdir()):
            # A used one holds a Prefect whose runs keep their targets in cooldown for minutes.
            raise StackError(f"{folder} is not empty: give each stack a folder of its own")
        for part in ("prometheus", "alertmanager", "engine"):
            (folder / part).mkdir(parents=True, exist_ok=True)
        sim = self._parts.enter_context(_simulated_cluster(options.nodes))
        self.sim_url = sim.url
        kubeconfig = sim.write_kubeconfig(folder / "engine.kubeconfig", user="engine")
        prefect = PrefectServer(
            folder / "prefect", ui=options.ui, startup_timeout=options.startup_timeout
        )
        self._parts.enter_context(prefect)
        # This process reads the drill's runs; whatever Prefect it used before comes back after.
        self._parts.callback(_use_again, os.environ.get(API_URL_VARIABLE))
        use_prefect_api(prefect.api_url)
        self.ui_url = prefect.api_url.removesuffix("/api")
        am_port, engine_port, port = find_free_port(), find_free_port(), find_free_port()
        self.alertmanager_url = f"http://{LOCAL}:{am_port}"
        self.engine_url = f"http://{LOCAL}:{engine_port}"
        self.prometheus_url = f"http://{LOCAL}:{port}"
        rules, self.timings = scaled_rules(
            yaml.safe_load(SHIPPED_RULES.read_text()),
            scale=options.scale,
            interval=options.interval,
        )
        config = prometheus_config(
            targets_url=f"{self.sim_url}/simcluster/metrics/targets",
            rule_file=self._write(folder / "prometheus" / "rules.yml", rules),
            alertmanager=f"{LOCAL}:{am_port}",
            interval=options.interval,
        )
        self._serve(
            "prometheus",
            binaries[0],
            f"--config.file={self._write(folder / 'prometheus' / 'prometheus.yml', config)}",
            f"--storage.tsdb.path={folder / 'prometheus' / 'data'}",
            f"--web.listen-address={LOCAL}:{port}",
            url=self.prometheus_url,
        )
        self.wait_quiet(within=options.startup_timeout)
        token = secrets.token_hex(16)
        (token_file := folder / "alertmanager" / "webhook-token").touch(mode=0o600)
        token_file.write_text(token)
        config = alertmanager_config(
            yaml.safe_load(SHIPPED_ALERTMANAGER.read_text()),
            webhook_url=f"{self.engine_url}/alertmanager",
            token_file=token_file,
            group_wait=options.group_wait,
        )
        self._serve(
            "alertmanager",
            binaries[1],
            f"--config.file={self._write(folder / 'alertmanager' / 'alertmanager.yml', config)}",
            f"--storage.path={folder / 'alertmanager' / 'data'}",
            f"--web.listen-address={LOCAL}:{am_port}",
            "--cluster.listen-address=",
            url=self.alertmanager_url,
        )
        self._start_engine(kubeconfig, api_url=prefect.api_url, port=engine_port, token=token)
        if options.auto_approve:
            mark_runs_as_drills()

    @staticmethod
    def _write(path: Path, document: dict[str, Any]) -> Path:
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    def _serve(self, part: str, *command: str, url: str) -> None:
        log = self.options.state_dir / part / f"{part}.log"
        self._parts.enter_context(_process(list(command), log=log))
        ready = f"{url}/-/ready"
        _wait(lambda: _answers(ready), what=part, within=self.options.startup_timeout, log=log)

    def _start_engine(self, kubeconfig: Path, *, api_url: str, port: int, token: str) -> None:
        folder = self.options.state_dir / "engine"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNBOOKS_", "PREFECT_"))}
        env.update(
            PREFECT_API_URL=api_url,
            PREFECT_HOME=str(folder / "prefect-home"),
            RUNBOOKS_STATE_DIR=str(folder),
            RUNBOOKS_KUBECONFIG=str(kubeconfig),
            RUNBOOKS_SIMULATE="false",
            RUNBOOKS_LISTEN_PORT=str(port),
            RUNBOOKS_WEBHOOK_TOKEN=token,
            RUNBOOKS_ALERTMANAGER_URL=self.alertmanager_url,
        )
        command = [sys.executable, "-m", "engine.cli", "up"]
        engine = self._parts.enter_context(_process(command, log=self.engine_log, env=env))

        def ready() -> bool:
            if engine.poll() is not None:
                raise StackError(f"runbooks up exited {engine.returncode}; see {self.engine_log}")
            return _answers(f"{self.engine_url}/readyz")

        _wait(ready, what="the engine", within=self.options.startup_timeout, log=self.engine_log)

    def alerts(self) -> list[dict[str, Any]]:
        """Prometheus' active alerts now (pending and firing)."""
        answer = httpx.get(f"{self.prometheus_url}/api/v1/alerts", timeout=5)
        answer.raise_for_status()
        return list(answer.json()["data"]["alerts"])

    def wait_quiet(self, *, within: float) -> None:
        """Wait until every kube-proxy target was scraped up and no alert is active."""
        query = {"query": 'min(up{job="kube-proxy"})'}

        def quiet() -> bool:
            try:
                url = f"{self.prometheus_url}/api/v1/query"
                up = httpx.get(url, params=query, timeout=5).json()["data"]["result"]
                return bool(up) and up[0]["value"][1] == "1" and not self.alerts()
            except (httpx.HTTPError, KeyError, ValueError):
                return False

        log = self.options.state_dir / "prometheus" / "prometheus.log"
        _wait(quiet, what="a quiet cluster (no alert active)", within=within, log=log)

    def inject(self, fault: str, body: dict[str, Any]) -> dict[str, Any]:
        """Inject a fault through the simulated cluster's fault API; returns its details."""
        answer = httpx.post(f"{self.sim_url}/simcluster/faults/{fault}", json=body, timeout=10)
        if answer.status_code != 201:
            raise StackError(f"fault {fault} refused ({answer.status_code}): {answer.text}")
        return dict(answer.json()["details"])

    def heal(self) -> None:
        """Undo every injected fault."""
        httpx.post(f"{self.sim_url}/simcluster/heal", timeout=10).raise_for_status()

    def close(self) -> None:
        """Stop every part, the last started first."""
        self._parts.close()


@contextmanager
def _simulated_cluster(nodes: int) -> Iterator[Any]:
    try:
        from simcluster import DEPLOY_RBAC_DIR, RbacPolicy, SimServer, build_cluster
    except ModuleNotFoundError as error:
        raise StackError(SIMULATOR_MISSING) from error
    cluster = build_cluster(nodes=nodes, scenario="healthy")
    if DEPLOY_RBAC_DIR.is_dir():
        cluster.rbac = RbacPolicy.from_directory(DEPLOY_RBAC_DIR)
    with SimServer(cluster) as server:
        yield server


def _use_again(api_url: str | None) -> None:
    if api_url is None:
        forget_prefect_api()
    else:
        use_prefect_api(api_url)


def mark_runs_as_drills() -> None:
    """Make every run of this stack's deployments a drill (``auto_approve``, where they take it).

    The engine has no setting that marks the runs it creates for alerts as drills; in the
    drill's own Prefect every run is one, so the deployments' default says so. Runbooks that
    allow it (``approval.auto_approve_for_drills``) then approve without asking.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentUpdate

    with get_client(sync_client=True) as client:
        for deployment in client.read_deployments():
            properties = (deployment.parameter_openapi_schema or {}).get("properties", {})
            if "auto_approve" in properties:
                parameters = {**deployment.parameters, "auto_approve": True}
                client.update_deployment(deployment.id, DeploymentUpdate(parameters=parameters))
