"""The runtime a flow run acts through: given per run, or built from RUNBOOKS_* settings."""

from __future__ import annotations

import threading
from contextvars import copy_context

import pytest
from pydantic import ValidationError

from flows.approval.notifier import LogNotifier
from flows.approval.slack import SlackNotifier
from flows.runtime import FlowRuntime, current_runtime, runtime_from_settings, use_runtime
from flows.settings import FlowSettings
from integrations.kubernetes import Kube

SLACK = {
    "RUNBOOKS_SLACK_BOT_TOKEN": "xoxb-test",
    "RUNBOOKS_SLACK_SIGNING_SECRET": "secret",
    "RUNBOOKS_SLACK_CHANNEL": "C0123ABC",
}


@pytest.fixture
def no_runbooks_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SLACK:
        monkeypatch.delenv(name, raising=False)


def a_runtime() -> FlowRuntime:
    def no_cluster() -> Kube:
        raise AssertionError("this test opens no cluster")

    return FlowRuntime(kube_factory=no_cluster)


@pytest.mark.usefixtures("no_runbooks_environment")
def test_with_every_slack_setting_approvals_are_posted_to_slack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SLACK.items():
        monkeypatch.setenv(name, value)

    runtime = runtime_from_settings(FlowSettings())

    assert isinstance(runtime.notifier, SlackNotifier)


@pytest.mark.usefixtures("no_runbooks_environment")
def test_without_slack_settings_approvals_are_only_logged() -> None:
    runtime = runtime_from_settings(FlowSettings())

    assert isinstance(runtime.notifier, LogNotifier)


@pytest.mark.usefixtures("no_runbooks_environment")
@pytest.mark.parametrize("missing", sorted(SLACK))
def test_a_partial_slack_configuration_is_refused_naming_what_to_set(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    for name, value in SLACK.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)

    with pytest.raises(ValidationError, match=f"set {missing} too"):
        FlowSettings()


def test_a_run_sees_the_runtime_it_was_given_and_nothing_after_the_block() -> None:
    given = a_runtime()

    with use_runtime(given):
        assert current_runtime() is given
    with use_runtime(a_runtime()) as other:
        assert current_runtime() is other


def test_two_runs_on_two_threads_never_see_each_others_runtime() -> None:
    runtimes = [a_runtime(), a_runtime()]
    both_inside = threading.Barrier(2)
    seen: dict[int, FlowRuntime] = {}

    def run(index: int) -> None:
        with use_runtime(runtimes[index]):
            both_inside.wait(timeout=10)
            seen[index] = current_runtime()

    threads = [threading.Thread(target=copy_context().run, args=(run, i)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert seen == {0: runtimes[0], 1: runtimes[1]}
