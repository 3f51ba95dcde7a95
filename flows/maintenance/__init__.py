"""Scheduled preventive flows: cluster health check, configuration backup, service report."""
