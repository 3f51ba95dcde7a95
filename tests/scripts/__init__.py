"""scripts/: the bootstrap behind ./scripts/up and ./scripts/test."""
