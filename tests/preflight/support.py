"""What the preflight tests share: the committed stacks' runs, rendered projects, and ways to break them."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from infra import outputs
from infra.platform_pipelines import FILES
from infra.preflight.checks import Entry
from infra.preflight.platform import Platform
from infra.preflight.run import project_of, render, walk_project
from infra.preflight.walk import Walk
from infra.stacks import EVERY, SHARED
from infra.tools import platform_json
from infra.tools.mock_run import DeclaredResource, StackRun, run_stacks

Runs = Mapping[str, StackRun]


def committed_runs() -> dict[str, StackRun]:
    return run_stacks(EVERY)


def slug(runs: Runs) -> str:
    return next(iter(runs[SHARED].outputs[outputs.PIPELINES]))


def render_project(runs: Runs, destination: Path, serving_target: str) -> Path:
    document = platform_json.build({stack: run.outputs for stack, run in runs.items()})
    name = slug(runs)
    return render(document, destination / name, project_name=name, serving_target=serving_target)


def copy_tree(source: Path, destination: Path) -> Path:
    shutil.copytree(source, destination)
    return destination


def platform_copy(destination: Path) -> Path:
    """The files of this repository the platform pipelines' walk reads: Makefile and pipelines/."""
    from infra.tools.mock_run import REPO_ROOT

    destination.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "Makefile", destination / "Makefile")
    shutil.copytree(REPO_ROOT / "pipelines", destination / "pipelines")
    assert all((destination / path).exists() for path in FILES.values())
    return destination


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer contains {old!r}: update the test"
    path.write_text(text.replace(old, new))


def walk_rendered(runs: Runs, root: Path, label: str = "project") -> list[Entry]:
    platform = Platform.from_runs(runs)
    walk = Walk(platform)
    walk_project(walk, project_of(platform, root, slug(runs)), label)
    return walk.entries


def refused(entries: list[Entry]) -> list[Entry]:
    return [entry for entry in entries if not entry.ok]


def mutate(
    runs: Runs,
    stack: str,
    keep: Callable[[DeclaredResource], bool],
    change: Callable[[DeclaredResource], DeclaredResource] = lambda r: r,
) -> dict[str, StackRun]:
    """The runs with one stack's resources filtered by `keep` and rewritten by `change`."""
    run = runs[stack]
    resources = tuple(change(resource) for resource in run.resources if keep(resource))
    return {**runs, stack: StackRun(stack=run.stack, resources=resources, outputs=run.outputs)}


def without_dependencies(resource: DeclaredResource, dropped: set[str]) -> DeclaredResource:
    return dataclasses.replace(
        resource, dependencies=tuple(urn for urn in resource.dependencies if urn not in dropped)
    )
