"""Kubeconfig files pointing the official client and kubectl at the simulated cluster."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

CONTEXT_NAME = "simcluster"


def kubeconfig_document(
    server_url: str, *, token: str, user_name: str, ca_pem: bytes | None = None
) -> dict[str, Any]:
    """Build a kubeconfig with one cluster, one token user and the ``simcluster`` context.

    Args:
        server_url: The API server's URL, e.g. ``https://127.0.0.1:43117``.
        token: The bearer token the user authenticates with.
        user_name: The kubeconfig user entry's name.
        ca_pem: The CA that signed an HTTPS server's certificate (None for plain HTTP, which
            kubectl does not send credentials over).
    """
    cluster: dict[str, str] = {"server": server_url}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": CONTEXT_NAME, "cluster": cluster}],
        "users": [{"name": user_name, "user": {"token": token}}],
        "contexts": [
            {
                "name": CONTEXT_NAME,
                "context": {"cluster": CONTEXT_NAME, "user": user_name, "namespace": "default"},
            }
        ],
        "current-context": CONTEXT_NAME,
    }


def write_kubeconfig(
    path: Path | str,
    server_url: str,
    *,
    token: str,
    user_name: str,
    ca_pem: bytes | None = None,
) -> Path:
    """Write a kubeconfig (see `kubeconfig_document`) readable only by its owner.

    Returns:
        The path written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = kubeconfig_document(server_url, token=token, user_name=user_name, ca_pem=ca_pem)
    target.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    target.chmod(0o600)
    return target
