"""Benchmarks that print their figures (medians and ratios)."""
