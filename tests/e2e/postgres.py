"""A throwaway PostgreSQL server on 127.0.0.1 (Debian's ``postgresql`` package), for the tests
and benchmarks that run Prefect as a scaled-out engine does.

As root, the cluster is created and run as the ``postgres`` user (``runuser``); otherwise as the
current user. Trust authentication on 127.0.0.1 only; everything lives in a temporary directory
that is removed afterwards.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from engine.prefect_server import find_free_port

#: Where Debian's ``postgresql-<major>`` packages put initdb and pg_ctl (not on PATH).
DEBIAN_BIN_DIRS = Path("/usr/lib/postgresql")
SERVICE_USER = "postgres"


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL (or the asyncpg driver Prefect needs for it) is not available here."""


def find_bin_dir() -> Path:
    """The directory of ``initdb``/``pg_ctl``.

    Raises:
        PostgresUnavailableError: no PostgreSQL server binaries are installed.
    """
    # The newest major first (Debian 12 ships 15, Debian 13 17).
    majors = [path for path in DEBIAN_BIN_DIRS.glob("*/bin") if path.parent.name.isdigit()]
    for candidate in sorted(majors, key=lambda path: int(path.parent.name), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    if found := shutil.which("initdb"):
        return Path(found).parent
    raise PostgresUnavailableError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")


def check_driver() -> None:
    """Raise PostgresUnavailableError unless asyncpg (Prefect's PostgreSQL driver) imports."""
    if importlib.util.find_spec("asyncpg") is None:
        raise PostgresUnavailableError("asyncpg is not installed with prefect")


def _as_owner(command: list[str]) -> list[str]:
    """Run as the postgres user when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", SERVICE_USER, "--", *command]
    return command


def _run(command: list[str]) -> None:
    result = subprocess.run(_as_owner(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PostgresUnavailableError(
            f"{' '.join(command[:2])} failed ({result.returncode}): {result.stderr[-800:]}"
        )


@contextlib.contextmanager
def running_postgres(database: str = "prefect") -> Iterator[str]:
    """Start a temporary PostgreSQL cluster with one database; yield its asyncpg URL.

    Yields:
        ``postgresql+asyncpg://postgres@127.0.0.1:<port>/<database>`` (what Prefect's
        ``PREFECT_API_DATABASE_CONNECTION_URL`` takes).

    Raises:
        PostgresUnavailableError: binaries or driver missing, or the server did not start.
    """
    check_driver()
    bin_dir = find_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="runbooks-postgres-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, user=SERVICE_USER)
        shutil.chown(sockets, user=SERVICE_USER)
    port = find_free_port()
    pg_ctl = str(bin_dir / "pg_ctl")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c max_connections=200"
    try:
        _run([str(bin_dir / "initdb"), "-D", str(data), "-U", SERVICE_USER, "-A", "trust"])
        _run(
            [pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "start"]
        )
        try:
            _run(
                [
                    str(bin_dir / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    SERVICE_USER,
                    database,
                ]
            )
            yield f"postgresql+asyncpg://{SERVICE_USER}@127.0.0.1:{port}/{database}"
        finally:
            _run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
