"""End-to-end tests through real processes: Alertmanager, the receiver over HTTP, Prefect."""
