"""Tests of the Alertmanager adapter: webhook payloads, fingerprints, API client, config."""
