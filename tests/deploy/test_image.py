"""deploy/image/Dockerfile builds what the engine needs and runs it as the cluster expects.

These machines cannot build images, so the slow test does what the Dockerfile's builder stage
does, with the same uv commands on the same build context, into a fresh virtual environment, and
runs from it what the runtime stage runs, with the runtime stage's environment. (It skips the
builder's bytecode compilation, which only saves start-up time, to stay fast.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.deploy.dockerfile import Stage, stage, stages
from tests.deploy.manifests import BASE_DIR, REPO, load_manifests, only

BUILDER = stage("builder")
RUNTIME = stage("runtime")
#: Where the image keeps things, and where the slow test keeps them instead.
IMAGE_PATHS = ("/opt/service-runbooks", "/var/lib/service-runbooks", "/tmp")


def test_both_python_stages_use_the_same_slim_python_3_11() -> None:
    assert BUILDER.base == RUNTIME.base
    assert RUNTIME.base.startswith("python:3.11-slim")


def test_the_image_builds_with_the_uv_the_project_pins() -> None:
    bootstrap = (REPO / "scripts" / "lib" / "bootstrap.sh").read_text(encoding="utf-8")
    [uv_stage] = [s for s in stages() if s.name == "uv"]

    assert f"UV_VERSION={uv_stage.base.rpartition(':')[2]}\n" in bootstrap


def test_the_builder_installs_the_locked_environment_without_dev_dependencies_or_the_sim() -> None:
    [export] = [run for run in BUILDER.arguments_of("RUN") if "uv export" in run]
    words = export.split()

    assert {"--frozen", "--no-dev", "--no-emit-workspace"} <= set(words)
    assert not {"--dev", "--all-groups", "--group", "--all-extras", "--extra"} & set(words)
    assert any("--require-hashes" in run for run in BUILDER.arguments_of("RUN"))


def test_the_build_context_holds_every_package_the_wheel_ships() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = set(pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    copied = set(BUILDER.copied_sources())
    allowed = {
        line.removeprefix("!").rstrip("/")
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }

    assert packages <= copied
    assert {"pyproject.toml", "uv.lock", "README.md"} <= copied
    assert copied <= allowed


def test_the_engine_runs_as_a_numeric_non_root_user() -> None:
    [user] = RUNTIME.arguments_of("USER")
    uid, _, gid = user.partition(":")

    assert uid.isdigit()
    assert int(uid) != 0
    assert gid.isdigit()


def test_the_entrypoint_is_runbooks_up_under_an_init_that_forwards_signals() -> None:
    entrypoint = RUNTIME.exec_form("ENTRYPOINT")
    command = RUNTIME.exec_form("CMD")
    assert entrypoint is not None
    assert command is not None

    assert entrypoint[0].endswith("/tini")
    assert [*entrypoint[-1:], *command] == ["runbooks", "up"]


def test_health_is_left_to_the_kubernetes_probes() -> None:
    # Kubernetes ignores HEALTHCHECK; the Deployment's probes allow for a 100 s start.
    assert not RUNTIME.arguments_of("HEALTHCHECK")


def test_the_image_writes_only_to_its_state_volume_and_scratch() -> None:
    environment = RUNTIME.environment()
    [volume] = RUNTIME.arguments_of("VOLUME")

    assert environment["PYTHONDONTWRITEBYTECODE"] == "1"
    assert environment["RUNBOOKS_SIMULATE"] == "false"
    state = environment["RUNBOOKS_STATE_DIR"]
    assert f'"{state}"' in volume
    assert environment["PREFECT_HOME"].startswith(state + "/")
    assert environment["HOME"] == environment["TMPDIR"] == "/tmp"


def test_the_deployment_mounts_the_images_state_directory() -> None:
    container = only(load_manifests(BASE_DIR), "Deployment")["spec"]["template"]["spec"][
        "containers"
    ][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    image_env = RUNTIME.environment()

    for variable in ("RUNBOOKS_STATE_DIR", "PREFECT_HOME", "HOME", "TMPDIR"):
        assert env[variable] == image_env[variable]
    assert {image_env["RUNBOOKS_STATE_DIR"], "/tmp"} <= mounts


# --- What the image runs -----------------------------------------------------------------------


def flow_modules() -> list[str]:
    """Every module that defines flows (flows/<name>/flow*.py), as an import name."""
    return sorted(
        ".".join(path.relative_to(REPO).with_suffix("").parts)
        for path in (REPO / "flows").glob("**/flow*.py")
    )


def build_context(destination: Path, stage_: Stage) -> Path:
    """The files the builder stage copies from the context, as .dockerignore leaves them."""
    destination.mkdir()
    for source in stage_.copied_sources():
        origin, target = REPO / source, destination / source
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copyfile(origin, target)
    return destination


def uv(*arguments: str | Path, cwd: Path) -> None:
    """Run uv as the Dockerfile does, failing the test with its output."""
    executable = os.environ.get("UV") or shutil.which("uv")
    assert executable is not None, "uv is not installed"
    environment = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    done = subprocess.run(
        [executable, *map(str, arguments)],
        cwd=cwd,
        env={**environment, "UV_PYTHON_DOWNLOADS": "never"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"uv {' '.join(map(str, arguments))}:\n{done.stderr}"


def runtime_environment(root: Path) -> dict[str, str]:
    """The runtime stage's ENV, its paths moved under ``root`` (nothing else inherited)."""
    moved = {path: root / path.strip("/").replace("/", "-") for path in IMAGE_PATHS}
    for folder in moved.values():
        folder.mkdir(exist_ok=True)
    environment = {}
    for key, value in RUNTIME.environment().items():
        for path, replacement in moved.items():
            if value == path or value.startswith((path + "/", path + ":")):
                value = str(replacement) + value.removeprefix(path)
                break
        environment[key] = value.replace("$PATH", "/usr/bin:/bin")
    return environment


SNIPPET = """
import importlib, importlib.util, sys
for module in sys.argv[1:]:
    importlib.import_module(module)
try:
    import simcluster
except ModuleNotFoundError:
    pass
else:
    sys.exit("the simulated cluster is installed")
dev = [name for name in ("pytest", "mypy", "ruff", "kubernetes_validate")
       if importlib.util.find_spec(name)]
sys.exit(f"dev dependencies installed: {dev}" if dev else 0)
"""


@pytest.mark.slow
def test_the_locked_wheel_without_dev_dependencies_runs_the_cli_and_every_flow(
    tmp_path: Path,
) -> None:
    context = build_context(tmp_path / "context", BUILDER)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    venv = runtime / "opt-service-runbooks"
    requirements = tmp_path / "requirements.txt"
    uv(
        "export",
        "--frozen",
        "--no-dev",
        "--no-emit-workspace",
        "--output-file",
        requirements,
        cwd=context,
    )
    uv("venv", "--python", sys.executable, venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    uv(
        "pip",
        "install",
        "--python",
        python,
        "--require-hashes",
        "--no-deps",
        "--requirement",
        requirements,
        cwd=tmp_path,
    )
    uv("build", "--wheel", "--out-dir", tmp_path / "dist", context, cwd=context)
    [wheel] = (tmp_path / "dist").glob("*.whl")
    uv("pip", "install", "--python", python, "--no-deps", wheel, cwd=tmp_path)
    installed = sorted(str(p) for p in venv.rglob("*"))
    environment = runtime_environment(runtime)

    def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(c) for c in command],
            cwd=runtime,
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    helped = run("runbooks", "--help")
    validated = run("runbooks", "validate")
    imported = run(python, "-c", SNIPPET, *flow_modules(), "engine.startup")

    assert helped.returncode == 0, helped.stderr
    assert " up " in helped.stdout
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert imported.returncode == 0, imported.stderr
    # Nothing was written into the installed environment: it can live on a read-only root.
    assert sorted(str(p) for p in venv.rglob("*")) == installed


def test_flow_modules_are_found_where_the_engine_keeps_them() -> None:
    assert "flows.checklist.flow" in flow_modules()
    assert all(module.startswith("flows.") for module in flow_modules())
