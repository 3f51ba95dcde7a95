"""Prefect flows and tasks that work the runbooks."""
