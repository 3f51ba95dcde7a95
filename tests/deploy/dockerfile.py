"""Reading deploy/image/Dockerfile: its stages and instructions, enough for the tests' checks."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from tests.deploy.manifests import DEPLOY

DOCKERFILE = DEPLOY / "image" / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    """One instruction: its keyword (upper case) and the rest of its (joined) line."""

    keyword: str
    arguments: str


@dataclass
class Stage:
    """A build stage: its base image (build arguments resolved), name and instructions."""

    base: str
    name: str
    instructions: list[Instruction] = field(default_factory=list)

    def arguments_of(self, keyword: str) -> list[str]:
        """The arguments of every instruction with that keyword, in order."""
        return [i.arguments for i in self.instructions if i.keyword == keyword]

    def exec_form(self, keyword: str) -> list[str] | None:
        """The JSON (exec) form of the last such instruction (ENTRYPOINT, CMD), if any."""
        found = self.arguments_of(keyword)
        return list(json.loads(found[-1])) if found else None

    def environment(self) -> dict[str, str]:
        """What the ENV instructions set (``KEY=VALUE`` form), the later winning."""
        values: dict[str, str] = {}
        for arguments in self.arguments_of("ENV"):
            for word in shlex.split(arguments):
                key, _, value = word.partition("=")
                values[key] = value
        return values

    def copied_sources(self) -> list[str]:
        """The build-context paths COPY takes (not those copied from another stage or image)."""
        sources = []
        for arguments in self.arguments_of("COPY"):
            words = arguments.split()
            if any(w.startswith("--from=") for w in words):
                continue
            sources += [w for w in words[:-1] if not w.startswith("--")]
        return sources


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, continuation lines joined and comments dropped."""
    joined = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    parsed = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            parsed.append(Instruction(keyword.upper(), " ".join(arguments.split())))
    return parsed


def stages(path: Path = DOCKERFILE) -> list[Stage]:
    """The build stages, in order, their FROM images resolved with the ARG defaults."""
    build_arguments: dict[str, str] = {}
    found: list[Stage] = []
    for instruction in instructions(path.read_text(encoding="utf-8")):
        if instruction.keyword == "ARG" and not found:
            name, _, default = instruction.arguments.partition("=")
            build_arguments[name] = default
        elif instruction.keyword == "FROM":
            image, _, name = instruction.arguments.partition(" AS ")
            base = re.sub(r"\$\{(\w+)\}", lambda m: build_arguments[m.group(1)], image)
            found.append(Stage(base=base, name=name))
        elif found:
            found[-1].instructions.append(instruction)
    return found


def stage(name: str) -> Stage:
    """The build stage of that name."""
    [named] = [s for s in stages() if s.name == name]
    return named
