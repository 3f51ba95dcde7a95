"""The `Kube` facade: typed reads and writes that flows use, over an injected ApiClient."""

from __future__ import annotations

from integrations.kubernetes.operations.access import AccessOperations
from integrations.kubernetes.operations.networking import NetworkingOperations
from integrations.kubernetes.operations.pods import PodOperations
from integrations.kubernetes.operations.workloads import WorkloadOperations


class Kube(AccessOperations, NetworkingOperations, PodOperations, WorkloadOperations):
    """Typed access to one cluster, built around an injected `kubernetes.client.ApiClient`.

    Every call has a timeout, retries transient failures under one `RetryPolicy`, parses the
    JSON body straight into frozen views (no client models) and raises only `KubeError`s.
    Build one with `connect`, or inject a configured ApiClient::

        with Kube(ApiClient(configuration), request_timeout_seconds=5) as kube:
            pods = kube.list_pods("kube-system", label_selector={"k8s-app": "kube-proxy"})

    Args:
        api_client: The configured official client; the facade owns and closes it.
        request_timeout_seconds: Timeout of every HTTP request.
        exec_timeout_seconds: How long a command run in a pod may take.
        retry_policy: Retry policy for transient failures.
        source: Where the configuration came from, for the CLI to announce.
        sleep: How to wait between retries (tests pass a recorder).
    """
