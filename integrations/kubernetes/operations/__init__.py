"""Groups of Kubernetes operations, combined into the `Kube` facade."""
