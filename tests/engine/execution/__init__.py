"""Tests of engine.execution."""
