"""Tests of the engine: the webhook receiver, intake, firing, and the composition root."""
