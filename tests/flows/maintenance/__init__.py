"""Tests of the scheduled preventive flows."""
