"""The checklist's doing part: reading the cluster, acting on it, verifying; called by tasks."""
