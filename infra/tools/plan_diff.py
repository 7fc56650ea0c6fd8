"""Offline plan diff: what a change to the program or the stack files does to every stack.

`python -m infra.tools.plan_diff --base <checkout> [--head <checkout>] --out build/plan-diff.md`
runs both checkouts' programs under the mock runtime (another checkout in its own interpreter) and
writes, per stack, the added, removed and changed resources with the settings that changed: a
Markdown document ready to post as a pull-request comment.
"""

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from infra.stacks import EVERY
from infra.tools.mock_run import REPO_ROOT, DeclaredResource, StackRun, run_stack
from infra.tools.plan import component_label, resource_label, reviewed_settings
from infra.tools.plan_settings import flatten, shown

ABSENT = "(absent)"


@dataclass(frozen=True)
class SettingChange:
    path: str
    before: str
    after: str


@dataclass(frozen=True)
class ResourceChange:
    kind: str  # "added", "removed" or "changed"
    resource: str
    component: str
    settings: tuple[SettingChange, ...]


def _changed_settings(before: dict[str, Any], after: dict[str, Any]) -> tuple[SettingChange, ...]:
    paths = sorted(set(before) | set(after))
    return tuple(
        SettingChange(
            path,
            shown(path, before[path]) if path in before else ABSENT,
            shown(path, after[path]) if path in after else ABSENT,
        )
        for path in paths
        if before.get(path, ABSENT) != after.get(path, ABSENT)
    )


def _described(run: StackRun, resource: DeclaredResource, kind: str) -> ResourceChange:
    settings = reviewed_settings(resource) if kind == "added" else {}
    return ResourceChange(
        kind,
        resource_label(resource),
        component_label(run, resource),
        tuple(SettingChange(path, ABSENT, value) for path, value in settings.items()),
    )


def diff_runs(base: StackRun, head: StackRun) -> list[ResourceChange]:
    """Resources are the same when their URN is (type, name and parents), as for the engine."""
    before = {resource.urn: resource for resource in base.resources if resource.custom}
    after = {resource.urn: resource for resource in head.resources if resource.custom}
    changes = [_described(base, before[urn], "removed") for urn in before if urn not in after]
    changes += [_described(head, after[urn], "added") for urn in after if urn not in before]
    for urn in before.keys() & after.keys():
        settings = _changed_settings(flatten(before[urn].inputs), flatten(after[urn].inputs))
        if settings:
            resource = after[urn]
            changes.append(
                ResourceChange("changed", resource_label(resource), component_label(head, resource), settings)
            )
    order = {"removed": 0, "added": 1, "changed": 2}
    return sorted(changes, key=lambda change: (order[change.kind], change.component, change.resource))


def render(diffs: dict[str, list[ResourceChange]], base: Path, head: Path) -> str:
    lines = [
        "# Offline plan diff",
        "",
        f"Base `{base}`, head `{head}`, each program under Pulumi's mock runtime.",
    ]
    for stack, changes in diffs.items():
        counts = {
            kind: sum(change.kind == kind for change in changes) for kind in ("added", "removed", "changed")
        }
        summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        lines += ["", f"## Stack `{stack}`: {summary if changes else 'no changes'}"]
        for change in changes:
            lines += ["", f"### {change.kind}: {change.resource} in {change.component}"]
            if change.settings:
                lines += ["", "| setting | base | head |", "| --- | --- | --- |"]
                lines += [f"| {s.path} | {s.before} | {s.after} |" for s in change.settings]
    return "\n".join(lines) + "\n"


def diff_checkouts(base: Path, head: Path, stacks: Sequence[str] = EVERY) -> dict[str, list[ResourceChange]]:
    return {stack: diff_runs(run_stack(stack, base), run_stack(stack, head)) for stack in stacks}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="checkout of the target branch")
    parser.add_argument(
        "--head", type=Path, default=REPO_ROOT, help="checkout with the change (default: this one)"
    )
    parser.add_argument(
        "--stack", action="append", choices=EVERY, help="a stack to compare (default: every stack)"
    )
    parser.add_argument("--out", type=Path, default=Path("build/plan-diff.md"))
    args = parser.parse_args(argv)
    try:
        diffs = diff_checkouts(args.base.resolve(), args.head.resolve(), args.stack or EVERY)
    except (pulumi.RunError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(diffs, args.base, args.head))
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
