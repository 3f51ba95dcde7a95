"""Kubernetes adapter: the only module that imports the official kubernetes client.

Flows use `connect` (or inject an ApiClient into `Kube`), the frozen views, and catch the
`KubeError` family; nothing of the official client leaks out.
"""

from integrations.kubernetes.bodies import JsonPatch, JsonPatchOperation, Patch, StrategicMergePatch
from integrations.kubernetes.connection import connect, load_configuration
from integrations.kubernetes.errors import (
    AlreadyExists,
    ConfigurationError,
    Conflict,
    Forbidden,
    Invalid,
    KubeError,
    NotFound,
    PermanentKubeError,
    RbacRule,
    TransientKubeError,
    Unauthorized,
)
from integrations.kubernetes.kube import Kube
from integrations.kubernetes.pod_exec import ExecResult
from integrations.kubernetes.retry import RetryPolicy
from integrations.kubernetes.selectors import LabelSelector
from integrations.kubernetes.settings import KubeConnection
from integrations.kubernetes.source import ConnectionSource, SourceKind

__all__ = [
    "AlreadyExists",
    "ConfigurationError",
    "Conflict",
    "ConnectionSource",
    "ExecResult",
    "Forbidden",
    "Invalid",
    "JsonPatch",
    "JsonPatchOperation",
    "Kube",
    "KubeConnection",
    "KubeError",
    "LabelSelector",
    "NotFound",
    "Patch",
    "PermanentKubeError",
    "RbacRule",
    "RetryPolicy",
    "SourceKind",
    "StrategicMergePatch",
    "TransientKubeError",
    "Unauthorized",
    "connect",
    "load_configuration",
]
