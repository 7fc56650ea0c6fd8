"""What a make target does to Azure and Azure DevOps, as declared beside it in the Makefile.

Every pipeline step calls make targets, and every target that touches a cloud declares it on `#@` lines
directly above its rule, one operation a line:

    #@ action Microsoft.ContainerRegistry/registries/importImage/action on registry $(ACR)
    #@ data Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read on workspace-storage $(WS)
    #@ devops push on branch deploy/$(ENVIRONMENT)
    #@ tool kubelogin
    #@ installs kubelogin
    #@ local
    #@ notifies

`action` and `data` are Azure RBAC control- and data-plane operations on the resource the `on` clause names
(kinds: `walk.resolve`); `devops` an Azure DevOps permission; `tool` a command the agent must have and
`installs` one the target puts there; `local` says the target touches nothing outside the agent; `notifies`
marks a failure notifier, the one kind of target allowed to write after a failure, and then only the
operations in `walk.NOTIFIER_OPERATIONS` (telemetry to Application Insights). A target with
no `#@` line is an error for the preflight whenever a pipeline step reaches it, so a new step cannot be added
without saying what it needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PLANES = ("action", "data", "devops", "tool", "installs", "local", "notifies")
_RULE = re.compile(r"^(?P<targets>[A-Za-z0-9_.%/$()-][^:=]*?)\s*:(?!=)\s*(?P<prerequisites>[^=;]*)$")
_ASSIGNMENT = re.compile(
    r"^(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>\?=|:=|=)\s*(?P<value>.*)$"
)
_VARIABLE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


class DeclarationError(ValueError):
    """A `#@` line the preflight cannot read."""


@dataclass(frozen=True)
class Declaration:
    plane: str
    operation: str
    # The `on` clause: a resource kind and its arguments, still holding make variables.
    kind: str = ""
    arguments: tuple[str, ...] = ()

    def bind(self, variables: Mapping[str, str]) -> Declaration:
        return Declaration(
            self.plane,
            expand_variables(self.operation, variables),
            self.kind,
            tuple(expand_variables(argument, variables) for argument in self.arguments),
        )


@dataclass(frozen=True)
class Target:
    name: str
    prerequisites: tuple[str, ...]
    declarations: tuple[Declaration, ...]
    recipe: tuple[str, ...] = ()

    @property
    def declared(self) -> bool:
        return any(declaration.plane != "notifies" for declaration in self.declarations)

    @property
    def notifier(self) -> bool:
        return any(declaration.plane == "notifies" for declaration in self.declarations)


@dataclass(frozen=True)
class Makefile:
    path: Path
    targets: Mapping[str, Target]
    variables: Mapping[str, str] = field(default_factory=dict)

    def closure(self, name: str) -> Iterator[Target]:
        """The target and, depth first, every target it depends on (each once; file targets skipped)."""
        seen: set[str] = set()

        def visit(current: str) -> Iterator[Target]:
            if current in seen or current not in self.targets:
                return
            seen.add(current)
            target = self.targets[current]
            for prerequisite in target.prerequisites:
                yield from visit(prerequisite)
            yield target

        yield from visit(name)


def expand_variables(text: str, variables: Mapping[str, str]) -> str:
    """`$(NAME)` replaced by its value, repeatedly (values may name other variables); unknown and empty ones
    stay, so that what a step leaves unset is reported by name."""
    for _ in range(10):
        replaced = _VARIABLE.sub(lambda match: variables.get(match.group(1)) or match.group(0), text)
        if replaced == text:
            return replaced
        text = replaced
    return text


def parse_declaration(line: str, where: str) -> Declaration:
    words = line.split()
    if not words or words[0] not in PLANES:
        raise DeclarationError(f"{where}: `#@ {line}` must start with one of {', '.join(PLANES)}")
    plane = words[0]
    if plane in ("local", "notifies"):
        if len(words) != 1:
            raise DeclarationError(f"{where}: `#@ {plane}` takes nothing after it")
        return Declaration(plane, "")
    if len(words) < 2:
        raise DeclarationError(f"{where}: `#@ {plane}` needs an operation")
    operation = words[1]
    rest = words[2:]
    if plane in ("tool", "installs"):
        if rest:
            raise DeclarationError(f"{where}: `#@ {plane} {operation}` takes no `on` clause")
        return Declaration(plane, operation)
    if len(rest) < 2 or rest[0] != "on":
        raise DeclarationError(f"{where}: `#@ {line}` needs `on <kind> <arguments>`")
    return Declaration(plane, operation, rest[1], tuple(rest[2:]))


def parse(path: Path, text: str | None = None) -> Makefile:
    """Rules with their prerequisites, recipes and the `#@` lines right above them; simple variables."""
    lines = (path.read_text() if text is None else text).splitlines()
    targets: dict[str, Target] = {}
    variables: dict[str, str] = {}
    pending: list[Declaration] = []
    current: list[str] = []
    recipe: list[str] = []

    def close() -> None:
        for name in current:
            existing = targets[name]
            targets[name] = Target(name, existing.prerequisites, existing.declarations, tuple(recipe))

    for number, raw in enumerate(lines, 1):
        line = raw.rstrip()
        if line.startswith("\t"):
            recipe.append(line.strip())
            continue
        if line.startswith("#@"):
            pending.append(parse_declaration(line[2:].strip(), f"{path.name}:{number}"))
            continue
        if line.startswith("#") or not line.strip():
            if not line.startswith("#"):
                pending = []
            continue
        close()
        current, recipe = [], []
        if assignment := _ASSIGNMENT.match(line):
            name, op, value = assignment.group("name", "op", "value")
            if op != "?=" or name not in variables:
                variables[name] = value.strip()
            pending = []
            continue
        if (rule := _RULE.match(line)) and not line.startswith("."):
            names = rule.group("targets").split()
            prerequisites = tuple(
                word for word in rule.group("prerequisites").split("|")[0].split() if not word.startswith("$")
            )
            for name in names:
                targets[name] = Target(name, prerequisites, tuple(pending))
            current = names
        pending = []
    close()
    return Makefile(path, targets, variables)


def make_invocations(script: str) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Each `make ...` command of a shell script: its targets and its VAR=value arguments."""
    joined = re.sub(r"\\\n", " ", script)
    for match in re.finditer(r"(?:^|[;&|(`]\s*|\s)make\s+((?:\$\([^)]*\)|[^\n;&|)`])+)", joined):
        words = match.group(1).split()
        targets: list[str] = []
        variables: dict[str, str] = {}
        for word in words:
            if word.startswith("-"):
                continue
            if "=" in word and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
                name, _, value = word.partition("=")
                variables[name] = value.strip("\"'")
            elif re.fullmatch(r"[A-Za-z0-9_.-]+", word):
                targets.append(word)
        yield targets, variables


def declared_targets(makefile: Makefile, names: Sequence[str]) -> list[Target]:
    """The targets a command runs, prerequisites first, each once."""
    ordered: dict[str, Target] = {}
    for name in names:
        for target in makefile.closure(name):
            ordered.setdefault(target.name, target)
    return list(ordered.values())
