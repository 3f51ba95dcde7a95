"""Tests of the kube-proxy rollback: its pure parts, and the flow end to end over a cluster."""
