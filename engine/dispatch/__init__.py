"""Matched alerts to durable Prefect runs: batching, bulk creation, cooldowns and resolutions."""
