"""scripts/bootstrap on this machine's own Python, as on a fresh Debian: ``env -i``, system PATH.

It runs on a copy of the repository, so that the repository's own .venv stays as it is, and with
the machine's uv cache, so that the locked packages come from there rather than PyPI again; uv
itself does come from PyPI, through pip, into the empty HOME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.scripts.fake_machine import REPO

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NOT_COPIED = shutil.ignore_patterns(
    ".venv",
    ".git",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".import_linter_cache",
    ".runbooks",
    "*.egg-info",
    "dist",
)


def _system_python() -> str | None:
    """A Python 3.11 or 3.12 in the system directories, as the bootstrap would look for one."""
    for name in ("python3", "python3.12", "python3.11"):
        python = shutil.which(name, path=SYSTEM_PATH)
        if python is None:
            continue
        version = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info[:2] in ((3, 11), (3, 12)))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if version.stdout.strip() == "True":
            return python
    return None


def _can_install_python() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get", path=SYSTEM_PATH) is not None


def _machine_uv_cache(tmp_path: Path) -> str:
    """The uv cache of the uv running these tests, or an empty one."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is not None:
        found = subprocess.run([uv, "cache", "dir"], capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout.strip():
            return found.stdout.strip()
    return str(tmp_path / "uv-cache")


def _fresh_debian(home: Path, cache: str) -> dict[str, str]:
    """What ``env -i HOME=<empty> PATH=<system directories>`` leaves, plus the uv cache."""
    return {"HOME": str(home), "PATH": SYSTEM_PATH, "UV_CACHE_DIR": cache}


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.skipif(
    _system_python() is None and not _can_install_python(),
    reason="no Python 3.11 or 3.12 in the system directories, and not root with apt-get to "
    "install one (the bootstrap would say so and exit)",
)
def test_bootstrap_on_a_system_python_installs_uv_in_its_own_environment(
    tmp_path: Path,
) -> None:
    repo, home = tmp_path / "repo", tmp_path / "home"
    shutil.copytree(REPO, repo, ignore=NOT_COPIED, symlinks=True)
    home.mkdir()
    machine = _fresh_debian(home, _machine_uv_cache(tmp_path))
    uv_on_the_system = shutil.which("uv", path=SYSTEM_PATH)

    first = subprocess.run(
        [str(repo / "scripts" / "bootstrap")], env=machine, capture_output=True, text=True
    )

    assert first.returncode == 0, first.stderr
    assert "using Python 3.1" in first.stderr
    if uv_on_the_system is None:
        own_uv = home / ".local" / "share" / "service-runbooks" / "uv-venv" / "bin" / "uv"
        assert own_uv.is_file(), first.stderr
    cli = subprocess.run(
        [str(repo / ".venv" / "bin" / "runbooks"), "--help"],
        env=machine,
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    assert "usage: runbooks" in cli.stdout
    venv_home = (repo / ".venv" / "pyvenv.cfg").read_text().split("home = ")[1].split("\n")[0]
    assert venv_home in SYSTEM_PATH.split(":"), "the environment is built on a system Python"

    started = time.monotonic()
    again = subprocess.run(
        [str(repo / "scripts" / "bootstrap")], env=machine, capture_output=True, text=True
    )
    took = time.monotonic() - started

    assert again.returncode == 0, again.stderr
    assert "installing" not in again.stderr
    assert took < 10, f"a bootstrap with nothing to do took {took:.1f} s"
