"""Changing kube-proxy's pod template, only while it still has the one the plan started from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows.approval import StepStatus
from flows.rollback.observe import DAEMON_SET, NAMESPACE
from flows.rollback.plan import current_template, rollback_patch
from flows.run_guard import ensure_run_active
from integrations.kubernetes import Kube, StrategicMergePatch


@dataclass(frozen=True, slots=True)
class Change:
    """How a template change went: done, skipped (already so), or superseded (changed by others)."""

    status: StepStatus
    detail: str
    superseded: bool = False


APPLIED_BY = "service-runbooks.io/template-set-by"
"""The DaemonSet annotation naming the run step that last set its template (``<run id>/<step>``):
a run re-run after it was interrupted between its patch and its record tells its own change from
someone else's."""


def apply_template(
    kube: Kube,
    template: Mapping[str, Any],
    *,
    expected: Mapping[str, Any],
    label: str,
    applied_by: str,
) -> Change:
    """Make ``template`` the DaemonSet's pod template, if it still has the ``expected`` one.

    Args:
        kube: The cluster.
        template: The template to apply.
        expected: The template the DaemonSet must have now; anything else means someone else
            changed it since the plan, and nothing is done.
        label: The template in words, for the record (e.g. ``revision 3``).
        applied_by: This run's step (``<run id>/<step>``), written on the DaemonSet with the
            template.
    """
    daemon_set = kube.get_daemon_set(DAEMON_SET, NAMESPACE)
    now = current_template(daemon_set)
    if now == template:
        if daemon_set.meta.annotations.get(APPLIED_BY) == applied_by:
            # Set by this very step before its run was interrupted (its engine killed between
            # the patch and the record): the change is this run's, and so is its watch.
            return Change(
                StepStatus.DONE,
                f"spec.template set to {label} (by this run, before it was interrupted)",
            )
        return Change(StepStatus.SKIPPED, f"the DaemonSet already has the template of {label}")
    if now != expected:
        return Change(
            StepStatus.SKIPPED,
            "the DaemonSet's template changed since the plan (another rollout or rollback?); "
            "nothing applied",
            superseded=True,
        )
    ensure_run_active()
    patch = {**rollback_patch(template), "metadata": {"annotations": {APPLIED_BY: applied_by}}}
    patched = kube.patch_daemon_set(DAEMON_SET, NAMESPACE, StrategicMergePatch(patch))
    return Change(
        StepStatus.DONE, f"spec.template set to {label} (generation {patched.meta.generation})"
    )
