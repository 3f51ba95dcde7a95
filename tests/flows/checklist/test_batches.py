"""How the checklist batches its steps: what one approval shows, which steps run together."""

from __future__ import annotations

from flows.checklist.actions import PatchServiceSelector, RestartAppPod, RestartKubeProxyPod
from flows.checklist.batches import approval_item, step_groups


def _restart(node: str, wave: int) -> RestartKubeProxyPod:
    return RestartKubeProxyPod(
        pod=f"kube-proxy-{node}", uid="u", node=node, wave=wave, needs_approval=True
    )


def test_kube_proxy_restarts_of_one_wave_run_together_and_other_steps_alone() -> None:
    app = RestartAppPod(
        namespace="shop", pod="web-1", uid="u", owner="ReplicaSet web", needs_approval=True
    )
    steps = (_restart("node-1", 0), _restart("node-2", 0), _restart("node-3", 1), app)

    groups = step_groups(steps)

    assert [[s.key for s in group] for group in groups] == [
        ["restart_kube_proxy_pod:node-1", "restart_kube_proxy_pod:node-2"],
        ["restart_kube_proxy_pod:node-3"],
        ["restart_app_pod:shop/web-1"],
    ]


def test_a_patch_reads_in_the_approval_request_with_its_exact_change() -> None:
    patch = PatchServiceSelector(
        namespace="shop",
        service="web",
        before={"app": "web-v2"},
        after={"app": "web"},
        needs_approval=True,
    )

    item = approval_item(patch)

    assert item.key == patch.key
    assert item.description == patch.description
    assert item.blast_radius == str(patch.blast_radius)
    assert item.diff == ["  spec.selector:", "-   app: web-v2", "+   app: web"]


def test_a_restart_reads_in_the_approval_request_without_a_diff() -> None:
    assert approval_item(_restart("node-2", 0)).diff == []
