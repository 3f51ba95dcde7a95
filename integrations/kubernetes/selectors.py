"""Building label and field selector strings (pure)."""

from __future__ import annotations

from collections.abc import Mapping

LabelSelector = str | Mapping[str, str] | None
"""A label selector as text (``k8s-app=kube-proxy``) or as equality pairs (a Service's selector)."""


def label_selector_text(selector: LabelSelector) -> str | None:
    """The selector as the API's ``labelSelector`` query parameter; None selects everything."""
    if selector is None or isinstance(selector, str):
        return selector or None
    return ",".join(f"{key}={value}" for key, value in sorted(selector.items())) or None


def involved_object_selector(*, kind: str, name: str, uid: str | None = None) -> str:
    """The Event ``fieldSelector`` for events about one object."""
    terms = [f"involvedObject.kind={kind}", f"involvedObject.name={name}"]
    if uid:
        terms.append(f"involvedObject.uid={uid}")
    return ",".join(terms)
