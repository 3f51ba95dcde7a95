"""Tests of the runbook catalog: schema, matching, validation and the shipped runbooks."""
