"""The simulated cluster's controllers: kubelet, scheduler, workloads, endpoints, GC."""
