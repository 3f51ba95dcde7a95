"""A Debian machine made of stub commands, for running scripts/bootstrap through its failures.

The bootstrap runs as in ``env -i``: its PATH is one directory holding a few real tools (bash,
coreutils) and stubs for everything it asks about the machine: ``id``, ``python3*``, ``uv``,
``sudo``, ``apt-get``/``apt-cache`` and ``systemctl``. Stubs append their command lines to a log,
so that a test can read what the bootstrap did; nothing touches the network or the real system.
"""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REAL_TOOLS = ("bash", "env", "dirname", "mktemp", "rm", "mkdir", "ln")


def _real(tool: str) -> str:
    path = shutil.which(tool, path="/usr/local/bin:/usr/bin:/bin")
    assert path is not None, f"{tool} is not installed"
    return path


class FakeMachine:
    """One stub machine under ``root``; the bootstrap runs from a copy of ``scripts/`` in it."""

    def __init__(self, root: Path, *, uid: int) -> None:
        self.repo = root / "repo"
        self.home = root / "home"
        self.bin = root / "bin"
        self.state = root / "state"
        self.log = root / "calls.log"
        for directory in (self.home, self.bin, self.state / "provides", self.state / "installed"):
            directory.mkdir(parents=True)
        self.log.touch()
        shutil.copytree(REPO / "scripts", self.repo / "scripts")
        for tool in REAL_TOOLS:
            (self.bin / tool).symlink_to(_real(tool))
        self.stub("id", f'[[ "$1" == -u ]] && echo {uid}', log=False)

    def stub(self, name: str, body: str, *, log: bool = True, into: Path | None = None) -> Path:
        """Writes an executable bash stub ``name`` (into bin, or ``into``) running ``body``.

        Stubs find the real coreutils after the other stubs; they log ``name arguments``.
        """
        path = (into or self.bin) / name
        record = f'echo "{name} $*" >>"{self.log}"\n' if log else ""
        path.write_text(f'#!{_real("bash")}\nPATH="{self.bin}:/usr/bin:/bin"\n{record}{body}\n')
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return path

    def python(
        self,
        version: str,
        name: str = "python3",
        *,
        venv_package: str | None = None,
        into: Path | None = None,
    ) -> Path:
        """A Python ``version`` of Debian's (prefix /usr) on PATH (or ``into``), answering the
        bootstrap's probe.

        Its ``-m venv`` makes an environment whose pip "installs" a uv stub logging as
        ``own-uv``; with ``venv_package`` it fails as Debian's does until that is installed.
        """
        templates = self.state / "templates"
        if not templates.exists():
            templates.mkdir()
            self.stub("uv", self._uv_body("own-uv", "0.13.9"), log=False, into=templates)
            self.stub("pip-python", f'cp "{templates}/uv" "$(dirname "$0")/uv"', into=templates)
        missing_venv = (
            f'[[ -e "{self.state}/installed/{venv_package}" ]] || '
            "{ echo 'The virtual environment was not created successfully because ensurepip is "
            "not'; exit 1; }"
            if venv_package
            else ":"
        )
        body = f"""if [[ "$1" == -c ]]; then printf '%s\\n' "{version}" /usr "$0"; exit 0; fi
if [[ "$1" == -m && "$2" == venv ]]; then
  echo "venv $*" >>"{self.log}"
  {missing_venv}
  mkdir -p "${{!#}}/bin"
  cp "{templates}/pip-python" "${{!#}}/bin/python"
  exit 0
fi
exit 3"""
        return self.stub(name, body, log=False, into=into)

    def _uv_body(self, label: str, version: str) -> str:
        return (
            f'echo "{label} $* UV_PYTHON_DOWNLOADS=$UV_PYTHON_DOWNLOADS" >>"{self.log}"\n'
            f'[[ "$1" == --version ]] && echo "uv {version} (stub)"\n'
            "exit 0"
        )

    def uv(self, version: str = "0.13.9") -> None:
        """A uv on PATH; it logs ``uv <arguments> UV_PYTHON_DOWNLOADS=<value>``."""
        self.stub("uv", self._uv_body("uv", version), log=False)

    def command(self, name: str) -> None:
        """A command that is simply there, such as an installed Alertmanager."""
        self.stub(name, "exit 0", log=False)

    def sudo(self, *, needs_password: bool) -> None:
        """sudo that runs commands as given, or refuses (-n, -v) wanting a password."""
        refuse = "exit 1" if needs_password else "exit 0"
        self.stub("sudo", f'[[ "$1" == -n || "$1" == -v ]] && {refuse}\nexec "$@"')

    def debian(
        self,
        candidates: dict[str, str],
        *,
        lists: bool = True,
        update_output: str | None = None,
    ) -> None:
        """apt with these packages (name: version) and systemctl.

        Without ``lists`` apt knows no package until ``apt-get update``; with ``update_output``
        that update prints it and, as when no mirror answers, succeeds without fetching lists.
        """
        apt = self.state / "apt"
        apt.mkdir()
        for package, version in candidates.items():
            (apt / package).write_text(version)
        lists_file = self.state / "apt-lists"
        if lists:
            lists_file.touch()
        update = (
            f"printf '%s\\n' {_quoted(update_output)}"
            if update_output is not None
            else f'touch "{lists_file}"'
        )
        self.stub(
            "apt-cache",
            f"""[[ -e "{lists_file}" && -f "{apt}/$2" ]] || exit 0
printf '%s:\\n  Installed: (none)\\n  Candidate: %s\\n' "$2" "$(cat "{apt}/$2")\"""",
            log=False,
        )
        self.stub(
            "apt-get",
            f"""words=(); for word; do [[ "$word" == -* ]] || words+=("$word"); done
case "${{words[0]}}" in
  update) {update} ;;
  install)
    for package in "${{words[@]:1}}"; do
      touch "{self.state}/installed/$package"
      if [[ -d "{self.state}/provides/$package" ]]; then
        cp "{self.state}/provides/$package/"* "{self.bin}/"
      fi
    done ;;
esac""",
        )
        self.stub("systemctl", "exit 0")

    def installs(self, package: str) -> Path:
        """The directory whose stubs installing ``package`` puts on PATH."""
        directory = self.state / "provides" / package
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def bootstrap(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Runs scripts/bootstrap as ``env -i HOME=... PATH=<the stubs>`` would, without a
        terminal."""
        return self.run("bootstrap", *args)

    def run(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Runs ``scripts/<script>`` as `bootstrap` does."""
        return subprocess.run(
            [str(self.repo / "scripts" / script), *args],
            env={"HOME": str(self.home), "PATH": str(self.bin)},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def calls(self) -> list[str]:
        """The stub command lines run so far, in order."""
        return self.log.read_text().splitlines()


def _quoted(text: str) -> str:
    """``text`` as one single-quoted bash word per line, for printf '%s\\n'."""
    return " ".join("'" + line.replace("'", "'\\''") + "'" for line in text.splitlines())
