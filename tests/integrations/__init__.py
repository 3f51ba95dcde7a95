"""Tests of the adapters in integrations/."""
