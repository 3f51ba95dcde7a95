"""The API failing: transient errors are retried; an RBAC refusal fails the run, naming the rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from simcluster import resources
from simcluster.rbac import RbacPolicy
from simcluster.server import DEPLOY_RBAC_DIR
from tests.flows.conftest import Launch


def _rbac_without_deleting_pods() -> RbacPolicy:
    objects: list[dict[str, Any]] = []
    for path in sorted(Path(DEPLOY_RBAC_DIR).glob("*.yaml")):
        objects.extend(d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict))
    for obj in objects:
        if obj["kind"] == "ClusterRole":
            obj["rules"] = [r for r in obj["rules"] if r["resources"] != ["pods"]]
    return RbacPolicy.from_objects(objects)


async def test_transient_api_errors_are_retried_and_the_fix_still_lands(launch: Launch) -> None:
    engine = await launch("selector-mismatch")
    cluster = engine.sim.cluster
    cluster.api_faults.retry_after_seconds = 0
    cluster.faults.api_flaky(throttle_rate=0.15, error_rate=0.15)
    run_id = await engine.start_run(
        runbook="service-down",
        scope="service",
        namespace="shop",
        service="web",
        auto_approve=True,
    )

    done = await engine.wait_for(run_id)

    assert done.name == "Recovered", done
    assert cluster.store.get(resources.SERVICES, "shop", "web")["spec"]["selector"] == {
        "app": "web"
    }


async def test_rbac_refusing_to_delete_pods_fails_the_run_naming_the_missing_rule(
    launch: Launch,
) -> None:
    engine = await launch("app-pods-not-ready", rbac=_rbac_without_deleting_pods())
    run_id = await engine.start_run(
        runbook="service-down",
        scope="service",
        namespace="shop",
        service="checkout",
        auto_approve=True,
    )

    done = await engine.wait_for(run_id)

    assert done.name == "Failed", done
    message = done.message or ""
    assert 'verbs=[delete] apiGroups=[""] resources=[pods] in namespace shop' in message
    assert "**Outcome: failed**" in await engine.report(run_id)


def _rbac_remediating_only_in(namespaces: set[str]) -> RbacPolicy:
    """deploy/rbac with the namespaced-remediation component, listing only `namespaces`."""
    objects: list[dict[str, Any]] = []
    for path in sorted(Path(DEPLOY_RBAC_DIR).glob("*.yaml")):
        objects.extend(d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict))
    objects = [
        obj
        for obj in objects
        if not (
            obj["kind"] == "ClusterRoleBinding"
            and obj["metadata"]["name"] == "service-runbooks-remediate"
        )
    ]
    component = Path(DEPLOY_RBAC_DIR).parent / "components/namespaced-remediation"
    bindings = yaml.safe_load_all((component / "rolebindings.yaml").read_text())
    objects += [b for b in bindings if b and b["metadata"]["namespace"] in namespaces]
    return RbacPolicy.from_objects(objects)


async def test_a_namespace_left_out_of_the_remediation_list_gets_a_run_that_says_it_could_not_act(
    launch: Launch,
) -> None:
    rbac = _rbac_remediating_only_in({"kube-system"})
    engine = await launch("app-pods-not-ready", rbac=rbac)
    run_id = await engine.start_run(
        runbook="service-down",
        scope="service",
        namespace="shop",
        service="checkout",
        auto_approve=True,
    )

    done = await engine.wait_for(run_id)

    assert done.name == "Failed", done
    assert 'verbs=[delete] apiGroups=[""] resources=[pods] in namespace shop' in (
        done.message or ""
    )
