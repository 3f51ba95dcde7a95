"""Running our deployments' flow runs in this process: claims, targets and heartbeats."""
