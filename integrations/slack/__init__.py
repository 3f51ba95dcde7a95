"""Slack adapter: the only module that imports slack_sdk."""
