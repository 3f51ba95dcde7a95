"""Tests of the conntrack cleanup flow."""
