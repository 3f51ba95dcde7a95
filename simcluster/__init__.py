"""A stateful simulated Kubernetes cluster that serves the Kubernetes REST API over HTTP."""
