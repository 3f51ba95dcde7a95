"""A real local Prefect server (SQLite, or any database its profile names) for this process."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from prefect.context import refresh_global_settings_context

from engine.execution.run_threads import flush_run_records
from engine.prefect_server import PrefectServer
from tests.prefect_runs import prefect_start_timeout

_CLIENT_VARIABLES = ("PREFECT_API_URL", "PREFECT_HOME")


def write_server_profile(state_dir: Path, settings: Mapping[str, str]) -> None:
    """Give a server started in ``state_dir`` these Prefect settings (its active profile).

    `PrefectServer` passes no ``PREFECT_*`` variable of ours to the server; the profiles file
    under its ``PREFECT_HOME`` is how it takes a setting such as the database URL.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    lines = ['active = "local"', "", "[profiles.local]"]
    lines += [f'{name} = "{value}"' for name, value in settings.items()]
    (state_dir / "profiles.toml").write_text("\n".join(lines) + "\n")


@contextlib.contextmanager
def local_prefect(
    state_dir: Path, *, server_settings: Mapping[str, str] | None = None
) -> Iterator[PrefectServer]:
    """Start ``prefect server start`` in ``state_dir`` and point this process's Prefect at it.

    Args:
        state_dir: The server's home (its SQLite database, log) and this process's client home.
        server_settings: Settings for the server only, e.g. its database connection URL.

    Yields:
        The server, which a test may stop and start again (same port and database).
    """
    server_home = state_dir / "server"
    if server_settings:
        write_server_profile(server_home, server_settings)
    saved = {name: os.environ.get(name) for name in _CLIENT_VARIABLES}
    with PrefectServer(server_home, startup_timeout=prefect_start_timeout()) as server:
        os.environ["PREFECT_API_URL"] = server.api_url
        os.environ["PREFECT_HOME"] = str(state_dir / "client")
        refresh_global_settings_context()
        try:
            yield server
            if server.is_healthy():
                flush_run_records()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            refresh_global_settings_context()
