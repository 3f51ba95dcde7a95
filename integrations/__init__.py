"""Adapters to the outside world (Kubernetes, Slack, Alertmanager); no Prefect imports."""
