"""Tests of the five-minute checklist: diagnosis, planning, re-checks, parameters and report."""
