"""Two engine replicas on one Prefect server on PostgreSQL, as the cluster Deployment runs them:
a storm spread over both runs each alert once, a replica killed in the middle of a kube-proxy
restart wave has its run finished by the other without restarting a pod twice, and approvals
outlive a rolling restart of both.

Each replica is a process of its own (`tests.e2e.engine_replica`), SIGKILLed or stopped with
SIGTERM as Kubernetes does; they share the result storage, as the Deployment's ReadWriteMany
volume gives them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import httpx
import orjson
import pytest
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

from engine.approvals.sweeper import ApprovalSweeper
from engine.deployments import product_deployments, register_deployments
from engine.dispatch.batch import submit_batch
from engine.dispatch.bulk_runs import read_runs
from engine.execution.heartbeats import AUTOMATION_NAME
from engine.execution.takeover import RESCHEDULED, claimed_by
from flows.checklist.flow import DEPLOYMENT_NAME, FLOW_NAME
from simcluster import resources
from simcluster.manifests import service
from simcluster.rbac import RbacPolicy
from simcluster.scenarios import build_cluster
from simcluster.server import DEPLOY_RBAC_DIR, SimServer
from simcluster.settings import SimSettings
from tests.e2e.engine_replica import SLACK_TOKEN, EngineReplica
from tests.e2e.postgres import PostgresUnavailableError, find_bin_dir, running_postgres
from tests.e2e.prefect_environment import local_prefect
from tests.e2e.storm import (
    Delivery,
    build_storm,
    deliver,
    grouped_notification,
    send_over_replicas,
    service_down_labels,
)
from tests.engine.alert_requests import run_request
from tests.engine.approvals.overdue import overdue_request
from tests.engine.conftest import SAMPLE_SPECS
from tests.slack_fake import FakeSlack, SlackCall
from tests.slack_press import button_of, press, requests_in, wait_for_requests

CHECKLIST = f"{FLOW_NAME}/{DEPLOYMENT_NAME}"
PREVENTIVE = [spec.full_name for spec in product_deployments() if spec.cron]
#: The automation's silence before a killed replica's run is marked Crashed (Prefect's
#: heartbeats come every 30 s at the least, and every run here is shorter than this).
SILENCE = 20
#: Prefect's server evaluates proactive triggers every 5 s.
EVALUATION_LAG = 5
#: A kube-proxy pod takes this long to be replaced and Ready: the wave is long enough to kill
#: a replica in the middle of it.
SLOW_PODS = SimSettings(
    pod_start_delay=1.5, pod_ready_delay=1.5, crash_backoff_seconds=300, probe_period_seconds=300
)
#: Services whose selector is one label value off their pods' (app=web-v2, pods app=web): the
#: checklist proposes the fix and waits for approval.
ANSWERED_IN_UI, ANSWERED_IN_SLACK = "ha-ui", "ha-slack"
HTTP_PORTS = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]


def postgres_missing() -> str | None:
    try:
        find_bin_dir()
    except PostgresUnavailableError as error:
        return str(error)
    return None


pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        postgres_missing() is not None,
        reason=f"{postgres_missing()}: apt-get install postgresql (scripts/test installs it)",
    ),
]


@dataclass(frozen=True)
class Replicas:
    """The module's long-lived parts: two replicas, their cluster and their Slack."""

    pair: tuple[EngineReplica, EngineReplica]
    sim: SimServer
    slack: FakeSlack

    def other_than(self, engine_name: str | None) -> tuple[EngineReplica, EngineReplica]:
        """The replica named ``engine_name`` in its claims, and the other one."""
        first, second = self.pair
        return (first, second) if first.engine_name == engine_name else (second, first)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    """PostgreSQL, Prefect on it, a simulated cluster, a fake Slack, and two replicas started
    together as a Deployment's pods are."""
    workdir = tmp_path_factory.mktemp("high-availability")
    with ExitStack() as parts:
        database = parts.enter_context(running_postgres())
        prefect = parts.enter_context(
            local_prefect(
                workdir / "prefect",
                server_settings={"PREFECT_API_DATABASE_CONNECTION_URL": database},
            )
        )
        cluster = build_cluster(nodes=10, settings=SLOW_PODS)
        cluster.rbac = RbacPolicy.from_directory(DEPLOY_RBAC_DIR)
        for name in (ANSWERED_IN_UI, ANSWERED_IN_SLACK):
            cluster.create(service("shop", name, ports=HTTP_PORTS, selector={"app": "web-v2"}))
        sim = parts.enter_context(SimServer(cluster))
        slack = parts.enter_context(FakeSlack(token=SLACK_TOKEN))
        shared = {
            "PREFECT_API_URL": prefect.api_url,
            "PREFECT_LOCAL_STORAGE_PATH": str(workdir / "results"),
        }
        pair = tuple(
            EngineReplica(
                name,
                kubeconfig=sim.write_kubeconfig(workdir / "engine.kubeconfig", user="engine"),
                environment={**shared, "PREFECT_HOME": str(workdir / name)},
                log_dir=workdir,
                slack_url=slack.base_url,
                unresponsive_after_seconds=SILENCE,
            )
            for name in ("replica-a", "replica-b")
        )
        for replica in pair:
            replica.launch()
            parts.callback(replica.stop)
        for replica in pair:
            replica.wait_until_serving()
        yield Replicas(pair=(pair[0], pair[1]), sim=sim, slack=slack)


async def checklist_id(client: PrefectClient) -> UUID:
    return (await client.read_deployment_by_name(CHECKLIST)).id


async def within(
    seconds: float, condition: Callable[[], Awaitable[bool]], *, what: str, poll: float = 0.5
) -> None:
    """Wait until ``condition`` holds; fail the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds:g}s")
        await asyncio.sleep(poll)


async def state_types(client: PrefectClient, run_id: UUID) -> list[StateType]:
    return [state.type for state in await client.read_flow_run_states(run_id)]


async def test_replicas_starting_together_install_one_automation_and_one_schedule_each(
    replicas: Replicas,
) -> None:
    async with get_client() as client:
        # Two more starts at the same moment, as a rollout's surge and a restart make them.
        for _ in range(2):
            await asyncio.gather(
                register_deployments(product_deployments()),
                register_deployments(product_deployments()),
            )
        automations = await client.read_automations_by_name(AUTOMATION_NAME)
        preventive = [await client.read_deployment_by_name(name) for name in PREVENTIVE]

        async def scheduled_runs_exist() -> bool:
            counts = [
                await client.count_flow_runs(deployment_filter=only(deployment.id))
                for deployment in preventive
            ]
            return all(counts)

        await within(30, scheduled_runs_exist, what="Prefect's scheduler scheduled no run")
        slots: Counter[tuple[UUID | None, object]] = Counter()
        for deployment in preventive:
            for run in await client.read_flow_runs(deployment_filter=only(deployment.id)):
                slots[(run.deployment_id, run.expected_start_time)] += 1

    assert len(automations) == 1
    assert [len(deployment.schedules) for deployment in preventive] == [1] * len(PREVENTIVE)
    assert slots
    assert set(slots.values()) == {1}


def only(deployment_id: UUID) -> DeploymentFilter:
    return DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))


async def test_a_storm_spread_over_both_replicas_runs_every_alert_exactly_once(
    replicas: Replicas,
) -> None:
    # 500 alerts, most of them repeats of 40 (a flow run costs about a second of this machine's
    # two cores), every third notification delivered to both replicas.
    storm = build_storm(posts=50, per_post=10, repeat=0.92)
    webhooks = [f"{replica.url}/alertmanager" for replica in replicas.pair]

    delivery = await send_over_replicas(storm, webhooks, redeliver_every=3)

    assert delivery.gave_up == 0, delivery.statuses
    async with get_client() as client:
        checklist = await checklist_id(client)

        async def all_final() -> bool:
            unfinished = await client.count_flow_runs(
                deployment_filter=only(checklist),
                flow_run_filter=not_final(),
            )
            return unfinished == 0

        await within(120, all_final, what="the storm's runs did not all end", poll=2)
        runs = await client.read_flow_runs(deployment_filter=only(checklist))
        histories = await asyncio.gather(*(state_types(client, run.id) for run in runs))
        claimers = Counter(await asyncio.gather(*(claimed_by(client, run.id) for run in runs)))

    assert len(runs) == storm.distinct
    assert Counter(history.count(StateType.RUNNING) for history in histories) == {1: storm.distinct}
    assert Counter(history.count(StateType.PENDING) for history in histories) == {1: storm.distinct}
    assert set(claimers) == {replica.engine_name for replica in replicas.pair}


def not_final() -> FlowRunFilter:
    return FlowRunFilter(
        state=FlowRunFilterState(
            type=FlowRunFilterStateType(
                any_=[StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING]
            )
        )
    )


def pod_deletions(sim: SimServer) -> int:
    """Pods deleted through the API so far (the checklist restarts a pod by deleting it)."""
    return sim.cluster.requests.total(verb="delete", resource="pods")


async def test_a_replica_killed_in_a_kube_proxy_restart_wave_leaves_its_run_to_the_other(
    replicas: Replicas,
) -> None:
    replicas.sim.cluster.faults.kube_proxy_down()  # wedged on two nodes, a restart cures each
    deleted_before = pod_deletions(replicas.sim)
    async with get_client() as client:
        run = await client.create_flow_run_from_deployment(
            await checklist_id(client), parameters={"scope": "cluster", "auto_approve": True}
        )

        async def restarting() -> bool:
            return pod_deletions(replicas.sim) > deleted_before

        await within(60, restarting, what="no kube-proxy pod was restarted", poll=0.05)
        victim, survivor = replicas.other_than(await claimed_by(client, run.id))
        victim.kill()

        async def ended() -> bool:
            state = (await client.read_flow_run(run.id)).state
            return state is not None and state.is_final() and state.name != "Crashed"

        await within(SILENCE + 6 * EVALUATION_LAG + 60, ended, what="the run was not finished")
        finished = await client.read_flow_run(run.id)
        history = [state.name for state in await client.read_flow_run_states(run.id)]
        finisher = await claimed_by(client, run.id)
    victim.start()

    assert finished.state is not None
    assert finished.state.name == "Recovered", finished.state
    assert pod_deletions(replicas.sim) - deleted_before == 2  # two wedged pods, once each
    assert history.index("Crashed") < history.index(RESCHEDULED)
    assert finisher == survivor.engine_name


async def test_approvals_waiting_through_a_rolling_restart_are_answered_from_the_ui_and_slack(
    replicas: Replicas,
) -> None:
    first, second = replicas.pair
    alerts = [service_down_labels("shop", name) for name in (ANSWERED_IN_UI, ANSWERED_IN_SLACK)]
    body = orjson.dumps(grouped_notification(alerts, starts_at=datetime.now(UTC), group="ha"))
    async with httpx.AsyncClient(timeout=30) as http:
        assert await deliver(http, f"{first.url}/alertmanager", body, Delivery())
    asked = await asyncio.to_thread(wait_for_requests, replicas.slack, 2, 60)
    [in_ui] = requests_in(asked, ANSWERED_IN_UI)
    [in_slack] = requests_in(asked, ANSWERED_IN_SLACK)
    runs = [UUID(run_of(message)) for message in (in_ui, in_slack)]
    async with get_client() as client:

        async def both_wait() -> bool:
            waiting = [await client.read_flow_run(run_id) for run_id in runs]
            return all(run.state_type is StateType.PAUSED for run in waiting)

        await within(60, both_wait, what="the runs did not wait for approval")

        for replica in (first, second):  # one after the other, as a RollingUpdate does
            await asyncio.to_thread(replica.stop)
            await asyncio.to_thread(replica.start)

        answer = {"approve": True, "by": "oncall", "reason": "selector checked"}
        resumed = await client.resume_flow_run(runs[0], run_input=answer)
        pressed = await press(f"{second.url}/slack/interactions", in_slack, "approve")

        async def both_ended() -> bool:
            ended = [await client.read_flow_run(run_id) for run_id in runs]
            return all(run.state is not None and run.state.is_final() for run in ended)

        await within(90, both_ended, what="the answered runs did not end")
        finals = [await client.read_flow_run(run_id) for run_id in runs]

    assert resumed.status.value == "ACCEPT"
    assert pressed.status_code == 200
    assert [run.state.name if run.state else None for run in finals] == ["Recovered"] * 2
    assert [selector_of(replicas.sim, name) for name in (ANSWERED_IN_UI, ANSWERED_IN_SLACK)] == [
        {"app": "web"}
    ] * 2
    # One message per request, however often its run re-ran and on whichever replica.
    posts = [call.body["text"] for call in requests_in(replicas.slack.calls("chat.postMessage"))]
    assert [
        sum(name in text for text in posts) for name in (ANSWERED_IN_UI, ANSWERED_IN_SLACK)
    ] == [
        1,
        1,
    ]


def run_of(message: SlackCall) -> str:
    """The flow run an approval message's buttons answer."""
    run_id, _gate, _request = button_of(message)
    return run_id


def selector_of(sim: SimServer, name: str) -> object:
    return sim.cluster.store.get(resources.SERVICES, "shop", name)["spec"]["selector"]


async def test_both_replicas_sweepers_answer_an_overdue_request_once_and_quietly(
    replicas: Replicas, caplog: pytest.LogCaptureFixture
) -> None:
    # The sample deployment is served by neither replica: the answered run stays as answered.
    [record] = [spec for spec in SAMPLE_SPECS if spec.name == "engine-test-record"]
    [deployment] = (await register_deployments([record])).values()
    sweepers = [ApprovalSweeper([deployment]), ApprovalSweeper([deployment])]
    async with get_client() as client:
        with caplog.at_level(logging.INFO, logger="engine.approvals.sweeper"):
            for _ in range(5):  # on PostgreSQL both may look at the same moment: a 409
                run_id = await overdue_request(client, deployment, {"marker": "overdue"})
                await asyncio.gather(*(sweeper.sweep_once() for sweeper in sweepers))
                history = [state.name for state in await client.read_flow_run_states(run_id)]
                assert history.count("Resuming") == 1, history

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_replicas_creating_the_same_alerts_runs_at_once_in_any_order_persist_each_once(
    replicas: Replicas,
) -> None:
    # The sample deployment is served by neither replica: its runs stay as created.
    [record] = [spec for spec in SAMPLE_SPECS if spec.name == "engine-test-record"]
    deployments = await register_deployments([record])
    async with get_client() as first, get_client() as second:
        for _ in range(3):
            requests = [run_request(record.full_name) for _ in range(60)]
            # An alert delivered to both replicas, grouped with others differently by each.
            answers = await asyncio.gather(
                submit_batch(
                    first,
                    requests,
                    deployments=deployments,
                    writes=asyncio.Lock(),
                    deadline=time.monotonic() + 30,
                ),
                submit_batch(
                    second,
                    requests[::-1],
                    deployments=deployments,
                    writes=asyncio.Lock(),
                    deadline=time.monotonic() + 30,
                ),
            )
            ids = [
                [getattr(handle, "flow_run_id", handle) for handle in answer.handles]
                for answer in answers
            ]
            persisted = await read_runs(
                first, [run_id for run_id in ids[0] if isinstance(run_id, UUID)]
            )

            assert ids[0] == ids[1][::-1]
            assert {run.id for run in persisted} == set(ids[0])
            assert sum(len(answer.new_runs) for answer in answers) == len(requests)
