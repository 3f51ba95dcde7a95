"""What the flows need the Kubernetes API to allow: one row per call, with the step that makes it.

`runbooks doctor` asks the API server about each row (SelfSubjectAccessReview) before an
incident does; the tests prove that ``deploy/rbac`` grants every row to the engine's
ServiceAccount and nothing the flows never use.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.kubernetes import RbacRule

KUBE_SYSTEM = "kube-system"


@dataclass(frozen=True, slots=True)
class AccessNeed:
    """One permission a flow step needs.

    Attributes:
        rule: The verb on the resource; a None namespace means in every namespace.
        name: The one object it is needed on (``resourceNames``), if only one.
        needed_by: The flow steps that make the call, for the operator reading the table.
    """

    rule: RbacRule
    needed_by: str
    name: str | None = None


def _need(
    verb: str,
    resource: str,
    *,
    needed_by: str,
    group: str = "",
    subresource: str | None = None,
    namespace: str | None = None,
    name: str | None = None,
) -> AccessNeed:
    rule = RbacRule(
        verb=verb, resource=resource, subresource=subresource, api_group=group, namespace=namespace
    )
    return AccessNeed(rule=rule, needed_by=needed_by, name=name)


REQUIRED_ACCESS: tuple[AccessNeed, ...] = (
    _need("get", "services", needed_by="checklist: read the broken Service"),
    _need("list", "services", needed_by="checklist scope, health check, service report"),
    _need("get", "endpoints", needed_by="checklist: the Service's endpoints"),
    _need("list", "endpoints", needed_by="health check, config backup"),
    _need("list", "endpointslices", group="discovery.k8s.io", needed_by="checklist: readiness"),
    _need("get", "pods", needed_by="checklist: wait for a restarted pod"),
    _need("list", "pods", needed_by="checklist: pods behind a Service, kube-proxy pods"),
    _need("get", "pods", subresource="log", needed_by="checklist: kube-proxy and app pod logs"),
    _need("list", "events", needed_by="checklist: why a pod restarts"),
    _need("get", "nodes", needed_by="checklist: the node of a kube-proxy pod"),
    _need("list", "nodes", needed_by="checklist scope: restart budget per node"),
    _need("get", "deployments", group="apps", needed_by="checklist: the workload behind pods"),
    _need("list", "deployments", group="apps", needed_by="checklist: workloads a selector hits"),
    _need("list", "replicasets", group="apps", needed_by="checklist: workloads a selector hits"),
    _need("list", "statefulsets", group="apps", needed_by="checklist: workloads a selector hits"),
    _need("get", "daemonsets", group="apps", needed_by="rollback, checklist: kube-proxy"),
    _need("list", "daemonsets", group="apps", needed_by="checklist: kube-proxy rollout"),
    _need("delete", "pods", needed_by="checklist: restart kube-proxy and app pods"),
    _need("create", "services", needed_by="checklist: emergency NodePort Service"),
    _need("patch", "services", needed_by="checklist: approved selector/targetPort fix"),
    _need("delete", "services", needed_by="checklist: remove the emergency NodePort"),
    _need(
        "patch",
        "daemonsets",
        group="apps",
        namespace=KUBE_SYSTEM,
        name="kube-proxy",
        needed_by="rollback: apply the previous revision",
    ),
    _need(
        "list",
        "controllerrevisions",
        group="apps",
        namespace=KUBE_SYSTEM,
        needed_by="rollback: find the previous revision",
    ),
    _need(
        "get",
        "configmaps",
        namespace=KUBE_SYSTEM,
        name="kube-proxy",
        needed_by="rollback: back up kube-proxy's configuration",
    ),
    _need(
        "create",
        "pods",
        subresource="exec",
        namespace=KUBE_SYSTEM,
        needed_by="conntrack cleanup: conntrack in kube-proxy pods",
    ),
    # Clusters up to 1.30 authorise a WebSocket exec (the Python client's) as get, not create.
    _need(
        "get",
        "pods",
        subresource="exec",
        namespace=KUBE_SYSTEM,
        needed_by="conntrack cleanup, on clusters up to 1.30",
    ),
)
