"""The kube-proxy DaemonSet rollback flow: plan, back up, approve, roll back, watch, restore."""
