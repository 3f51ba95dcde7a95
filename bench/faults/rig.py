"""A row's parts: the shared Prefect server; per row a cluster, an engine, Slack, a proxy."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.faults.changes import ChangeLog
from bench.faults.outside import ApiProxy
from bench.faults.runs import changing_specs
from engine.prefect_server import PrefectServer
from engine.startup import SlackApprovals
from integrations.slack import SlackCredentials
from simcluster.api.tls import serving_certificate
from simcluster.authn import ENGINE_TOKEN
from simcluster.cluster import SimCluster
from simcluster.kubeconfig import write_kubeconfig
from simcluster.server import SimServer
from tests.e2e.engine_replica import SLACK_APPROVER, SLACK_CHANNEL, SLACK_TOKEN, EngineReplica
from tests.e2e.prefect_environment import local_prefect
from tests.e2e.served_engine import ServedEngine, simulated_access
from tests.slack_fake import FakeSlack
from tests.slack_press import SIGNING_SECRET

#: The engine's default silence before a run is marked Crashed; rows that kill the engine
#: shorten it (Prefect's heartbeats come every 30 s, and their runs are shorter than this).
SILENCE = 120
SHORT_SILENCE = 15


@dataclass(frozen=True)
class FaultBench:
    """What every row shares: a working folder and one Prefect server (SQLite).

    Attributes:
        workdir: Where rows keep kubeconfigs, logs and results.
        prefect: The server, which rows may stop, start and lock.
    """

    workdir: Path
    prefect: PrefectServer

    @property
    def database(self) -> Path:
        """The server's SQLite file."""
        return self.prefect.state_dir / "prefect.db"


@contextmanager
def fault_bench(workdir: Path) -> Iterator[FaultBench]:
    """Start the bench's Prefect server in ``workdir`` (this process's Prefect uses it)."""
    with local_prefect(workdir / "prefect") as prefect:
        yield FaultBench(workdir=workdir, prefect=prefect)


@dataclass(frozen=True)
class RigOptions:
    """How a row's engine is set up.

    Attributes:
        slack: Approvals also in a fake Slack (else the Prefect UI only).
        child: The engine in a process of its own (`EngineReplica`), which a row may SIGKILL.
        proxy: The engine reaches the API through an `ApiProxy` (outages, resets).
        silence: Seconds without a heartbeat after which Prefect marks a run Crashed.
    """

    slack: bool = False
    child: bool = False
    proxy: bool = False
    silence: int = SILENCE


@dataclass
class Rig:
    """One row's parts.

    Attributes:
        bench: The shared parts.
        sim: The simulated cluster's API server.
        changes: What the engine changed in it.
        engine: The in-process engine (None for a child).
        replica: The child engine (None in process).
        slack: The fake Slack, if any.
        proxy: The proxy in front of the API, if any.
    """

    bench: FaultBench
    sim: SimServer
    changes: ChangeLog
    engine: ServedEngine | None = None
    replica: EngineReplica | None = None
    slack: FakeSlack | None = None
    proxy: ApiProxy | None = None

    @property
    def url(self) -> str:
        """The engine's base URL."""
        if self.replica is not None:
            return self.replica.url
        assert self.engine is not None
        return self.engine.url

    def kill_engine(self) -> None:
        """SIGKILL the child engine (safe on the API server's thread: it only sends a signal)."""
        assert self.replica is not None, "only a child engine can be killed"
        os.kill(self.replica.pid, signal.SIGKILL)

    def restart_engine(self) -> None:
        """Reap the killed (or stop the running) engine and start a fresh one on the same port."""
        if self.replica is not None:
            self.replica.kill()
            self.replica.start()
        elif self.engine is not None:
            self.engine.restart()


def _engine_kubeconfig(sim: SimServer, proxy: ApiProxy | None, path: Path) -> Path:
    if proxy is None:
        return sim.write_kubeconfig(path, user="engine")
    return write_kubeconfig(
        path,
        proxy.url,
        token=ENGINE_TOKEN,
        user_name="simcluster-engine",
        ca_pem=serving_certificate().ca_pem,
    )


@contextmanager
def rig(bench: FaultBench, cluster: SimCluster, *, options: RigOptions, name: str) -> Iterator[Rig]:
    """Serve ``cluster`` (its changes counted from now) and start an engine over it.

    Args:
        bench: The shared parts.
        cluster: The row's cluster, its fault in place.
        options: How the engine is set up.
        name: The row's name, for its folder.
    """
    folder = bench.workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as parts:
        changes = ChangeLog(cluster)
        sim = parts.enter_context(SimServer(cluster))
        proxy = None
        if options.proxy:
            upstream = int(sim.https_url.rsplit(":", 1)[1])
            proxy = parts.enter_context(ApiProxy(upstream_port=upstream))
        kubeconfig = _engine_kubeconfig(sim, proxy, folder / "engine.kubeconfig")
        slack = parts.enter_context(FakeSlack(token=SLACK_TOKEN)) if options.slack else None
        built = Rig(bench=bench, sim=sim, changes=changes, slack=slack, proxy=proxy)
        if options.child:
            built.replica = EngineReplica(
                "engine",
                kubeconfig=kubeconfig,
                environment={
                    "PREFECT_API_URL": bench.prefect.api_url,
                    "PREFECT_HOME": str(folder / "engine-home"),
                    "PREFECT_LOCAL_STORAGE_PATH": str(folder / "results"),
                },
                log_dir=folder,
                slack_url=slack.base_url if slack else None,
                unresponsive_after_seconds=options.silence,
            )
            built.replica.start()
            parts.callback(built.replica.stop)
        else:
            approvals = None
            if slack is not None:
                credentials = SlackCredentials(
                    bot_token=SLACK_TOKEN,
                    signing_secret=SIGNING_SECRET,
                    channel=SLACK_CHANNEL,
                    api_url=slack.base_url,
                )
                approvals = SlackApprovals(
                    credentials,
                    approvers=frozenset({SLACK_APPROVER}),
                    ui_url=bench.prefect.api_url.removesuffix("/api"),
                )
            built.engine = ServedEngine(
                access=simulated_access(kubeconfig),
                slack=approvals,
                specs=changing_specs(),
                unresponsive_after_seconds=options.silence,
            )
            built.engine.start(timeout=180)
            parts.callback(built.engine.stop)
        yield built
