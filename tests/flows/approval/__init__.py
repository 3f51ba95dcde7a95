"""Tests of the approval gate shared by every flow: its answer form and its Slack channel."""
