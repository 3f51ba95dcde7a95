"""Tests of incidents on shared objects: their records (pure) and their ledger on Prefect."""
