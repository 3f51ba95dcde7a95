"""A throwaway PostgreSQL for benchmarks: the end-to-end tests' (`tests.e2e.postgres`)."""

from tests.e2e.postgres import PostgresUnavailableError, find_bin_dir, running_postgres

__all__ = ["PostgresUnavailableError", "find_bin_dir", "running_postgres"]
