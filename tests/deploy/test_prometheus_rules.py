"""The shipped alert rules: promtool proves them, and every alert they fire starts its runbook.

The rules are deploy/prometheus/rules.yml; their promtool unit tests, with the handbook's false
positives, are tests/deploy/prometheus/*.yml. promtool comes with Debian's `prometheus` package.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from runbooks.durations import parse_duration
from runbooks.loader import load_catalog
from runbooks.matching import match_alert

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
RULES_FILE = PROMETHEUS_DIR / "rules.yml"
PROMETHEUS_RULE_FILE = PROMETHEUS_DIR / "prometheusrule.yaml"
GENERATOR = PROMETHEUS_DIR / "generate.py"
UNIT_TEST_FILES = sorted(Path(__file__).with_name("prometheus").glob("*.yml"))
README = REPO / "README.md"

RUNBOOK_BASE_URL = "https://github.com/ORG/service-runbooks/blob/main/README.md#"
"""The placeholder base the rule file documents as the one thing to change."""

SCRAPE_INTERVAL_SECONDS = 30
"""The scrape interval the rule file assumes."""

DETECTION_BUDGET_SECONDS = 120
"""How long after the fault a critical alert may fire: the checklist needs the other three
minutes of the five."""

PROMTOOL = shutil.which("promtool")
KUBECTL = shutil.which("kubectl")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed: apt-get install -y --no-install-recommends prometheus "
    "(then systemctl disable --now prometheus, which the package starts)",
)

ROUTES = {
    "ServiceDown": "service-down",
    "ClusterDNSDown": "cluster-dns-down",
    "KubeProxyDown": "kube-proxy-down",
    "KubeProxyNodeDown": "kube-proxy-node-down",
    "KubeProxyRulesStale": "kube-proxy-rules-stale",
    "KubeProxyNetworkProgrammingSlow": "kube-proxy-network-programming-latency",
    "ConntrackTableNearlyFull": "conntrack-table-nearly-full",
    "IPVSBackendDown": "ipvs-backend-down",
}
"""The runbook each shipped alert starts."""


@dataclass(frozen=True)
class AlertRule:
    """One alerting rule of the rule file, with the interval its group is evaluated at."""

    name: str
    body: dict[str, Any]
    group_interval_seconds: int

    @property
    def for_seconds(self) -> int:
        """How long the condition must hold before the alert fires."""
        return parse_duration(str(self.body.get("for", "0s")))

    @property
    def severity(self) -> str:
        """The severity label."""
        return str(self.body.get("labels", {}).get("severity", ""))


@dataclass(frozen=True)
class UnitTestCase:
    """One alert_rule_test of a promtool unit test file."""

    file: str
    test: str
    alertname: str
    expected: tuple[dict[str, str], ...]
    """The label sets of the alerts expected firing (the alert name included)."""

    @property
    def label(self) -> str:
        """A readable test id."""
        return f"{self.file}: {self.test}: {self.alertname}"


def _load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@cache
def _alert_rules() -> tuple[AlertRule, ...]:
    rules: list[AlertRule] = []
    for group in _load_yaml(RULES_FILE)["groups"]:
        interval = parse_duration(str(group.get("interval", "1m")))
        rules.extend(
            AlertRule(rule["alert"], rule, interval) for rule in group["rules"] if "alert" in rule
        )
    return tuple(rules)


@cache
def _unit_test_cases() -> tuple[UnitTestCase, ...]:
    cases: list[UnitTestCase] = []
    for path in UNIT_TEST_FILES:
        for test in _load_yaml(path)["tests"]:
            for check in test.get("alert_rule_test", []):
                expected = tuple(
                    {"alertname": check["alertname"], **alert.get("exp_labels", {})}
                    for alert in check.get("exp_alerts") or []
                )
                cases.append(UnitTestCase(path.name, test["name"], check["alertname"], expected))
    return tuple(cases)


def _fired_alerts() -> list[dict[str, str]]:
    """Every distinct label set the unit tests expect an alert to fire with."""
    distinct: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    for case in _unit_test_cases():
        for labels in case.expected:
            distinct.setdefault(tuple(sorted(labels.items())), labels)
    return list(distinct.values())


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _github_anchor(heading: str) -> str:
    """The anchor GitHub gives a markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


ALERT_RULES = _alert_rules()
FIRED_ALERTS = _fired_alerts()


@needs_promtool
def test_promtool_accepts_the_rule_file() -> None:
    assert PROMTOOL is not None
    done = _run(PROMTOOL, "check", "rules", str(RULES_FILE))

    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
@pytest.mark.parametrize("unit_tests", UNIT_TEST_FILES, ids=lambda path: path.name)
def test_every_rule_passes_its_promtool_unit_tests(unit_tests: Path) -> None:
    assert PROMTOOL is not None
    done = _run(PROMTOOL, "test", "rules", str(unit_tests))

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_unit_tests_read_the_shipped_rule_file() -> None:
    for path in UNIT_TEST_FILES:
        rule_files = [(path.parent / name).resolve() for name in _load_yaml(path)["rule_files"]]

        assert rule_files == [RULES_FILE], path.name


def test_every_alert_is_proven_both_firing_and_silent() -> None:
    for rule in ALERT_RULES:
        cases = [case for case in _unit_test_cases() if case.alertname == rule.name]

        assert any(case.expected for case in cases), f"no unit test sees {rule.name} fire"
        assert any(not case.expected for case in cases), f"no unit test keeps {rule.name} quiet"


@pytest.mark.parametrize("rule", ALERT_RULES, ids=lambda rule: rule.name)
def test_every_alert_has_a_severity_a_summary_a_description_and_a_runbook_url(
    rule: AlertRule,
) -> None:
    annotations = rule.body.get("annotations", {})

    assert rule.severity in {"critical", "warning"}
    assert {"summary", "description", "runbook_url"} <= set(annotations)
    assert all(str(annotations[key]).strip() for key in ("summary", "description"))


def test_every_runbook_url_points_at_a_heading_of_the_readme() -> None:
    headings = re.findall(r"^#+ (.+)$", README.read_text(encoding="utf-8"), flags=re.MULTILINE)
    anchors = {_github_anchor(heading) for heading in headings}

    for rule in ALERT_RULES:
        url = str(rule.body["annotations"]["runbook_url"])

        assert url.startswith(RUNBOOK_BASE_URL), rule.name
        assert url.removeprefix(RUNBOOK_BASE_URL) in anchors, (rule.name, url)


@pytest.mark.parametrize(
    "rule",
    [rule for rule in ALERT_RULES if rule.severity == "critical"],
    ids=lambda rule: rule.name,
)
def test_a_critical_alert_fires_within_two_minutes_of_the_fault(rule: AlertRule) -> None:
    # Worst case: the fault lands just after a scrape, and the sample just after an evaluation.
    detection = SCRAPE_INTERVAL_SECONDS + rule.group_interval_seconds + rule.for_seconds

    assert detection <= DETECTION_BUDGET_SECONDS


def test_every_shipped_alert_has_a_runbook_to_start() -> None:
    assert sorted(rule.name for rule in ALERT_RULES) == sorted(ROUTES)


@pytest.mark.parametrize(
    "labels", FIRED_ALERTS, ids=lambda labels: ",".join(f"{k}={v}" for k, v in labels.items())
)
def test_every_alert_the_unit_tests_see_fire_starts_its_runbook(labels: dict[str, str]) -> None:
    result = match_alert(load_catalog(), labels, "firing")

    assert [match.runbook for match in result.matches] == [ROUTES[labels["alertname"]]], (
        result.describe()
    )


def test_the_handbook_name_of_the_programming_latency_alert_still_routes() -> None:
    labels = {"alertname": "ServiceHighLatency", "instance": "10.0.0.7:10249"}

    (match,) = match_alert(load_catalog(), labels, "firing").matches

    assert match.runbook == ROUTES["KubeProxyNetworkProgrammingSlow"]


@pytest.mark.parametrize(
    ("labels", "instance"),
    [
        ({"node": "node-b", "instance": "10.0.0.2:10249"}, "node-b"),
        ({"instance": "10.0.0.2:10249"}, "10.0.0.2:10249"),
    ],
    ids=["relabeled", "without-node-label"],
)
@pytest.mark.parametrize(
    "alertname",
    [
        "KubeProxyNodeDown",
        "KubeProxyRulesStale",
        "KubeProxyNetworkProgrammingSlow",
        "ConntrackTableNearlyFull",
        "IPVSBackendDown",
    ],
)
def test_a_node_alert_scopes_the_checklist_to_its_node_by_name_else_by_address(
    alertname: str, labels: dict[str, str], instance: str
) -> None:
    (match,) = match_alert(load_catalog(), {"alertname": alertname, **labels}, "firing").matches

    assert match.parameters == {"scope": "node", "instance": instance}
    assert match.concurrency_key == f"kube-proxy/node/{instance}"


def test_the_prometheus_rule_carries_the_rule_file_as_its_spec() -> None:
    resource = _load_yaml(PROMETHEUS_RULE_FILE)

    assert (resource["apiVersion"], resource["kind"]) == (
        "monitoring.coreos.com/v1",
        "PrometheusRule",
    )
    assert resource["spec"] == _load_yaml(RULES_FILE)


def test_the_prometheus_rule_is_generated_from_the_rule_file() -> None:
    done = _run(sys.executable, str(GENERATOR), "--check")

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_kustomization_ships_only_the_prometheus_rule() -> None:
    kustomization = _load_yaml(PROMETHEUS_DIR / "kustomization.yaml")

    assert kustomization["resources"] == [PROMETHEUS_RULE_FILE.name]


@pytest.mark.kubectl
@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kustomize_renders_exactly_the_prometheus_rule() -> None:
    assert KUBECTL is not None
    done = _run(KUBECTL, "kustomize", str(PROMETHEUS_DIR))

    assert done.returncode == 0, done.stderr
    assert list(yaml.safe_load_all(done.stdout)) == [_load_yaml(PROMETHEUS_RULE_FILE)]
