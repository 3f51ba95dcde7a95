"""The rollback says what is known of the revision it goes to, flags one that never ran healthily,
and claims no work it did not do when someone else rolled back first; a tag that cannot be
pulled, set with kubectl alone, is a bad rollout to roll back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from simcluster import resources
from simcluster.faults import BROKEN_PROXY_IMAGE
from simcluster.kubesystem import KUBE_PROXY_IMAGE
from tests.flows.checklist_engine import ChecklistEngine
from tests.flows.conftest import Launch
from tests.flows.operator import operator
from tests.flows.rollback.test_flow import image_of, pod_images, wait_for_revisions

GOOD_NEXT_IMAGE = "registry.k8s.io/kube-proxy:v1.30.5"
MISSING_TAG = "registry.k8s.io/kube-proxy:v9.9.9-broken"


def _set_proxy_image(engine: ChecklistEngine, image: str) -> None:
    """``kubectl -n kube-system set image daemonset/kube-proxy kube-proxy=<image>``."""
    with operator(engine) as kubectl:
        kubectl.set_image(
            "daemonset", "kube-system", "kube-proxy", container="kube-proxy", image=image
        )


async def _until(check: Any, *, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"not so after {within}s"
        await asyncio.sleep(0.1)


def _waiting_reasons(engine: ChecklistEngine) -> set[str]:
    pods = engine.sim.cluster.store.list_objects(resources.PODS, namespace="kube-system")
    return {
        (status.get("state") or {}).get("waiting", {}).get("reason", "")
        for pod in pods
        if pod["metadata"].get("labels", {}).get("k8s-app") == "kube-proxy"
        for status in (pod.get("status") or {}).get("containerStatuses") or []
    }


async def test_the_approval_shows_the_target_revisions_image_time_and_pods(
    launch_rollback: Launch,
) -> None:
    engine = await launch_rollback("bad-kube-proxy-rollout")
    await wait_for_revisions(engine, 2)

    run_id = await engine.start_run()
    await engine.wait_for(run_id, paused=True)

    [request] = engine.notifier.requested
    notes = request.notes
    assert notes[0] == f"Target revision 1: image {KUBE_PROXY_IMAGE}"
    assert notes[1].startswith("Last current: until ")
    assert notes[1].endswith(", when revision 2 was created")
    # The rollout stalled on one crashing pod: the other four still run revision 1, Ready; the
    # one it replaced ran quietly, as far as its Events tell.
    assert notes[2].startswith("Its pods then: 4 pod(s) still run it now, 4 Ready; started with")
    assert not any(note.startswith("WARNING") for note in notes)
    await engine.answer(run_id, approve=False, reason="just looking")
    await engine.wait_for(run_id)
    assert "## Target revision" in await engine.report(run_id)


async def test_a_target_whose_pods_crash_looped_when_last_current_is_flagged_to_the_approver(
    launch_rollback: Launch,
) -> None:
    engine = await launch_rollback("bad-kube-proxy-rollout")
    await wait_for_revisions(engine, 2)
    # A fix rolled out over the bad release: "the previous revision" is now the bad one.
    _set_proxy_image(engine, GOOD_NEXT_IMAGE)
    await wait_for_revisions(engine, 3)
    await _until(lambda: pod_images(engine) == {GOOD_NEXT_IMAGE})

    run_id = await engine.start_run()
    await engine.wait_for(run_id, paused=True)

    [request] = engine.notifier.requested
    assert request.title == "Roll kube-proxy back from revision 3 to 2"
    assert request.notes[0] == f"Target revision 2: image {BROKEN_PROXY_IMAGE}"
    [warning] = [note for note in request.notes if note.startswith("WARNING")]
    assert warning.startswith(
        "WARNING: revision 2 did not run healthily the last time it was current: pods "
        "crash-looped on its image (kube-proxy-"
    )
    await engine.answer(run_id, approve=False, reason="that revision never worked")
    done = await engine.wait_for(run_id)
    assert done.name == "Rejected", done
    assert warning in await engine.report(run_id)


async def test_an_approval_after_someone_else_rolled_back_applies_nothing_and_says_so(
    launch_rollback: Launch,
) -> None:
    engine = await launch_rollback("bad-kube-proxy-rollout")
    cluster = engine.sim.cluster
    await wait_for_revisions(engine, 2)
    run_id = await engine.start_run()
    await engine.wait_for(run_id, paused=True)
    # Meanwhile an operator puts the old image back by hand.
    _set_proxy_image(engine, KUBE_PROXY_IMAGE)
    patches = cluster.requests.total(verb="patch", resource="daemonsets")

    await engine.answer(run_id, approve=True)
    done = await engine.wait_for(run_id)

    assert done.name == "AlreadyInPlace", done
    assert done.is_completed()
    assert cluster.requests.total(verb="patch", resource="daemonsets") == patches
    assert image_of(engine) == KUBE_PROXY_IMAGE
    report = await engine.report(run_id)
    assert (
        "**Outcome: already_in_place**: the cluster was already in the planned state: the "
        "DaemonSet had revision 1's template when the approval came (set by someone else); "
        "nothing was applied; kube-proxy runs revision 1 and every pod is Ready"
    ) in report
    assert "rolled_back" not in report


async def test_a_tag_that_cannot_be_pulled_set_with_kubectl_is_a_bad_rollout_rolled_back(
    launch_rollback: Launch,
) -> None:
    engine = await launch_rollback("healthy")
    _set_proxy_image(engine, MISSING_TAG)
    await wait_for_revisions(engine, 2)
    await _until(lambda: _waiting_reasons(engine) & {"ErrImagePull", "ImagePullBackOff"})

    run_id = await engine.start_run(auto_approve=True)
    done = await engine.wait_for(run_id)

    assert done.name == "RolledBack", done
    assert pod_images(engine) == {KUBE_PROXY_IMAGE}
    assert f"kube-proxy: {MISSING_TAG} -> {KUBE_PROXY_IMAGE}" in await engine.report(run_id)
