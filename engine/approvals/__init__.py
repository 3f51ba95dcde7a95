"""Approvals from the engine's side: the timeout sweeper and Slack's button presses."""
