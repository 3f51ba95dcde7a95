"""Tests of the kube-proxy rollback flow."""
