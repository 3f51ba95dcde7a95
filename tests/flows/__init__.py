"""Tests of the Prefect flows and their pure parts."""
