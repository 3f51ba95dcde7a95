"""Typed connection settings: where the cluster is, how to authenticate, how hard to retry."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from integrations.kubernetes.retry import RetryPolicy


class KubeConnection(BaseModel):
    """How to reach the Kubernetes API; nest it in the engine's settings.

    With nothing set, `connect` uses the in-cluster service account, else the default
    kubeconfig. Setting `kubeconfig`, `context` or `url` chooses that source explicitly.

    Attributes:
        kubeconfig: Path of a kubeconfig file.
        context: Context within the kubeconfig (default: its current context).
        url: API server URL, used when no kubeconfig is given or found.
        token: Bearer token for `url`.
        ca_cert: CA bundle to verify `url`'s TLS certificate.
        insecure_skip_tls_verify: Skip TLS verification for `url` (test clusters only).
        request_timeout_seconds: Timeout of every HTTP request.
        exec_timeout_seconds: How long a command run in a pod may take.
        retry: Retry policy for transient failures.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kubeconfig: Path | None = None
    context: str | None = None
    url: str | None = None
    token: SecretStr | None = None
    ca_cert: Path | None = None
    insecure_skip_tls_verify: bool = False
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    exec_timeout_seconds: float = Field(default=60.0, gt=0)
    retry: RetryPolicy = RetryPolicy()

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value.rstrip("/") if value else value
