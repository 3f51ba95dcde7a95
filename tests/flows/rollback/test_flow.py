"""The kube-proxy rollback end to end: a real Prefect server, the simulated cluster over HTTP,
the engine's ServiceAccount with its RBAC, and approvals answered through Prefect's API."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from flows.rollback.report import backup_key
from integrations.kubernetes import StrategicMergePatch
from simcluster import resources
from simcluster.faults import BROKEN_PROXY_IMAGE
from simcluster.kubesystem import KUBE_PROXY_IMAGE
from tests.flows.checklist_engine import ChecklistEngine
from tests.flows.conftest import Launch, as_admin

OTHER_BROKEN_IMAGE = "registry.k8s.io/kube-proxy:v1.30.98-broken"


def kube_proxy(engine: ChecklistEngine) -> dict[str, Any]:
    """The kube-proxy DaemonSet as the cluster holds it now."""
    return engine.sim.cluster.store.get(resources.DAEMONSETS, "kube-system", "kube-proxy")


def image_of(engine: ChecklistEngine) -> str:
    """The image of kube-proxy's pod template now."""
    return str(kube_proxy(engine)["spec"]["template"]["spec"]["containers"][0]["image"])


def pod_images(engine: ChecklistEngine) -> set[str]:
    """The images kube-proxy's (not terminating) pods run."""
    pods = engine.sim.cluster.store.list_objects(resources.PODS, namespace="kube-system")
    return {
        pod["spec"]["containers"][0]["image"]
        for pod in pods
        if pod["metadata"].get("labels", {}).get("k8s-app") == "kube-proxy"
        and not pod["metadata"].get("deletionTimestamp")
    }


def roll_out_broken_image(engine: ChecklistEngine, image: str) -> None:
    """Roll kube-proxy out to another image (one the cluster crashes), as a second bad release
    would: ``kubectl set image daemonset/kube-proxy``."""
    container = {"name": "kube-proxy", "image": image}
    patch = {"spec": {"template": {"spec": {"containers": [container]}}}}
    with as_admin(engine) as kube:
        kube.patch_daemon_set("kube-proxy", "kube-system", StrategicMergePatch(patch))


async def wait_for_revisions(engine: ChecklistEngine, count: int, within: float = 20) -> None:
    """Wait until the DaemonSet controller has recorded ``count`` revisions."""
    deadline = time.monotonic() + within
    while True:
        revisions = engine.sim.cluster.store.list_objects(
            resources.CONTROLLERREVISIONS, namespace="kube-system"
        )
        if len(revisions) >= count:
            return
        assert time.monotonic() < deadline, f"{len(revisions)} revisions after {within}s"
        await asyncio.sleep(0.05)


async def test_a_bad_rollout_is_rolled_back_once_approved_and_every_node_runs_the_old_image(
    launch_rollback: Launch,
) -> None:
    engine = await launch_rollback("bad-kube-proxy-rollout")
    await wait_for_revisions(engine, 2)
    run_id = await engine.start_run()
    await engine.wait_for(run_id, paused=True)

    [request] = engine.notifier.requested
    assert request.title == "Roll kube-proxy back from revision 2 to 1"
    [item] = request.items
    assert f"kube-proxy: {BROKEN_PROXY_IMAGE} -> {KUBE_PROXY_IMAGE}" in item.description
    assert f"-    image: {BROKEN_PROXY_IMAGE}" in item.diff
    assert f"+    image: {KUBE_PROXY_IMAGE}" in item.diff
    assert engine.mutations() == 0
    await engine.answer(run_id, approve=True, by="alice", reason="bad image")
    done = await engine.wait_for(run_id)

    assert done.name == "RolledBack", done
    assert image_of(engine) == KUBE_PROXY_IMAGE
    assert pod_images(engine) == {KUBE_PROXY_IMAGE}
    status = kube_proxy(engine)["status"]
    assert status["numberReady"] == status["desiredNumberScheduled"] == 5
    report = await engine.report(run_id)
    assert "**Outcome: rolled_back**: kube-proxy runs revision 1 and every pod is Ready" in report
    assert "| approved | alice | prefect_ui |" in report
    backup = await engine.report(run_id, key=backup_key(str(run_id)))
    assert "# Backup of DaemonSet kube-proxy (revision 2)" in backup
    assert f"image: {BROKEN_PROXY_IMAGE}" in backup
    assert "config.conf" in backup
    assert "resourceVersion" not in backup


async def test_a_dry_run_backs_up_and_shows_the_change_without_making_it(
    launch_rollback: Launch,
) -> None:
    engine = await launch_rollback("bad-kube-proxy-rollout")
    await wait_for_revisions(engine, 2)

    run_id = await engine.start_run(dry_run=True)
    done = await engine.wait_for(run_id)

    assert done.name == "DryRun", done
    assert engine.mutations() == 0
    assert image_of(engine) == BROKEN_PROXY_IMAGE
    report = await engine.report(run_id)
    assert "would roll back revision 2 -> 1; nothing changed" in report
    assert f"+    image: {KUBE_PROXY_IMAGE}" in report
    assert await engine.report(run_id, key=backup_key(str(run_id)))


async def test_a_rejected_rollback_leaves_the_daemonset_alone(launch_rollback: Launch) -> None:
    engine = await launch_rollback("bad-kube-proxy-rollout")
    await wait_for_revisions(engine, 2)
    run_id = await engine.start_run()
    await engine.wait_for(run_id, paused=True)

    await engine.answer(run_id, approve=False, by="bob", reason="investigating first")
    done = await engine.wait_for(run_id)

    assert done.name == "Rejected", done
    assert done.is_cancelled()
    assert engine.mutations() == 0
    report = await engine.report(run_id)
    assert "rejected by bob: investigating first; the DaemonSet was not changed" in report


async def test_kube_proxy_with_a_single_revision_has_nothing_to_roll_back(
    launch_rollback: Launch,
) -> None:
    engine = await launch_rollback("healthy")

    run_id = await engine.start_run()
    done = await engine.wait_for(run_id)

    assert done.name == "NothingToDo", done
    assert "only revision 1 exists: no previous revision" in (done.message or "")
    assert engine.mutations() == 0


async def test_a_drill_started_by_hand_rolls_back_without_asking(launch_rollback: Launch) -> None:
    engine = await launch_rollback("bad-kube-proxy-rollout")
    await wait_for_revisions(engine, 2)

    run_id = await engine.start_run(auto_approve=True)
    done = await engine.wait_for(run_id)

    assert done.name == "RolledBack", done
    assert engine.notifier.requested == []
    assert "| approved | runbook policy | drill |" in await engine.report(run_id)


async def test_a_rollback_the_runbook_requires_approval_for_is_asked_even_as_a_drill(
    launch_rollback: Launch,
) -> None:
    engine = await launch_rollback("bad-kube-proxy-rollout")
    await wait_for_revisions(engine, 2)

    run_id = await engine.start_run(runbook="kube-proxy-rollback", auto_approve=True)
    await engine.wait_for(run_id, paused=True)

    assert len(engine.notifier.requested) == 1
    assert engine.mutations() == 0


async def test_a_rollback_whose_pods_fail_too_is_undone_and_the_run_fails(
    launch_rollback: Launch,
) -> None:
    engine = await launch_rollback("bad-kube-proxy-rollout", crashing_images=[OTHER_BROKEN_IMAGE])
    await wait_for_revisions(engine, 2)
    roll_out_broken_image(engine, OTHER_BROKEN_IMAGE)
    await wait_for_revisions(engine, 3)

    run_id = await engine.start_run(auto_approve=True, rollout_timeout_seconds=30)
    done = await engine.wait_for(run_id)

    assert done.name == "RolloutFailedRestored", done
    assert done.is_failed()
    assert image_of(engine) == OTHER_BROKEN_IMAGE
    report = await engine.report(run_id)
    assert "new pods failing: kube-proxy-" in report
    assert "CrashLoopBackOff" in report
    assert "| restore | done |" in report
    assert "restored revision 3 (as before the run)" in report


async def test_a_daemonset_changed_while_waiting_for_approval_is_not_rolled_back(
    launch_rollback: Launch,
) -> None:
    engine = await launch_rollback("bad-kube-proxy-rollout", crashing_images=[OTHER_BROKEN_IMAGE])
    await wait_for_revisions(engine, 2)
    run_id = await engine.start_run()
    await engine.wait_for(run_id, paused=True)
    roll_out_broken_image(engine, OTHER_BROKEN_IMAGE)

    await engine.answer(run_id, approve=True)
    done = await engine.wait_for(run_id)

    assert done.name == "Superseded", done
    assert image_of(engine) == OTHER_BROKEN_IMAGE
    assert "the DaemonSet's template changed since the plan" in await engine.report(run_id)
