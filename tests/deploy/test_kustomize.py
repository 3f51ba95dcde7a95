"""``kubectl apply -k deploy/overlays/<name>`` installs a valid, available, confined engine."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from simcluster.rbac import RbacPolicy
from tests.deploy.kustomize import INSTALLABLE, LAYOUTS, NEEDS_KUBECTL, Rendered
from tests.deploy.manifests import (
    DEPLOY,
    SCHEMA_VERSIONS,
    is_custom_resource,
    locked_version,
    project_version,
)
from tests.deploy.test_engine_rbac import engine_asks

pytestmark = NEEDS_KUBECTL

Render = Callable[[str], Rendered]

ENGINE_LABELS = {
    "app.kubernetes.io/name": "service-runbooks",
    "app.kubernetes.io/component": "engine",
}
REMEDIATE = "service-runbooks-remediate"
#: Prefect has taken 90-100 s to answer on a busy node; nothing may be killed before that.
STARTUP_SECONDS = 100
#: Where the engine reaches Prefect's API when the official Helm chart installed it.
HELM_NAMESPACE = "prefect"
HIGHLY_AVAILABLE = tuple(name for name in INSTALLABLE if "single-replica" not in name)
NAMESPACED = tuple(name for name in LAYOUTS if "namespaced-remediation" in name)

#: prometheus-operator's resources (no Kubernetes schema): the fields it cannot do without.
CUSTOM_RESOURCES: dict[tuple[str, str], tuple[str, ...]] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): ("selector", "endpoints"),
    ("monitoring.coreos.com/v1", "PrometheusRule"): ("groups",),
}

#: What the restricted Pod Security Standard (the namespace enforces it) allows as volumes.
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    """The pod template's spec of a Deployment or StatefulSet."""
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def only_container(workload: dict[str, Any]) -> dict[str, Any]:
    """The single container of a workload."""
    [container] = pod_spec(workload)["containers"]
    return dict(container)


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The container's environment entries by variable name."""
    return {entry["name"]: entry for entry in container.get("env", [])}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels only, as deploy/ writes them) selects the labels."""
    assert "matchExpressions" not in selector, "extend selects() for matchExpressions"
    return bool(selector.get("matchLabels", {}).items() <= labels.items())


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    """The labels of a workload's pods."""
    return dict(workload["spec"]["template"]["metadata"]["labels"])


def startup_budget(probe: dict[str, Any]) -> int:
    """Seconds a startup probe allows before the container is restarted."""
    return int(probe.get("initialDelaySeconds", 0)) + int(probe.get("periodSeconds", 10)) * int(
        probe.get("failureThreshold", 3)
    )


def mount_at(workload: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The container's volume mount holding ``path`` (the deepest one), if any."""
    mounts = [
        m
        for m in only_container(workload).get("volumeMounts", [])
        if path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/")
    ]
    return dict(max(mounts, key=lambda m: len(m["mountPath"]))) if mounts else None


def mounted_volume(workload: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The pod volume the container sees at ``path``, if any."""
    mount = mount_at(workload, path)
    if mount is None:
        return None
    [volume] = [v for v in pod_spec(workload)["volumes"] if v["name"] == mount["name"]]
    return dict(volume)


def references(workload: dict[str, Any]) -> Iterator[tuple[str, str, str | None, bool]]:
    """Every (kind, name, key, optional) of a ConfigMap or Secret the workload's pods read."""
    spec = pod_spec(workload)
    for container in spec["containers"] + spec.get("initContainers", []):
        for entry in container.get("env", []):
            for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                ref = entry.get("valueFrom", {}).get(field)
                if ref:
                    yield kind, ref["name"], ref["key"], bool(ref.get("optional"))
        for source in container.get("envFrom", []):
            for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                if field in source:
                    ref = source[field]
                    yield kind, ref["name"], None, bool(ref.get("optional"))
    for volume in spec.get("volumes", []):
        if "secret" in volume:
            yield (
                "Secret",
                volume["secret"]["secretName"],
                None,
                bool(volume["secret"].get("optional")),
            )
        if "configMap" in volume:
            ref = volume["configMap"]
            yield "ConfigMap", ref["name"], None, bool(ref.get("optional"))


def restricted_violations(workload: dict[str, Any]) -> Iterator[str]:
    """What in a workload's pods the restricted Pod Security Standard would reject."""
    name = workload["metadata"]["name"]
    spec = pod_spec(workload)
    pod_security = spec.get("securityContext", {})
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(host):
            yield f"{name}: {host}"
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            yield f"{name}: volume {volume['name']} is {kinds}"
    for container in spec["containers"] + spec.get("initContainers", []):
        where = f"{name}/{container['name']}"
        security = container.get("securityContext", {})
        if security.get("privileged"):
            yield f"{where}: privileged"
        if security.get("allowPrivilegeEscalation") is not False:
            yield f"{where}: allowPrivilegeEscalation is not false"
        if "ALL" not in security.get("capabilities", {}).get("drop", []):
            yield f"{where}: capabilities ALL are not dropped"
        if set(security.get("capabilities", {}).get("add", [])) - {"NET_BIND_SERVICE"}:
            yield f"{where}: adds capabilities"
        if not security.get("runAsNonRoot", pod_security.get("runAsNonRoot")):
            yield f"{where}: runAsNonRoot is not true"
        if security.get("runAsUser", pod_security.get("runAsUser")) == 0:
            yield f"{where}: runs as UID 0"
        seccomp = security.get("seccompProfile", pod_security.get("seccompProfile", {}))
        if seccomp.get("type") not in {"RuntimeDefault", "Localhost"}:
            yield f"{where}: no RuntimeDefault seccomp profile"
        if security.get("readOnlyRootFilesystem") is not True:
            yield f"{where}: writable root filesystem"


def egress_ports(policy: dict[str, Any]) -> set[tuple[int | str, str]]:
    """Every (port, protocol) an egress rule of the policy allows."""
    return {
        (port["port"], port.get("protocol", "TCP"))
        for rule in policy["spec"].get("egress", [])
        for port in rule.get("ports", [])
    }


def engine_policy(rendered: Rendered) -> dict[str, Any]:
    """The one NetworkPolicy selecting the engine's pods."""
    labels = pod_labels(rendered.engine)
    [policy] = [
        p for p in rendered.of_kind("NetworkPolicy") if selects(p["spec"]["podSelector"], labels)
    ]
    return policy


def config_value(rendered: Rendered, container: dict[str, Any], variable: str) -> str:
    """A variable's value, read through the ConfigMap when it comes from one."""
    entry = env_of(container)[variable]
    if "value" in entry:
        return str(entry["value"])
    ref = entry["valueFrom"]["configMapKeyRef"]
    return str(rendered.one("ConfigMap", ref["name"])["data"][ref["key"]])


# --- Valid objects -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_every_object_of_every_layout_validates_strictly_against_the_kubernetes_schema(
    rendered: Render, version: str
) -> None:
    # Each distinct object once: the layouts share most of theirs, and validation is slow.
    distinct = {
        json.dumps(obj, sort_keys=True): (name, obj)
        for name in LAYOUTS
        for obj in rendered(name).objects
        # prometheus-operator's resources have no schema here; checked by the next test.
        if not is_custom_resource(obj)
    }
    failures = []
    for name, obj in distinct.values():
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            failures.append(f"{name}: {obj['kind']}/{obj['metadata']['name']}: {error.message}")

    assert not failures


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_only_objects_without_a_schema_are_operator_resources_with_their_fields(
    rendered: Render, name: str
) -> None:
    for obj in filter(is_custom_resource, rendered(name).objects):
        required = CUSTOM_RESOURCES.get((obj["apiVersion"], obj["kind"]))

        assert required is not None, f"unchecked custom resource {obj['kind']}"
        assert obj["metadata"]["name"]
        assert obj["metadata"]["namespace"]
        assert set(required) <= obj["spec"].keys(), obj["kind"]


def test_the_alert_rules_are_installed_with_the_engine(rendered: Render) -> None:
    rules = rendered("external-prefect").of_kind("PrometheusRule")

    assert rules
    for group in (g for rule in rules for g in rule["spec"]["groups"]):
        assert group["name"]
        assert all("expr" in r and ("alert" in r or "record" in r) for r in group["rules"])


def test_prometheus_scrapes_the_engines_metrics_port(rendered: Render) -> None:
    installed = rendered("external-prefect")
    [monitor] = installed.of_kind("ServiceMonitor")
    service = installed.one("Service", "service-runbooks")

    assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    assert service["metadata"]["namespace"] in monitor["spec"]["namespaceSelector"]["matchNames"]
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"


# --- Available ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HIGHLY_AVAILABLE)
def test_two_engine_replicas_roll_one_at_a_time_without_losing_one(
    rendered: Render, name: str
) -> None:
    spec = rendered(name).engine["spec"]

    assert spec["replicas"] == 2
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }


@pytest.mark.parametrize("name", INSTALLABLE)
def test_no_server_is_restarted_before_it_had_100_seconds_to_start(
    rendered: Render, name: str
) -> None:
    # The HTTP servers (engine, Prefect); PostgreSQL's liveness waits its own initial delay.
    for deployment in rendered(name).of_kind("Deployment"):
        container = only_container(deployment)

        assert startup_budget(container["startupProbe"]) >= STARTUP_SECONDS
        assert container["startupProbe"]["httpGet"] == container["livenessProbe"]["httpGet"]


@pytest.mark.parametrize(
    ("probe", "path"),
    [("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")],
)
def test_the_engine_is_probed_on_its_http_port(rendered: Render, probe: str, path: str) -> None:
    container = only_container(rendered("external-prefect").engine)
    http_get = container[probe]["httpGet"]

    assert http_get["path"] == path
    assert http_get["port"] in {port["name"] for port in container["ports"]}


@pytest.mark.parametrize("name", HIGHLY_AVAILABLE)
def test_the_disruption_budget_keeps_an_engine_pod_through_drains(
    rendered: Render, name: str
) -> None:
    installed = rendered(name)
    [budget] = installed.of_kind("PodDisruptionBudget")

    assert budget["spec"]["minAvailable"] == 1
    assert selects(budget["spec"]["selector"], pod_labels(installed.engine))
    others = [w for w in installed.workloads() if w is not installed.engine]
    assert not [w for w in others if selects(budget["spec"]["selector"], pod_labels(w))]


def test_the_engine_resources_fit_its_measured_327_mb(rendered: Render) -> None:
    resources = only_container(rendered("external-prefect").engine)["resources"]

    assert resources["limits"]["memory"] == "512Mi"
    assert set(resources["requests"]) == {"cpu", "memory"}


# --- State -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", INSTALLABLE)
def test_the_state_directory_is_a_claim_every_replica_can_mount_never_an_empty_dir(
    rendered: Render, name: str
) -> None:
    installed = rendered(name)
    engine = installed.engine
    state_dir = config_value(installed, only_container(engine), "RUNBOOKS_STATE_DIR")

    volume = mounted_volume(engine, state_dir)

    assert volume is not None
    assert "emptyDir" not in volume
    claim = installed.one("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    if engine["spec"]["replicas"] > 1:
        assert "ReadWriteMany" in claim["spec"]["accessModes"]


@pytest.mark.parametrize("variable", ["RUNBOOKS_STATE_DIR", "PREFECT_HOME", "HOME", "TMPDIR"])
def test_every_path_the_engine_writes_is_a_volume_under_its_read_only_root(
    rendered: Render, variable: str
) -> None:
    installed = rendered("external-prefect")
    path = config_value(installed, only_container(installed.engine), variable)

    assert mounted_volume(installed.engine, path) is not None


@pytest.mark.parametrize("name", INSTALLABLE)
def test_every_overlay_names_a_shared_prefect_so_no_replica_starts_its_own(
    rendered: Render, name: str
) -> None:
    installed = rendered(name)
    url = urlsplit(config_value(installed, only_container(installed.engine), "PREFECT_API_URL"))

    assert url.scheme in {"http", "https"}
    assert url.hostname
    assert url.path == "/api"


def test_with_prefect_the_engine_uses_the_prefect_server_beside_it(rendered: Render) -> None:
    installed = rendered("with-prefect")
    url = urlsplit(config_value(installed, only_container(installed.engine), "PREFECT_API_URL"))
    assert url.hostname is not None
    service_name, namespace, _ = url.hostname.split(".", 2)

    service = installed.one("Service", service_name)
    server = installed.one("Deployment", "prefect-server")
    assert service["metadata"]["namespace"] == namespace
    assert selects({"matchLabels": service["spec"]["selector"]}, pod_labels(server))
    [port] = [p for p in service["spec"]["ports"] if p["port"] == url.port]
    [container_port] = [
        p for p in only_container(server)["ports"] if p["name"] == port["targetPort"]
    ]
    assert (container_port["containerPort"], "TCP") in egress_ports(engine_policy(installed))


def test_external_prefect_uses_the_service_the_helm_values_name(rendered: Render) -> None:
    installed = rendered("external-prefect")
    values = yaml.safe_load((DEPLOY / "prefect" / "helm-values.yaml").read_text())
    expected = (
        f"http://{values['fullnameOverride']}.{HELM_NAMESPACE}.svc:{values['service']['port']}/api"
    )

    assert config_value(installed, only_container(installed.engine), "PREFECT_API_URL") == expected


def test_the_prefect_server_is_the_version_the_engine_is_locked_to(rendered: Render) -> None:
    server = only_container(rendered("with-prefect").one("Deployment", "prefect-server"))

    assert server["image"] == f"prefecthq/prefect:{locked_version('prefect')}-python3.11"


def test_the_database_password_reaches_prefect_only_through_the_secret(rendered: Render) -> None:
    installed = rendered("with-prefect")
    server = env_of(only_container(installed.one("Deployment", "prefect-server")))
    database = env_of(only_container(installed.one("StatefulSet", "prefect-postgres")))

    assert server["POSTGRES_PASSWORD"]["valueFrom"] == database["POSTGRES_PASSWORD"]["valueFrom"]
    url = urlsplit(server["PREFECT_API_DATABASE_CONNECTION_URL"]["value"])
    assert url.scheme == "postgresql+asyncpg"
    assert url.password == "$(POSTGRES_PASSWORD)"
    assert url.hostname is not None
    assert installed.one("Service", url.hostname)["spec"]["ports"][0]["port"] == url.port


def test_postgres_keeps_its_data_on_a_10_gi_claim(rendered: Render) -> None:
    database = rendered("with-prefect").one("StatefulSet", "prefect-postgres")
    [claim] = database["spec"]["volumeClaimTemplates"]
    container = only_container(database)

    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert container["image"] == "postgres:16"
    assert container["readinessProbe"]["exec"]["command"][0] == "pg_isready"
    data_mount = mount_at(database, env_of(container)["PGDATA"]["value"])
    assert data_mount is not None
    assert data_mount["name"] == claim["metadata"]["name"]


# --- Wired -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", INSTALLABLE)
def test_every_secret_and_config_map_a_pod_needs_is_installed_with_it(
    rendered: Render, name: str
) -> None:
    installed = rendered(name)
    missing = []
    for workload in installed.workloads():
        for kind, ref_name, key, optional in references(workload):
            obj = installed.find(kind, ref_name)
            data = {**(obj or {}).get("data", {}), **(obj or {}).get("stringData", {})}
            if not optional and (obj is None or (key is not None and key not in data)):
                missing.append(f"{workload['metadata']['name']}: {kind} {ref_name} {key or ''}")

    assert not missing


def test_only_the_slack_and_prefect_auth_secrets_are_optional(rendered: Render) -> None:
    optional = {
        name
        for workload in rendered("with-prefect").workloads()
        for _, name, _, is_optional in references(workload)
        if is_optional
    }

    assert optional == {"service-runbooks-slack", "service-runbooks-prefect-auth"}


@pytest.mark.parametrize("name", INSTALLABLE)
def test_the_webhook_token_comes_from_the_operators_file(rendered: Render, name: str) -> None:
    secret = rendered(name).generated("Secret", "service-runbooks-webhook")
    example = (DEPLOY / "base" / "secrets" / "webhook-token.example").read_bytes()

    assert base64.b64decode(secret["data"]["token"]) == example


@pytest.mark.parametrize("name", INSTALLABLE)
def test_the_engine_image_is_the_released_version_not_an_example(
    rendered: Render, name: str
) -> None:
    image = only_container(rendered(name).engine)["image"]
    repository, _, tag = image.rpartition(":")

    assert not repository.startswith("ghcr.io/example/")
    assert tag == project_version()


def test_the_engine_keeps_the_images_init_as_pid_1(rendered: Render) -> None:
    container = only_container(rendered("external-prefect").engine)

    assert "command" not in container
    assert container["args"] == ["up"]


# --- Confined ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", INSTALLABLE)
def test_every_pod_meets_the_restricted_pod_security_standard(rendered: Render, name: str) -> None:
    installed = rendered(name)
    [namespace] = installed.of_kind("Namespace")

    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert not [v for w in installed.workloads() for v in restricted_violations(w)]


@pytest.mark.parametrize("name", INSTALLABLE)
def test_a_network_policy_guards_the_engine_both_ways(rendered: Render, name: str) -> None:
    policy = engine_policy(rendered(name))

    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}


def test_the_engine_may_reach_dns_the_api_server_prefect_alertmanager_and_slack(
    rendered: Render,
) -> None:
    allowed = egress_ports(engine_policy(rendered("external-prefect")))

    assert {(53, "UDP"), (53, "TCP"), (443, "TCP"), (6443, "TCP"), (4200, "TCP")} <= allowed
    assert (9093, "TCP") in allowed


def test_only_alertmanager_prometheus_and_the_ingress_controller_reach_the_engine(
    rendered: Render,
) -> None:
    [rule] = engine_policy(rendered("external-prefect"))["spec"]["ingress"]
    peers = [
        (
            peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name"),
        )
        for peer in rule["from"]
    ]

    assert peers == [
        ("monitoring", "alertmanager"),
        ("monitoring", "prometheus"),
        ("ingress-nginx", None),
    ]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]


@pytest.mark.parametrize("name", NAMESPACED)
def test_namespaced_remediation_leaves_no_cluster_wide_remediation_grant(
    rendered: Render, name: str
) -> None:
    installed = rendered(name)
    granted = {b["roleRef"]["name"] for b in installed.of_kind("ClusterRoleBinding")}

    assert REMEDIATE not in granted
    assert "service-runbooks-read" in granted
    assert installed.find("ClusterRole", REMEDIATE) is not None


@pytest.mark.parametrize(
    ("verb", "resource", "namespace", "allowed"),
    [
        ("delete", "pods", "shop", True),
        ("patch", "services", "shop", True),
        ("create", "services", "shop", True),
        ("delete", "pods", "kube-system", True),
        ("delete", "pods", "payments", False),
        ("patch", "services", "payments", False),
        ("create", "services", "payments", False),
        ("list", "pods", "payments", True),
        ("list", "services", None, True),
        ("watch", "endpointslices", None, True),
    ],
)
def test_namespaced_remediation_changes_only_listed_namespaces_and_still_reads_everywhere(
    rendered: Render, verb: str, resource: str, namespace: str | None, allowed: bool
) -> None:
    policy = RbacPolicy.from_objects(rendered("base+namespaced-remediation").objects)
    group = "discovery.k8s.io" if resource == "endpointslices" else ""

    assert policy.authorize(engine_asks(verb, group, resource, namespace)).allowed is allowed


def test_namespaced_remediation_keeps_the_kube_proxy_role_in_kube_system(
    rendered: Render,
) -> None:
    policy = RbacPolicy.from_objects(rendered("base+namespaced-remediation").objects)

    assert policy.authorize(
        engine_asks("patch", "apps", "daemonsets", "kube-system", name="kube-proxy")
    ).allowed


def test_single_replica_recreates_one_pod_on_a_read_write_once_claim_and_drops_the_budget(
    rendered: Render,
) -> None:
    installed = rendered("external-prefect+single-replica")

    assert installed.engine["spec"]["replicas"] == 1
    assert installed.engine["spec"]["strategy"] == {"type": "Recreate"}
    claim = installed.one("PersistentVolumeClaim", "service-runbooks-state")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert not installed.of_kind("PodDisruptionBudget")


# --- Reached from outside ----------------------------------------------------------------------


def ingress_paths(ingress: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(host, path, pathType, Service) of every path an Ingress routes."""
    return [
        (rule["host"], path["path"], path["pathType"], path["backend"]["service"]["name"])
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]


def test_the_slack_ingress_exposes_only_the_interactions_path_over_tls(rendered: Render) -> None:
    installed = rendered("with-prefect+ingress")
    ingress = installed.one("Ingress", "service-runbooks-slack")
    [(host, path, path_type, service)] = ingress_paths(ingress)

    assert (path, path_type, service) == ("/slack/interactions", "Exact", "service-runbooks")
    assert [host] == ingress["spec"]["tls"][0]["hosts"]
    assert "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]


def test_the_slack_app_calls_the_url_the_ingress_exposes(rendered: Render) -> None:
    ingress = rendered("with-prefect+ingress").one("Ingress", "service-runbooks-slack")
    [(host, path, _, _)] = ingress_paths(ingress)
    app = yaml.safe_load((DEPLOY / "slack" / "manifest.yaml").read_text())

    assert app["settings"]["interactivity"]["request_url"] == f"https://{host}{path}"


def test_the_prefect_ui_is_behind_single_sign_on_and_tls(rendered: Render) -> None:
    installed = rendered("with-prefect+ingress")
    ingress = installed.one("Ingress", "prefect-ui")
    [(host, path, _, service)] = ingress_paths(ingress)
    annotations = ingress["metadata"]["annotations"]
    server = only_container(installed.one("Deployment", "prefect-server"))

    assert (path, service) == ("/", "prefect-server")
    assert {"nginx.ingress.kubernetes.io/auth-url", "nginx.ingress.kubernetes.io/auth-signin"} <= (
        annotations.keys()
    )
    assert [host] == ingress["spec"]["tls"][0]["hosts"]
    assert config_value(installed, server, "PREFECT_UI_API_URL") == f"https://{host}/api"
