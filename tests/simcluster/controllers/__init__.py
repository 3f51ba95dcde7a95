"""Tests of the simulated cluster's controllers."""
