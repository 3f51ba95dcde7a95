"""Tests of engine.dispatch."""
