"""The alert path's front door: the webhook, its authentication, body, metrics and the handoff."""
