"""Tests of the five-minute checklist: its pure parts, and the flow end to end over a cluster."""
