"""`kubectl apply -k` of the engine's kustomizations passes against the simulated cluster.

kubectl runs as it would against a real 1.30 cluster with prometheus-operator installed:
validation on (it reads ``/openapi/v3`` and leaves strict field validation to the server),
client-side apply with its strategic merge patches, server-side dry runs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from simcluster import manifests, resources
from simcluster.cluster import SimCluster
from simcluster.rbac import RbacPolicy
from simcluster.server import DEPLOY_RBAC_DIR, SimServer
from simcluster.store import format_time

pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed"),
]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
EVERY_KIND = Path(__file__).parent / "fixtures" / "every-kind"
ENGINE_NAMESPACE = "service-runbooks"
# The overlay installed for real: the one with the most kinds (a StatefulSet among them).
INSTALLED = "overlays/with-prefect"


def installable() -> list[str]:
    """Every overlay, and the base with each component (relative to deploy/)."""
    overlays = sorted(
        f"overlays/{path.parent.name}"
        for path in (DEPLOY / "overlays").glob("*/kustomization.yaml")
    )
    components = sorted(
        f"base+{path.parent.name}" for path in (DEPLOY / "components").glob("*/kustomization.yaml")
    )
    return overlays + components


def cluster_with(*namespaces: str) -> SimCluster:
    """A cluster enforcing deploy/rbac, with the given namespaces beside the system ones and
    one Ready node."""
    cluster = SimCluster(rbac=RbacPolicy.from_directory(DEPLOY_RBAC_DIR))
    for name in ("default", "kube-system", "kube-public", *namespaces):
        cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    cluster.create(manifests.node(1, created=format_time(cluster.clock.now())))
    return cluster


@pytest.fixture(scope="module")
def deploy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/ as an operator prepares it: every git-ignored secret file written from its
    ``.example``, and a kustomization of the base with each component."""
    copy = tmp_path_factory.mktemp("deploy") / "deploy"
    shutil.copytree(DEPLOY, copy, ignore=_real_secrets)
    for example in copy.glob("**/secrets/*.example"):
        example.with_suffix("").write_bytes(example.read_bytes())
    for component in (copy / "components").glob("*/kustomization.yaml"):
        combined = copy / f"base+{component.parent.name}"
        combined.mkdir()
        kustomization = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["../base"],
            "components": [f"../components/{component.parent.name}"],
        }
        (combined / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return copy


def _real_secrets(folder: str, names: list[str]) -> list[str]:
    """Secret files someone created in their checkout stay there; the examples are enough."""
    if Path(folder).name != "secrets":
        return []
    return [name for name in names if not name.endswith(".example")]


def kubectl_for(server: SimServer, folder: Path) -> list[str]:
    """The kubectl command line for the admin, with a private discovery cache."""
    kubeconfig = server.write_kubeconfig(folder / "kubeconfig")
    return ["kubectl", f"--kubeconfig={kubeconfig}", f"--cache-dir={folder / 'cache'}"]


def run(command: list[str], *args: str) -> str:
    """Run kubectl and return its standard output, failing the test on a non-zero exit."""
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def rendered(kubectl: list[str], kustomization: Path) -> list[dict[str, Any]]:
    """The objects a kustomization builds."""
    built = run(kubectl, "kustomize", str(kustomization))
    return [doc for doc in yaml.safe_load_all(built) if doc]


def stored(cluster: SimCluster, obj: dict[str, Any]) -> bool:
    rt = resources.resource_for_kind(obj["kind"])
    meta = obj["metadata"]
    return cluster.store.exists(rt, meta.get("namespace") if rt.namespaced else None, meta["name"])


@pytest.fixture(scope="module")
def dry_run_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimServer, Path]]:
    """A cluster the engine is about to be installed on, and a folder for kubectl's files.

    Its namespace exists already: a server-side dry run cannot create a namespace and what goes
    in it in one go (a real apiserver answers "namespaces ... not found" too). ``shop`` is the
    application namespace deploy/components/namespaced-remediation binds as its example.
    """
    with SimServer(cluster_with(ENGINE_NAMESPACE, "shop")) as server:
        yield server, tmp_path_factory.mktemp("kubectl")


@pytest.mark.parametrize("kustomization", installable())
def test_a_server_side_dry_run_of_every_installable_kustomization_passes_and_stores_nothing(
    dry_run_target: tuple[SimServer, Path], deploy: Path, kustomization: str
) -> None:
    server, folder = dry_run_target
    kubectl = kubectl_for(server, folder)
    objects = rendered(kubectl, deploy / kustomization)

    lines = run(kubectl, "apply", "--dry-run=server", "-k", str(deploy / kustomization))

    assert len(lines.splitlines()) == len(objects)
    assert all(line.endswith("(server dry run)") for line in lines.splitlines())
    assert [o["metadata"]["name"] for o in objects if stored(server.cluster, o)] == [
        ENGINE_NAMESPACE
    ]


def test_an_overlay_installs_then_reapplies_without_creating_and_uninstalls(
    deploy: Path, tmp_path: Path
) -> None:
    overlay = str(deploy / INSTALLED)
    with SimServer(cluster_with("shop")) as server:
        kubectl = kubectl_for(server, tmp_path)
        objects = rendered(kubectl, deploy / INSTALLED)

        installed = run(kubectl, "apply", "-k", overlay).splitlines()
        listed = json.loads(run(kubectl, "get", "-k", overlay, "-o", "json"))["items"]
        again = run(kubectl, "apply", "-k", overlay).splitlines()
        rehearsed = run(kubectl, "apply", "--dry-run=server", "-k", overlay).splitlines()
        removed = run(kubectl, "delete", "-k", overlay).splitlines()
        left = [o["metadata"]["name"] for o in objects if stored(server.cluster, o)]

    assert len(installed) == len(objects)
    assert all(line.endswith(" created") for line in installed)
    assert sorted(identity(o) for o in listed) == sorted(identity(o) for o in objects)
    assert len(again) == len(rehearsed) == len(objects)
    assert not any("created" in line for line in again + rehearsed)
    assert all(line.endswith(" deleted") for line in removed)
    assert left == []


def identity(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", ""), meta["name"]


def edited(fixture: Path, kind: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Change the fixture's object of one kind in place."""
    documents = list(yaml.safe_load_all((fixture / "objects.yaml").read_text()))
    for doc in documents:
        if doc["kind"] == kind:
            edit(doc)
    (fixture / "objects.yaml").write_text(yaml.safe_dump_all(documents))


@pytest.fixture
def every_kind(tmp_path: Path) -> Iterator[tuple[list[str], Path]]:
    """kubectl, and a copy of the every-kind fixture it has applied."""
    fixture = tmp_path / "every-kind"
    shutil.copytree(EVERY_KIND, fixture)
    with SimServer(cluster_with()) as server:
        kubectl = kubectl_for(server, tmp_path)
        run(kubectl, "apply", "-k", str(fixture))
        yield kubectl, fixture


def test_reapplying_changed_rules_and_templates_patches_them_as_kubernetes_does(
    every_kind: tuple[list[str], Path],
) -> None:
    kubectl, fixture = every_kind

    def fewer_rules(role: dict[str, Any]) -> None:
        role["rules"] = role["rules"][:1]

    def new_image(recorder: dict[str, Any]) -> None:
        recorder["spec"]["template"]["spec"]["containers"][0]["image"] = "recorder:2.0"

    edited(fixture, "ClusterRole", fewer_rules)
    edited(fixture, "StatefulSet", new_image)
    run(kubectl, "apply", "-k", str(fixture))
    role = json.loads(run(kubectl, "get", "clusterrole", "drill-reader", "-o", "json"))
    recorder = json.loads(run(kubectl, "get", "sts", "recorder", "-n", "drills", "-o", "json"))

    # No merge key: the applied list replaces the stored one.
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list"]}
    ]
    containers = recorder["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("recorder", "recorder:2.0")]


def test_a_changed_volume_claim_template_is_refused_as_kubernetes_refuses_it(
    every_kind: tuple[list[str], Path],
) -> None:
    kubectl, fixture = every_kind

    def more_storage(recorder: dict[str, Any]) -> None:
        claim = recorder["spec"]["volumeClaimTemplates"][0]["spec"]
        claim["resources"]["requests"]["storage"] = "5Gi"

    edited(fixture, "StatefulSet", more_storage)
    done = subprocess.run(
        [*kubectl, "apply", "-k", str(fixture)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    assert (
        'The StatefulSet "recorder" is invalid: spec: Forbidden: updates to statefulset spec '
        "for fields other than 'replicas', 'ordinals', 'template'"
    ) in done.stderr


def test_a_misspelt_field_is_refused_as_a_strict_apiserver_refuses_it(tmp_path: Path) -> None:
    manifest = tmp_path / "typo.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"selectr": {"app": "web"}, "ports": [{"port": 80}]},
            }
        )
    )
    with SimServer(cluster_with()) as server:
        kubectl = kubectl_for(server, tmp_path)
        done = subprocess.run(
            [*kubectl, "apply", "--dry-run=server", "-f", str(manifest)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert done.returncode == 1
    assert 'strict decoding error: unknown field "spec.selectr"' in done.stderr
