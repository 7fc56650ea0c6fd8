"""The preflight from end to end: stacks under mocks, rendered projects, every pipeline walked."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import naming, outputs
from infra.preflight import makefile
from infra.preflight.azure_pipelines import expand
from infra.preflight.canary import check_canaries
from infra.preflight.checks import Entry
from infra.preflight.order import check_creation_order, check_providers
from infra.preflight.platform import BUILD_DEFINITION, Platform
from infra.preflight.platform_walk import walk_platform_pipelines
from infra.preflight.rbac import Assignment
from infra.preflight.walk import Project, Walk, walk_pipeline
from infra.stacks import ENVIRONMENTS, EVERY, SHARED
from infra.tools import platform_json
from infra.tools.mock_run import REPO_ROOT, StackRun, run_stacks

SERVING_TARGETS = ("aks", "aml-endpoint")


@dataclass(frozen=True)
class Result:
    entries: Sequence[Entry]
    unused: Sequence[Assignment]

    @property
    def unexplained(self) -> list[Assignment]:
        return [assignment for assignment in self.unused if not assignment.description]

    @property
    def ok(self) -> bool:
        return all(entry.ok for entry in self.entries) and not self.unexplained


def render(document: Mapping[str, Any], destination: Path, **answers: Any) -> Path:
    """`copier copy --defaults --data-file platform.json` of this checkout (uncommitted changes included)."""
    import copier
    from copier.errors import DirtyLocalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DirtyLocalWarning)
        copier.run_copy(
            str(REPO_ROOT),
            destination,
            data={**document, **answers},
            defaults=True,
            vcs_ref="HEAD",
            quiet=True,
            unsafe=False,
        )
    return destination


def project_of(platform: Platform, root: Path, slug: str) -> Project:
    shared = platform.outputs(SHARED)
    repository_id = next(
        str(definition.inputs["repository"]["repoId"])
        for _stack, definition in platform.of_type(BUILD_DEFINITION)
        if definition.inputs.get("path") == f"\\{slug}"
    )
    return Project(
        slug=slug,
        root=root,
        repository_id=repository_id,
        main_ref=naming.MAIN_REF,
        pipeline_ids={key: str(int(value)) for key, value in shared[outputs.PIPELINES][slug].items()},
        build_service=str(shared[outputs.DEVOPS_BUILD_SERVICE]),
        build_service_name=f"{shared[outputs.DEVOPS_PROJECT]} build service",
    )


def walk_project(walk: Walk, project: Project, label: str) -> None:
    project_makefile = makefile.parse(project.root / "Makefile")
    for key, path in naming.PROJECT_PIPELINE_FILES.items():
        pipeline = expand(project.root / path, root=project.root)
        walk_pipeline(walk, project, key, pipeline, f"{label} {path}", project_makefile)


def unused_assignments(platform: Platform, walk: Walk) -> list[Assignment]:
    return [assignment for assignment in platform.assignments if assignment.key not in walk.used]


def preflight(runs: Mapping[str, StackRun] | None = None) -> Result:
    runs = runs or run_stacks(EVERY)
    platform = Platform.from_runs(runs)
    document = platform_json.build({stack: run.outputs for stack, run in runs.items()})
    slug = next(iter(platform.outputs(SHARED)[outputs.PIPELINES]))
    walk = Walk(platform)
    walk_platform_pipelines(walk, runs)
    check_creation_order(walk, runs)
    check_providers(walk, runs)
    with tempfile.TemporaryDirectory(prefix="preflight-") as temporary:
        for target in SERVING_TARGETS:
            root = render(document, Path(temporary) / target / slug, project_name=slug, serving_target=target)
            walk_project(walk, project_of(platform, root, slug), f"{slug} ({target})")
            protected = {stack: bool(runs[stack].outputs[outputs.PROTECTED]) for stack in ENVIRONMENTS}
            for entry in check_canaries(root, f"{slug} ({target})", protected):
                walk.add(entry)
    return Result(walk.entries, unused_assignments(platform, walk))
