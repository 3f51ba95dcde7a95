"""Setting kube-proxy's template: a run re-run after an interruption knows its own change."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.approval import StepStatus
from flows.rollback.act import APPLIED_BY, apply_template
from flows.rollback.observe import DAEMON_SET, NAMESPACE
from flows.rollback.plan import current_template
from integrations.kubernetes import Kube, KubeConnection, connect

OLDER_IMAGE = "registry.k8s.io/kube-proxy:v1.29.9"


@pytest.fixture
def kube(engine_kubeconfig: Path) -> Iterator[Kube]:
    """The simulated cluster as the engine's ServiceAccount (its RBAC enforced)."""
    with connect(KubeConnection(kubeconfig=engine_kubeconfig), environ={}) as kube:
        yield kube


def older(template: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(template)
    changed["spec"]["containers"][0]["image"] = OLDER_IMAGE
    return changed


def test_the_template_is_set_with_the_step_that_set_it(kube: Kube) -> None:
    before = current_template(kube.get_daemon_set(DAEMON_SET, NAMESPACE))

    change = apply_template(
        kube, older(before), expected=before, label="revision 1", applied_by="run-1/roll-back"
    )

    daemon_set = kube.get_daemon_set(DAEMON_SET, NAMESPACE)
    assert change.status is StepStatus.DONE
    assert current_template(daemon_set) == older(before)
    assert daemon_set.meta.annotations[APPLIED_BY] == "run-1/roll-back"


def test_the_same_step_run_again_finds_its_own_change_done(kube: Kube) -> None:
    before = current_template(kube.get_daemon_set(DAEMON_SET, NAMESPACE))
    apply_template(
        kube, older(before), expected=before, label="revision 1", applied_by="run-1/roll-back"
    )
    generation = kube.get_daemon_set(DAEMON_SET, NAMESPACE).meta.generation

    again = apply_template(
        kube, older(before), expected=before, label="revision 1", applied_by="run-1/roll-back"
    )

    assert again.status is StepStatus.DONE
    assert "by this run, before it was interrupted" in again.detail
    assert kube.get_daemon_set(DAEMON_SET, NAMESPACE).meta.generation == generation


def test_another_run_finds_the_template_already_in_place(kube: Kube) -> None:
    before = current_template(kube.get_daemon_set(DAEMON_SET, NAMESPACE))
    apply_template(
        kube, older(before), expected=before, label="revision 1", applied_by="run-1/roll-back"
    )

    other = apply_template(
        kube, older(before), expected=before, label="revision 1", applied_by="run-2/roll-back"
    )

    assert other.status is StepStatus.SKIPPED
    assert "already has the template of revision 1" in other.detail
