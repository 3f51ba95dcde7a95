"""Unit tests of `flows.rollback.plan`: which revision a rollback goes to, and the patch."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from flows.rollback.plan import (
    NoRollback,
    RollbackPlan,
    plan_rollback,
    rollback_patch,
    template_of,
)
from integrations.kubernetes.views import (
    ControllerRevision,
    DaemonSet,
    parse_controller_revision,
    parse_daemon_set,
)
from simcluster.controllers.revisions import revision_data

IMAGE_V1 = "registry.k8s.io/kube-proxy:v1.30.1"
IMAGE_V2 = "registry.k8s.io/kube-proxy:v1.30.2"
IMAGE_V3 = "registry.k8s.io/kube-proxy:v1.30.3"


def template(image: str, *, sidecar: str | None = None) -> dict[str, Any]:
    """A kube-proxy pod template running ``image`` (and a sidecar when given)."""
    containers: list[dict[str, Any]] = [{"name": "kube-proxy", "image": image}]
    if sidecar is not None:
        containers.append({"name": "sidecar", "image": sidecar})
    return {
        "metadata": {"labels": {"k8s-app": "kube-proxy"}},
        "spec": {"containers": containers, "hostNetwork": True},
    }


def daemon_set(
    pod_template: dict[str, Any], *, desired: int = 3, max_unavailable: int | str = 1
) -> DaemonSet:
    """The kube-proxy DaemonSet with ``pod_template``, fully rolled out to ``desired`` pods."""
    return parse_daemon_set(
        {
            "metadata": {"name": "kube-proxy", "namespace": "kube-system", "generation": 4},
            "spec": {
                "selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                "template": copy.deepcopy(pod_template),
                "updateStrategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": max_unavailable},
                },
            },
            "status": {
                "observedGeneration": 4,
                "desiredNumberScheduled": desired,
                "updatedNumberScheduled": desired,
                "numberAvailable": desired,
            },
        }
    )


def revision(number: int, pod_template: dict[str, Any]) -> ControllerRevision:
    """A ControllerRevision of kube-proxy holding ``pod_template`` as revision ``number``."""
    return parse_controller_revision(
        {
            "metadata": {"name": f"kube-proxy-{number}", "namespace": "kube-system"},
            "revision": number,
            "data": revision_data(template=copy.deepcopy(pod_template)),
        }
    )


def as_plan(result: RollbackPlan | NoRollback) -> RollbackPlan:
    assert isinstance(result, RollbackPlan), result
    return result


def test_no_revisions_means_no_rollback_with_a_reason() -> None:
    result = plan_rollback(daemon_set(template(IMAGE_V2)), [], to_revision=None)

    assert isinstance(result, NoRollback)
    assert "no ControllerRevisions" in result.reason


def test_a_single_revision_has_no_previous_revision_to_undo_to() -> None:
    result = plan_rollback(
        daemon_set(template(IMAGE_V1)), [revision(1, template(IMAGE_V1))], to_revision=None
    )

    assert result == NoRollback("only revision 1 exists: no previous revision")


@pytest.mark.parametrize(
    ("numbers", "expected_from", "expected_to"),
    [
        pytest.param([1, 2], 2, 1, id="two"),
        pytest.param([2, 1], 2, 1, id="two-reversed"),
        pytest.param([2, 3, 1], 3, 2, id="three-shuffled"),
        pytest.param([3, 1, 2], 3, 2, id="three-newest-first"),
    ],
)
def test_undo_goes_to_the_newest_revision_before_the_current_one(
    numbers: list[int], expected_from: int, expected_to: int
) -> None:
    images = {1: IMAGE_V1, 2: IMAGE_V2, 3: IMAGE_V3}
    current = template(images[expected_from])
    revisions = [revision(number, template(images[number])) for number in numbers]

    plan = as_plan(plan_rollback(daemon_set(current), revisions, to_revision=None))

    assert (plan.from_revision, plan.to_revision) == (expected_from, expected_to)
    assert plan.from_template == current
    assert plan.to_template == template(images[expected_to])


def test_an_explicit_to_revision_is_the_target_even_when_not_the_previous_one() -> None:
    revisions = [
        revision(3, template(IMAGE_V3)),
        revision(1, template(IMAGE_V1)),
        revision(2, template(IMAGE_V2)),
    ]

    plan = as_plan(plan_rollback(daemon_set(template(IMAGE_V3)), revisions, to_revision=1))

    assert (plan.from_revision, plan.to_revision) == (3, 1)
    assert plan.to_template == template(IMAGE_V1)


def test_a_missing_to_revision_is_no_rollback_naming_the_existing_numbers() -> None:
    revisions = [revision(3, template(IMAGE_V3)), revision(2, template(IMAGE_V2))]

    result = plan_rollback(daemon_set(template(IMAGE_V3)), revisions, to_revision=7)

    assert result == NoRollback("revision 7 does not exist (revisions: 2, 3)")


@pytest.mark.parametrize(
    ("to_revision", "current_image", "expected_number"),
    [
        pytest.param(None, IMAGE_V1, 1, id="undo-target-already-live"),
        pytest.param(2, IMAGE_V2, 2, id="explicit-newest-already-live"),
    ],
)
def test_a_target_whose_template_the_daemon_set_already_has_is_no_rollback(
    to_revision: int | None, current_image: str, expected_number: int
) -> None:
    revisions = [revision(1, template(IMAGE_V1)), revision(2, template(IMAGE_V2))]

    result = plan_rollback(daemon_set(template(current_image)), revisions, to_revision=to_revision)

    assert isinstance(result, NoRollback)
    assert f"already matches revision {expected_number}" in result.reason


@pytest.mark.parametrize(("desired", "max_unavailable"), [(3, 1), (5000, "10%")])
def test_the_plan_carries_desired_pods_and_max_unavailable(
    desired: int, max_unavailable: int | str
) -> None:
    revisions = [revision(1, template(IMAGE_V1)), revision(2, template(IMAGE_V2))]
    current = daemon_set(template(IMAGE_V2), desired=desired, max_unavailable=max_unavailable)

    plan = as_plan(plan_rollback(current, revisions, to_revision=None))

    assert plan.desired_pods == desired
    assert plan.max_unavailable == max_unavailable


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        pytest.param(
            template(IMAGE_V2),
            template(IMAGE_V1),
            [f"kube-proxy: {IMAGE_V2} -> {IMAGE_V1}"],
            id="one-container",
        ),
        pytest.param(
            template(IMAGE_V2, sidecar="busybox:1.36"),
            template(IMAGE_V1, sidecar="busybox:1.36"),
            [f"kube-proxy: {IMAGE_V2} -> {IMAGE_V1}"],
            id="two-containers-one-changes",
        ),
        pytest.param(
            template(IMAGE_V2, sidecar="busybox:1.37"),
            template(IMAGE_V2, sidecar="busybox:1.36"),
            ["sidecar: busybox:1.37 -> busybox:1.36"],
            id="only-the-sidecar-changes",
        ),
        pytest.param(
            template(IMAGE_V2, sidecar="busybox:1.36"),
            template(IMAGE_V1),
            [f"kube-proxy: {IMAGE_V2} -> {IMAGE_V1}", "sidecar: busybox:1.36 -> (none)"],
            id="sidecar-removed",
        ),
    ],
)
def test_image_changes_list_only_the_containers_whose_image_changes(
    current: dict[str, Any], target: dict[str, Any], expected: list[str]
) -> None:
    revisions = [revision(1, target), revision(2, current)]

    plan = as_plan(plan_rollback(daemon_set(current), revisions, to_revision=None))

    assert plan.image_changes == expected


def test_the_diff_is_unified_lines_removing_the_current_image_and_adding_the_old() -> None:
    revisions = [revision(1, template(IMAGE_V1)), revision(2, template(IMAGE_V2))]

    plan = as_plan(plan_rollback(daemon_set(template(IMAGE_V2)), revisions, to_revision=None))

    assert plan.diff[:3] == ["--- current", "+++ rollback", "@@ -4,5 +4,5 @@"]
    assert [line for line in plan.diff[2:] if line[:1] in "-+"] == [
        f"-  - image: {IMAGE_V2}",
        f"+  - image: {IMAGE_V1}",
    ]
    assert not any(line.endswith("\n") for line in plan.diff)


def test_the_rollback_patch_replaces_the_whole_template() -> None:
    pod_template = template(IMAGE_V1)

    patch = rollback_patch(pod_template)

    assert patch == {"spec": {"template": {**pod_template, "$patch": "replace"}}}
    assert "$patch" not in pod_template


def test_the_rollback_patch_is_what_the_revision_stores() -> None:
    pod_template = template(IMAGE_V1)

    assert rollback_patch(pod_template) == revision_data(pod_template)


def test_template_of_strips_the_patch_directive() -> None:
    held = revision(1, template(IMAGE_V1))
    assert held.data["spec"]["template"]["$patch"] == "replace"

    assert template_of(held) == template(IMAGE_V1)


@pytest.mark.parametrize(
    "data",
    [{}, {"spec": None}, {"spec": {"template": "not-a-mapping"}}],
    ids=["empty", "null-spec", "bad-template"],
)
def test_template_of_a_revision_without_a_template_is_empty(data: dict[str, Any]) -> None:
    held = parse_controller_revision({"metadata": {"name": "x"}, "revision": 1, "data": data})

    assert template_of(held) == {}
