"""Tests of the simulated cluster's Kubernetes REST API over HTTP."""
