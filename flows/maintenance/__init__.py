"""Scheduled preventive flows: health check, config backup, service report, Prefect retention."""
