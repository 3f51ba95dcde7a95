"""Tests of engine.intake."""
