"""Offline plan: a readable Markdown plan of a stack, from the program under Pulumi's mock runtime.

`python -m infra.tools.plan [--stack dev ...] [--out-dir build/plan]` writes plan-<stack>.md: the
resources grouped by the component that owns them, each with the settings a reviewer cares about
(SKUs, sizes, counts, protection, network exposure).
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pulumi

from infra.policies.props import short_type
from infra.stacks import EVERY
from infra.tools.exposure import exposures, unreachable_from_azure_devops
from infra.tools.mock_run import DeclaredResource, StackRun, run_stacks
from infra.tools.plan_settings import flatten, is_reviewed, shown

TOP_LEVEL = "stack"


def component_label(run: StackRun, resource: DeclaredResource) -> str:
    component = run.component_of(resource)
    if component is None:
        return TOP_LEVEL
    return f"{component.type.rpartition(':')[2]} `{component.name}`"


def resource_label(resource: DeclaredResource) -> str:
    return f"`{resource.name}` ({short_type(resource.type)})"


def reviewed_settings(resource: DeclaredResource) -> dict[str, str]:
    return {path: shown(path, value) for path, value in flatten(resource.inputs).items() if is_reviewed(path)}


def by_component(run: StackRun) -> dict[str, list[DeclaredResource]]:
    groups: dict[str, list[DeclaredResource]] = {}
    for resource in run.resources:
        if resource.custom:
            groups.setdefault(component_label(run, resource), []).append(resource)
    return groups


EXPOSURE = "network exposure"


def exposure_section(run: StackRun) -> list[str]:
    """What answers on the network, and from where: public endpoints first."""
    exposed = exposures(run)
    rows = sorted(
        (not found.public, component_label(run, resource), resource_label(resource), found.summary)
        for resource in run.resources
        if (found := exposed.get(resource.urn)) is not None
    )
    lines = [
        "",
        "## Network exposure",
        "",
        "| resource | component | reachable from | exposure |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {label} | {component} | {'internet' if not private else 'VNet only'} | {summary} |"
        for private, component, label, summary in rows
    ]
    problems = unreachable_from_azure_devops(run)
    if problems:
        lines += ["", "**Unreachable from Azure DevOps:**", "", *(f"- {problem}" for problem in problems)]
    return lines


def render(run: StackRun) -> str:
    groups = by_component(run)
    count = sum(len(resources) for resources in groups.values())
    exposed = exposures(run)
    lines = [
        f"# Plan of stack `{run.stack}`",
        "",
        f"{count} resources in {len(groups)} groups, declared by the program for Pulumi.{run.stack}.yaml "
        "under Pulumi's mock runtime.",
        *exposure_section(run),
    ]
    for group, resources in groups.items():
        lines += ["", f"## {group}", "", "| resource | settings |", "| --- | --- |"]
        for resource in resources:
            settings = [f"{path}: {value}" for path, value in reviewed_settings(resource).items()]
            if resource.urn in exposed:
                settings.insert(0, f"{EXPOSURE}: {exposed[resource.urn].summary}")
            lines.append(f"| {resource_label(resource)} | {'<br>'.join(settings) or '-'} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stack", action="append", choices=EVERY, help="a stack to plan (default: every stack)"
    )
    parser.add_argument("--out-dir", type=Path, default=Path("build/plan"))
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    try:
        for stack, run in run_stacks(args.stack or EVERY).items():
            path = args.out_dir / f"plan-{stack}.md"
            path.write_text(render(run))
            print(path)
    except pulumi.RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
