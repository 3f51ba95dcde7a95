"""scripts/bootstrap on stub Debian machines: what it installs, and what it says when it cannot."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests.scripts.fake_machine import REPO, FakeMachine

ROOT, USER = 0, 1000
ALERTMANAGER_INSTEAD = (
    "apt-get update && apt-get install -y --no-install-recommends prometheus-alertmanager"
)


@pytest.fixture
def root_machine(tmp_path: Path) -> FakeMachine:
    return FakeMachine(tmp_path, uid=ROOT)


@pytest.fixture
def user_machine(tmp_path: Path) -> FakeMachine:
    return FakeMachine(tmp_path, uid=USER)


def with_the_other_test_tools(machine: FakeMachine) -> None:
    """The tools --test needs besides Alertmanager, already there: these tests are about one."""
    for tool in ("promtool", "kubectl", "pg_ctlcluster"):
        machine.command(tool)


def _message(stderr: str) -> str:
    """What the bootstrap said, each run of whitespace one space: phrases match across lines."""
    return " ".join(stderr.split())


def _closing_lines(stderr: str) -> list[str]:
    """The lines of the closing message, which a blank line sets apart from the progress."""
    return stderr.split("\n\n")[-1].strip().splitlines()


def test_the_pythons_it_accepts_are_those_of_requires_python() -> None:
    library = (REPO / "scripts" / "lib" / "bootstrap.sh").read_text()
    listed = re.search(r"^PYTHON_MINORS=\(([0-9 ]+)\)$", library, re.MULTILINE)
    assert listed is not None
    minors = [int(minor) for minor in listed.group(1).split()]
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())

    requires = pyproject["project"]["requires-python"].replace(" ", "")

    assert minors == list(range(minors[0], minors[-1] + 1))
    assert requires == f">=3.{minors[0]},<3.{minors[-1] + 1}"


def test_when_everything_is_there_it_installs_nothing_and_only_syncs(
    root_machine: FakeMachine,
) -> None:
    python = root_machine.python("3.11.2")
    root_machine.uv()
    root_machine.command("prometheus-alertmanager")
    root_machine.debian({"prometheus-alertmanager": "0.25.0-1"})

    with_the_other_test_tools(root_machine)

    done = root_machine.bootstrap("--test")

    assert done.returncode == 0, done.stderr
    assert f"using Python 3.11.2 ({python})" in done.stderr
    assert root_machine.calls() == [
        "uv --version UV_PYTHON_DOWNLOADS=never",
        f"uv sync --frozen --quiet --python {python} UV_PYTHON_DOWNLOADS=never",
    ]


def test_a_python_older_than_3_11_is_refused_naming_what_to_install(
    user_machine: FakeMachine,
) -> None:
    user_machine.python("3.9.2")
    user_machine.uv()
    user_machine.debian({"python3": "3.9.2-3"})

    done = user_machine.bootstrap()

    message = _message(done.stderr)
    assert done.returncode == 1
    assert "no Python 3.11 or 3.12 found" in message
    assert "python3 is 3.9.2" in message
    assert "you are not root and sudo is not installed" in message
    assert "apt-get install -y python3 python3-venv" in message
    assert "apt-get install -y python3.11 python3.11-venv" in message
    assert user_machine.calls() == []


def test_a_python_3_13_alone_is_refused_because_the_lock_stops_before_it(
    root_machine: FakeMachine,
) -> None:
    root_machine.python("3.13.5")
    root_machine.uv()
    root_machine.debian({"python3": "3.13.5-1", "python3.13": "3.13.5-2"})

    done = root_machine.bootstrap()

    message = _message(done.stderr)
    assert done.returncode == 1
    assert "python3 is 3.13.5" in message
    assert "apt offers none" in message
    assert "Debian 13's python3 is 3.13" in message
    assert "RUNBOOKS_PYTHON" in message
    assert not [call for call in root_machine.calls() if call.startswith("apt-get install")]


def test_as_root_without_a_python_it_installs_debians_python3(
    root_machine: FakeMachine,
) -> None:
    root_machine.uv()
    root_machine.debian({"python3": "3.11.2-1+b1", "python3-venv": "3.11.2-1+b1"})
    python = root_machine.python("3.11.2", into=root_machine.installs("python3"))
    installed = root_machine.bin / python.name

    done = root_machine.bootstrap()

    assert done.returncode == 0, done.stderr
    assert "apt-get -q -y install --no-install-recommends python3 python3-venv" in (
        root_machine.calls()
    )
    assert f"using Python 3.11.2 ({installed})" in done.stderr
    assert root_machine.calls()[-1].startswith(f"uv sync --frozen --quiet --python {installed} ")


def test_with_empty_apt_lists_it_updates_them_then_installs_and_stops_the_service(
    root_machine: FakeMachine,
) -> None:
    root_machine.python("3.11.2")
    root_machine.uv()
    root_machine.debian({"prometheus-alertmanager": "0.25.0-1+b4"}, lists=False)
    root_machine.installs("prometheus-alertmanager").joinpath("prometheus-alertmanager").touch(
        mode=0o755
    )

    with_the_other_test_tools(root_machine)

    done = root_machine.bootstrap("--test")

    assert done.returncode == 0, done.stderr
    assert [call for call in root_machine.calls() if not call.startswith("uv --version")] == [
        "apt-get -q -y update",
        "apt-get -q -y install --no-install-recommends prometheus-alertmanager",
        "systemctl disable --now prometheus-alertmanager",
        f"uv sync --frozen --quiet --python {root_machine.bin / 'python3'} "
        "UV_PYTHON_DOWNLOADS=never",
    ]


def test_a_user_without_sudo_is_told_to_install_alertmanager_as_root(
    user_machine: FakeMachine,
) -> None:
    user_machine.python("3.11.2")
    user_machine.uv()
    user_machine.debian({"prometheus-alertmanager": "0.25.0-1+b4"})

    done = user_machine.bootstrap("--test")

    assert done.returncode == 1
    assert "prometheus-alertmanager is missing" in _message(done.stderr)
    assert "you are not root and sudo is not installed" in done.stderr
    assert ALERTMANAGER_INSTEAD in done.stderr
    assert user_machine.calls() == []


def test_sudo_wanting_a_password_without_a_terminal_is_reported_not_waited_for(
    user_machine: FakeMachine,
) -> None:
    user_machine.python("3.11.2")
    user_machine.uv()
    user_machine.sudo(needs_password=True)
    user_machine.debian({"prometheus-alertmanager": "0.25.0-1+b4"})

    done = user_machine.bootstrap("--test")

    assert done.returncode == 1
    assert "sudo needs a password and there is no terminal to ask for it" in done.stderr
    assert ALERTMANAGER_INSTEAD in done.stderr
    assert user_machine.calls() == ["sudo -n true"]


def test_a_user_with_sudo_installs_through_it(user_machine: FakeMachine) -> None:
    user_machine.python("3.11.2")
    user_machine.uv()
    user_machine.sudo(needs_password=False)
    user_machine.debian({"prometheus-alertmanager": "0.25.0-1+b4"})
    user_machine.installs("prometheus-alertmanager").joinpath("prometheus-alertmanager").touch(
        mode=0o755
    )

    with_the_other_test_tools(user_machine)

    done = user_machine.bootstrap("--test")

    assert done.returncode == 0, done.stderr
    assert (
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get -q -y install --no-install-recommends "
        "prometheus-alertmanager"
    ) in user_machine.calls()


def test_an_apt_update_that_reaches_no_mirror_ends_in_one_paragraph(
    root_machine: FakeMachine,
) -> None:
    root_machine.python("3.11.2")
    root_machine.uv()
    root_machine.debian(
        {"prometheus-alertmanager": "0.25.0-1+b4"},
        lists=False,
        update_output=(
            "Err:1 http://deb.debian.org/debian bookworm InRelease\n"
            "  Temporary failure resolving 'deb.debian.org'\n"
            "Reading package lists...\n"
            "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  "
            "Temporary failure resolving 'deb.debian.org'\n"
            "W: Some index files failed to download. They have been ignored, or old ones used "
            "instead."
        ),
    )

    done = root_machine.bootstrap("--test")

    assert done.returncode == 1
    message = _message(done.stderr)
    assert "prometheus-alertmanager is not in this machine's apt sources" in message
    assert "Temporary failure resolving 'deb.debian.org'" in message
    assert ALERTMANAGER_INSTEAD in done.stderr
    assert "Some index files failed" not in done.stderr
    assert len(_closing_lines(done.stderr)) == 2, "one paragraph, then the command to run"


def test_without_apt_it_says_the_machine_is_not_debian(root_machine: FakeMachine) -> None:
    root_machine.python("3.11.2")
    root_machine.uv()

    done = root_machine.bootstrap("--test")

    assert done.returncode == 1
    assert "this machine has no apt-get (it is not Debian or Ubuntu)" in _message(done.stderr)
    assert "prometheus-alertmanager" in done.stderr


def test_a_uv_too_old_for_the_lock_gets_one_of_its_own_installed_beside_it(
    user_machine: FakeMachine,
) -> None:
    python = user_machine.python("3.11.2")
    user_machine.uv("0.4.30")
    own = user_machine.home / ".local" / "share" / "service-runbooks"

    done = user_machine.bootstrap()

    assert done.returncode == 0, done.stderr
    assert user_machine.calls() == [
        "uv --version UV_PYTHON_DOWNLOADS=never",
        f"venv -m venv --clear {own}/uv-venv",
        "pip-python -m pip install --disable-pip-version-check --quiet uv==0.13.9",
        f"own-uv sync --frozen --quiet --python {python} UV_PYTHON_DOWNLOADS=never",
    ]
    assert f'export PATH="{own}/bin:$PATH"' in done.stderr


def test_a_debian_python_without_ensurepip_gets_its_venv_package_first(
    root_machine: FakeMachine,
) -> None:
    root_machine.python("3.11.2", venv_package="python3.11-venv")
    root_machine.debian({"python3.11-venv": "3.11.2-6"})

    done = root_machine.bootstrap()

    assert done.returncode == 0, done.stderr
    calls = root_machine.calls()
    assert "apt-get -q -y install --no-install-recommends python3.11-venv" in calls
    assert calls[-1].startswith("own-uv sync --frozen")


def test_the_second_run_finds_the_uv_the_first_installed(user_machine: FakeMachine) -> None:
    user_machine.python("3.11.2")
    assert user_machine.bootstrap().returncode == 0
    user_machine.log.write_text("")

    done = user_machine.bootstrap()

    assert done.returncode == 0, done.stderr
    assert [call.split()[:2] for call in user_machine.calls()] == [
        ["own-uv", "--version"],
        ["own-uv", "sync"],
    ]


def test_scripts_test_runs_every_check_with_the_uv_the_bootstrap_installed(
    root_machine: FakeMachine,
) -> None:
    python = root_machine.python("3.11.2")
    root_machine.command("prometheus-alertmanager")

    with_the_other_test_tools(root_machine)

    done = root_machine.run("test", "-k", "slack", "tests/engine")

    assert done.returncode == 0, done.stderr
    assert [call for call in root_machine.calls() if call.startswith("own-uv")] == [
        f"own-uv sync --frozen --quiet --python {python} UV_PYTHON_DOWNLOADS=never",
        "own-uv run --frozen ruff check . UV_PYTHON_DOWNLOADS=never",
        "own-uv run --frozen ruff format --check . UV_PYTHON_DOWNLOADS=never",
        "own-uv run --frozen mypy UV_PYTHON_DOWNLOADS=never",
        "own-uv run --frozen lint-imports UV_PYTHON_DOWNLOADS=never",
        "own-uv run --frozen pytest -n 3 --dist loadfile -k slack tests/engine "
        "UV_PYTHON_DOWNLOADS=never",
    ]


def test_scripts_up_starts_the_engine_with_the_uv_the_bootstrap_installed(
    user_machine: FakeMachine,
) -> None:
    user_machine.python("3.12.3")

    done = user_machine.run("up", "--port", "8081")

    assert done.returncode == 0, done.stderr
    assert user_machine.calls()[-1] == (
        "own-uv run --frozen runbooks up --port 8081 UV_PYTHON_DOWNLOADS=never"
    )
