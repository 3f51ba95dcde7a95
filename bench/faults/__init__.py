"""Fault matrix: faults injected at precise points into the running engine, outcomes counted."""
