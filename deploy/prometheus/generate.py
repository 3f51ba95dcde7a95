"""Write prometheusrule.yaml from rules.yml: the same rules as a Prometheus Operator resource.

    uv run --frozen python deploy/prometheus/generate.py          # rewrite prometheusrule.yaml
    uv run --frozen python deploy/prometheus/generate.py --check  # exit 1 when it is stale

The rule file becomes the resource's ``spec`` as text, indented, so its comments come along and
the two can never disagree (tests/deploy/test_prometheus_rules.py runs ``--check``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RULES = HERE / "rules.yml"
PROMETHEUS_RULE = HERE / "prometheusrule.yaml"
REGENERATE = "uv run --frozen python deploy/prometheus/generate.py"

HEADER = f"""\
# Generated from rules.yml by deploy/prometheus/generate.py: edit rules.yml, then run
#   {REGENERATE}
# The rules of rules.yml as a Prometheus Operator resource, listed by kustomization.yaml.
# Prometheus loads it only if its ruleSelector and ruleNamespaceSelector select it (namespace
# service-runbooks): the labels below are kube-prometheus' conventional ones;
# kube-prometheus-stack selects `release: <its Helm release>`, which an overlay adds.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: service-runbooks
  # The engine's namespace, named here as every object of deploy/base names its own.
  namespace: service-runbooks
  labels:
    app.kubernetes.io/name: service-runbooks
    app.kubernetes.io/component: alert-rules
    prometheus: k8s
    role: alert-rules
spec:
"""


def render(rules_text: str) -> str:
    """The PrometheusRule manifest whose spec is `rules_text`, indented under ``spec:``."""
    lines = rules_text.splitlines(keepends=True)
    return HEADER + "".join(f"  {line}" if line.strip() else line for line in lines)


def main(argv: list[str] | None = None) -> int:
    """Regenerate prometheusrule.yaml, or with ``--check`` only report whether it is stale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if the file is stale"
    )
    args = parser.parse_args(argv)
    wanted = render(RULES.read_text(encoding="utf-8"))
    current = PROMETHEUS_RULE.read_text(encoding="utf-8") if PROMETHEUS_RULE.exists() else ""
    if current == wanted:
        return 0
    if args.check:
        print(f"{PROMETHEUS_RULE.name} is stale against {RULES.name}: run {REGENERATE}")
        return 1
    PROMETHEUS_RULE.write_text(wanted, encoding="utf-8")
    print(f"wrote {PROMETHEUS_RULE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
