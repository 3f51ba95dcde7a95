"""Incidents: one run changes a shared object (kube-proxy) for every alert its cause raised."""
