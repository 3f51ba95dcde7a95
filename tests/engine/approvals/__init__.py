"""Tests of engine.approvals."""
