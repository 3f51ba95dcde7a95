"""`runbooks drill`'s pure parts: rule scaling, timeline, durations, verdict and judgement."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.commands.drill import AlertWatch, engine_log_facts, firing_no_later_than
from engine.commands.drill_timeline import (
    AlertFacts,
    DrillFacts,
    RuleTiming,
    RunFacts,
    Step,
    approval_steps,
    durations,
    judge,
    render,
    timeline,
    verdict,
)
from engine.commands.stack import (
    SHIPPED_ALERTMANAGER,
    SHIPPED_RULES,
    alertmanager_config,
    prometheus_duration,
    scaled_rules,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NODE_DOWN = RuleTiming("KubeProxyNodeDown", shipped_for=60, drill_for=6)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def alert(
    pending: float | None = 1,
    firing: float | None = 7,
    resolved: float | None = 15,
    *,
    name: str = "KubeProxyNodeDown",
    fingerprint: str = "fp-node-2",
) -> AlertFacts:
    return AlertFacts(
        fingerprint,
        name,
        "node=node-2",
        pending_at=None if pending is None else at(pending),
        firing_at=None if firing is None else at(firing),
        resolved_at=None if resolved is None else at(resolved),
    )


def run(
    actions: tuple[float, ...] = (13,),
    final: str | None = "COMPLETED",
    outcome: str = "Recovered: verified",
    *,
    by_drill: bool = False,
) -> RunFacts:
    return RunFacts(
        label="kube-proxy-node-down (brave-otter)",
        created_at=at(9),
        steps=tuple(Step(at(a), "action done: perform restart") for a in actions),
        actions_done=tuple(at(a) for a in actions),
        final_type=final,
        outcome=outcome,
        started_by_drill=by_drill,
    )


def facts(
    alerts: tuple[AlertFacts, ...] = (alert(),),
    runs: tuple[RunFacts, ...] = (run(),),
    *,
    webhooks: dict[str, datetime] | None = None,
    follow_up: bool = False,
    reasons: tuple[str, ...] = (),
) -> DrillFacts:
    return DrillFacts(
        scenario="kube-proxy-down",
        description="kube-proxy wedged",
        fault='kube-proxy-down {"nodes": ["node-2"]}',
        fault_at=T0,
        alerts=alerts,
        webhooks={"fp-node-2": at(8)} if webhooks is None else webhooks,
        runs=runs,
        no_run_reasons=reasons,
        waited_seconds=120,
        follow_up_expected=follow_up,
    )


# -- rule scaling --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"), [(6, "6s"), (3, "3s"), (1.5, "1500ms"), (0.0001, "1ms"), (18.0, "18s")]
)
def test_seconds_are_written_as_a_duration_prometheus_reads(seconds: float, text: str) -> None:
    assert prometheus_duration(seconds) == text


RULES: dict[str, Any] = {
    "groups": [
        {
            "name": "services",
            "interval": "30s",
            "rules": [
                {"record": "some:series", "expr": "up"},
                {"alert": "ServiceDown", "expr": "x", "for": "1m"},
                {"alert": "KubeProxyRulesStale", "expr": "y", "for": "30s"},
                {"alert": "Instant", "expr": "z"},
            ],
        }
    ]
}


@pytest.mark.parametrize(
    ("scale", "expected_for"),
    [
        (0.1, {"ServiceDown": "6s", "KubeProxyRulesStale": "3s"}),
        (0.05, {"ServiceDown": "3s", "KubeProxyRulesStale": "1500ms"}),
        (1, {"ServiceDown": "60s", "KubeProxyRulesStale": "30s"}),
    ],
)
def test_scaling_shortens_every_for_and_evaluates_every_group_each_interval(
    scale: float, expected_for: dict[str, str]
) -> None:
    scaled, timings = scaled_rules(RULES, scale=scale, interval="1s")

    [group] = scaled["groups"]
    assert group["interval"] == "1s"
    fors = {r["alert"]: r.get("for") for r in group["rules"] if "alert" in r}
    assert {k: v for k, v in fors.items() if v} == expected_for
    assert timings["ServiceDown"] == RuleTiming("ServiceDown", 60, 60 * scale)
    assert timings["Instant"] == RuleTiming("Instant", 0, 0)
    assert group["rules"][0] == {"record": "some:series", "expr": "up"}
    assert RULES["groups"][0]["interval"] == "30s", "the shipped document is left as it was"


def test_the_shipped_rule_file_scales_with_every_alert_timed() -> None:
    shipped = yaml.safe_load(SHIPPED_RULES.read_text())

    scaled, timings = scaled_rules(shipped, scale=0.1, interval="1s")

    assert timings["ServiceDown"] == RuleTiming("ServiceDown", 60, 6)
    assert timings["KubeProxyNodeDown"] == RuleTiming("KubeProxyNodeDown", 60, 6)
    assert {g["interval"] for g in scaled["groups"]} == {"1s"}


def test_a_scale_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        scaled_rules(RULES, scale=0, interval="1s")


def test_alertmanager_keeps_the_shipped_route_but_waits_briefly_and_posts_to_the_drill_engine(
    tmp_path: Path,
) -> None:
    shipped = yaml.safe_load(SHIPPED_ALERTMANAGER.read_text())

    config = alertmanager_config(
        shipped,
        webhook_url="http://127.0.0.1:9999/alertmanager",
        token_file=tmp_path / "token",
        group_wait="1s",
    )

    [route] = config["route"]["routes"]
    assert route["matchers"] == shipped["route"]["routes"][0]["matchers"]
    assert (route["group_wait"], route["group_interval"]) == ("1s", "1s")
    [webhook] = next(r for r in config["receivers"] if r["name"] == "service-runbooks")[
        "webhook_configs"
    ]
    assert webhook["url"] == "http://127.0.0.1:9999/alertmanager"
    assert webhook["http_config"]["authorization"]["credentials_file"] == str(tmp_path / "token")
    assert webhook["send_resolved"] is True
    assert shipped["route"]["routes"][0]["group_wait"] == "10s", "the shipped file is untouched"


# -- what the drill watches ----------------------------------------------------------------------


def prometheus_alert(state: str, node: str = "node-2") -> dict[str, Any]:
    return {
        "labels": {"alertname": "KubeProxyNodeDown", "node": node, "severity": "critical"},
        "state": state,
        "activeAt": "2026-03-01T12:00:01.000000000Z",
    }


def test_an_alert_is_pending_then_firing_then_resolved_once_prometheus_drops_it() -> None:
    watch = AlertWatch(lambda: [])

    watch.update([prometheus_alert("pending")], at(2))
    watch.update([prometheus_alert("firing")], at(7))
    watch.update([prometheus_alert("firing")], at(8))
    watch.update([], at(15))

    [seen] = watch.alerts()
    assert (seen.pending_at, seen.firing_at, seen.resolved_at) == (at(1), at(7), at(15))
    assert seen.subject == "node=node-2"
    assert watch.all_resolved()


def test_an_alert_that_was_only_pending_does_not_count_as_fired() -> None:
    watch = AlertWatch(lambda: [])

    watch.update([prometheus_alert("pending")], at(2))
    watch.update([], at(3))

    assert watch.fired() == []
    assert not watch.all_resolved()


@pytest.mark.parametrize(
    ("seen_firing", "webhook", "firing"),
    [(7, 8, 7), (7, 6.5, 6.5), (7, None, 7), (None, 6, None)],
    ids=["webhook after", "webhook before: the poll was late", "no webhook", "never fired"],
)
def test_an_alert_fired_no_later_than_alertmanager_posted_it(
    seen_firing: float | None, webhook: float | None, firing: float | None
) -> None:
    seen = alert(firing=seen_firing)

    adjusted = firing_no_later_than(seen, None if webhook is None else at(webhook))

    assert adjusted.firing_at == (None if firing is None else at(firing))


def test_the_engine_log_tells_when_each_alert_arrived_and_why_no_run_started(
    tmp_path: Path,
) -> None:
    log = tmp_path / "engine.log"
    lines = [
        "service-runbooks engine is up",
        {"time": at(-5).isoformat(), "message": "alert received", "status": "firing",
         "fingerprint": "old"},
        {"time": at(8).isoformat(), "message": "alert received", "status": "firing",
         "fingerprint": "fp"},
        {"time": at(9).isoformat(), "message": "alert received", "status": "firing",
         "fingerprint": "fp"},
        {"time": at(9).isoformat(), "message": "no run: target in cooldown", "fingerprint": "fp",
         "suppressed": "cooldown: kube-proxy-node-down:node-2 ran 30 s ago"},
    ]  # fmt: skip
    log.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines))

    webhooks, reasons = engine_log_facts(log, since=T0)

    assert webhooks == {"fp": at(8)}
    assert reasons == ["cooldown: kube-proxy-node-down:node-2 ran 30 s ago"]


# -- durations, verdict, judgement ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("drill", "expected"),
    [
        pytest.param(facts(), (7, 1, 6, 5, 2, 15), id="closed loop"),
        pytest.param(
            facts(alerts=(alert(resolved=25),), runs=(run(actions=(10, 20)), run(actions=(12,)))),
            (7, 1, 13, 12, 5, 25),
            id="last action of any run",
        ),
        pytest.param(
            facts(alerts=(alert(resolved=None),)), (7, 1, 6, 5, None, None), id="unresolved"
        ),
        pytest.param(facts(runs=()), (7, 1, None, None, None, 15), id="no action"),
        pytest.param(
            facts(alerts=(alert(firing=None, resolved=None),)),
            (None, None, None, None, None, None),
            id="never fired",
        ),
    ],
)
def test_the_loop_splits_into_detection_engine_and_cluster(
    drill: DrillFacts, expected: tuple[float | None, ...]
) -> None:
    spans = durations(drill)

    got = (
        spans.detection,
        spans.delivery,
        spans.engine,
        spans.engine_own,
        spans.cluster,
        spans.total,
    )
    assert got == expected


@pytest.mark.parametrize(
    ("drill", "timing", "shipped_total", "inside"),
    [
        pytest.param(facts(), NODE_DOWN, 15 - 6 + 60, True, id="scaled for replaced"),
        pytest.param(
            facts(alerts=(alert(resolved=250),)), NODE_DOWN, 250 - 6 + 60, False, id="over"
        ),
        pytest.param(facts(alerts=(alert(resolved=246),)), NODE_DOWN, 300, True, id="exactly five"),
        pytest.param(facts(alerts=(alert(resolved=None),)), NODE_DOWN, None, False, id="open"),
        pytest.param(facts(), None, 15, True, id="rule without timing"),
    ],
)
def test_the_verdict_puts_the_shipped_for_back_in_place_of_the_scaled_one(
    drill: DrillFacts, timing: RuleTiming | None, shipped_total: float | None, inside: bool
) -> None:
    timings = {} if timing is None else {timing.alertname: timing}

    outcome = verdict(drill, timings)

    assert outcome.shipped_total == shipped_total
    assert outcome.inside_five_minutes is inside


def test_only_the_first_alert_to_fire_has_its_for_on_the_loops_path() -> None:
    stale = alert(pending=2, firing=5, resolved=14, name="KubeProxyRulesStale", fingerprint="b")
    timings = {"KubeProxyRulesStale": RuleTiming("KubeProxyRulesStale", 30, 3), "x": NODE_DOWN}

    outcome = verdict(facts(alerts=(alert(), stale)), timings)

    assert outcome.substituted == timings["KubeProxyRulesStale"]
    assert outcome.shipped_total == 15 - 3 + 30


@pytest.mark.parametrize(
    ("drill", "passed", "says"),
    [
        pytest.param(facts(), True, "fired, the engine acted, and the alert resolved", id="ok"),
        pytest.param(
            facts(alerts=(alert(firing=None, resolved=None),), runs=()),
            False,
            "no alert fired within 120s (KubeProxyNodeDown only pending)",
            id="never fired",
        ),
        pytest.param(
            facts(runs=(), reasons=("cooldown: kube-proxy-node-down:node-2 ran 30 s ago",)),
            False,
            "the engine started no run for KubeProxyNodeDown node=node-2: cooldown",
            id="cooldown",
        ),
        pytest.param(
            facts(runs=(), webhooks={}),
            False,
            "no webhook of the alert reached it",
            id="no webhook",
        ),
        pytest.param(
            facts(alerts=(alert(resolved=None),), runs=(run(final="FAILED", outcome="Stuck"),)),
            False,
            "still firing 120s after the fault (last run kube-proxy-node-down (brave-otter): "
            "Stuck)",
            id="unresolved",
        ),
        pytest.param(
            facts(runs=(run(final="FAILED", outcome="NotRecovered: x"),)),
            False,
            "ended NotRecovered: x",
            id="failed run",
        ),
        pytest.param(
            facts(
                runs=(run(actions=(), final="FAILED"), run(by_drill=True)),
                follow_up=True,
            ),
            True,
            "the engine acted",
            id="checklist points at the rollback, which mends it",
        ),
        pytest.param(
            facts(
                runs=(run(actions=(), final="FAILED"), run(final="FAILED", by_drill=True)),
                follow_up=True,
            ),
            False,
            "ended",
            id="the rollback failed",
        ),
        pytest.param(
            facts(runs=(run(actions=()),)),
            False,
            "resolved, but no run took any action",
            id="resolved by itself",
        ),
    ],
)
def test_a_drill_passes_only_when_the_alert_fired_the_engine_acted_and_the_alert_resolved(
    drill: DrillFacts, passed: bool, says: str
) -> None:
    judgement = judge(drill)

    assert judgement.passed is passed
    assert says in judgement.reason


def test_the_timeline_is_in_time_order_from_the_fault_to_the_resolution() -> None:
    steps = timeline(facts())

    assert [s.what for s in steps] == [
        'fault injected: kube-proxy-down {"nodes": ["node-2"]}',
        "alert pending: KubeProxyNodeDown node=node-2",
        "alert firing: KubeProxyNodeDown node=node-2",
        "webhook received: KubeProxyNodeDown node=node-2",
        "run created: kube-proxy-node-down (brave-otter)",
        "kube-proxy-node-down (brave-otter): action done: perform restart",
        "alert resolved: KubeProxyNodeDown node=node-2",
    ]
    assert [s.at for s in steps] == sorted(s.at for s in steps)


def test_the_printout_says_the_detection_is_scaled_and_what_the_shipped_figure_would_be() -> None:
    lines, judgement = render(facts(), {"KubeProxyNodeDown": NODE_DOWN}, scale=0.1)
    text = "\n".join(lines)

    assert "detection time is scaled: rules' for: x 0.1: KubeProxyNodeDown for: 6s" in text
    assert "(shipped 60s)" in text
    assert "     +7.0s  alert firing: KubeProxyNodeDown node=node-2" in text
    assert "total        15.0s  with the shipped for: 69.0s: inside five minutes" in text
    assert lines[-1].startswith("  result: PASSED")
    assert judgement.passed


# -- reading the run's report --------------------------------------------------------------------

CHECKLIST_REPORT = """# Incident report: ServiceDown on shop/web

**Outcome: Recovered**: verified: 3 ready

## Approvals

| Steps | Decision | By | Channel | Requested | Decided | Waited | Reason |
|---|---|---|---|---|---|---|---|
| patch\\|x | approved | runbook policy | drill | 2026-03-01T12:00:09+00:00 | \
2026-03-01T12:00:09.500000+00:00 | 0s | drill |

## Timeline
| Phase | Started |
|---|---|
| scope | x |
"""

ROLLBACK_REPORT = """# kube-proxy rollback: kube-system/kube-proxy

**Outcome: RolledBack**

## Approval

| decision | by | channel | asked | answered | reason |
| --- | --- | --- | --- | --- | --- |
| approved | alice | ui | 2026-03-01 12:01:00 UTC | 2026-03-01 12:01:30 UTC | ok |
"""


@pytest.mark.parametrize(
    ("report", "steps"),
    [
        (
            CHECKLIST_REPORT,
            [
                Step(datetime(2026, 3, 1, 12, 0, 9, tzinfo=UTC), "approval requested"),
                Step(
                    datetime(2026, 3, 1, 12, 0, 9, 500000, tzinfo=UTC),
                    "approval answered: approved by runbook policy (drill)",
                ),
            ],
        ),
        (
            ROLLBACK_REPORT,
            [
                Step(datetime(2026, 3, 1, 12, 1, 0, tzinfo=UTC), "approval requested"),
                Step(
                    datetime(2026, 3, 1, 12, 1, 30, tzinfo=UTC),
                    "approval answered: approved by alice (ui)",
                ),
            ],
        ),
        ("# Report\n\n## Approvals\n\nNo approval was requested.\n\n## T\n|a|\n|-|\n|b|\n", []),
        ("# Report without approvals\n", []),
        ("## Approval\n\n| decision | asked |\n| - | - |\n| approved | yesterday |\n", []),
    ],
    ids=["checklist", "rollback", "none asked", "no section", "unknown time format"],
)
def test_the_report_says_when_approval_was_asked_and_who_answered_through_which_channel(
    report: str, steps: list[Step]
) -> None:
    assert approval_steps(report) == steps
