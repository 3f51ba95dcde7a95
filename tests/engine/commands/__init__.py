"""Tests of engine.commands."""
