"""The preflight's outputs: build/preflight.json for tools, build/preflight.md for a reviewer."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

from infra.preflight.run import Result


def as_json(result: Result) -> str:
    document = {
        "entries": [entry.as_json() for entry in result.entries],
        "unused_assignments": [
            {
                "stack": assignment.stack,
                "principal": assignment.principal,
                "role": assignment.role.name,
                "scope": assignment.scope,
                "reason": assignment.description,
            }
            for assignment in result.unused
        ],
    }
    return json.dumps(document, indent=1) + "\n"


def failures(result: Result) -> Iterator[str]:
    for entry in result.entries:
        if not entry.ok:
            yield entry.failure_line()
    for assignment in result.unexplained:
        yield (
            f"{assignment.stack}: {assignment.role.name} for {assignment.principal} on {assignment.scope} "
            "is used by no step and has no description saying what needs it"
        )


def summary(result: Result, elapsed: float) -> str:
    failed = sum(not entry.ok for entry in result.entries)
    return (
        f"preflight: {len(result.entries)} operations checked, {failed} refused, "
        f"{len(result.unused)} role assignments used by no pipeline step "
        f"({len(result.unexplained)} unexplained), {elapsed:.1f} s"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def as_markdown(result: Result, elapsed: float) -> str:
    lines = ["# Preflight", "", summary(result, elapsed), ""]
    refused = [entry for entry in result.entries if not entry.ok]
    if refused:
        lines += [
            "## Refused",
            "",
            "| pipeline | stage | step | identity | operation | resource | why |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(e.pipeline)} | {_cell(e.stage)} | {_cell(e.step)} | {_cell(e.identity)} | "
            f"{_cell(e.operation)} | {_cell(e.resource)} | {_cell(e.problem)} |"
            for e in refused
        ]
        lines.append("")
    lines += [
        "## What each identity uses",
        "",
        "| identity | role or permission | scope | operations |",
        "|---|---|---|---:|",
    ]
    used = Counter(
        (entry.identity, entry.granted_by.role, entry.granted_by.scope)
        for entry in result.entries
        if entry.granted_by is not None and entry.identity != "pipeline rule"
    )
    lines += [
        f"| {_cell(identity)} | {_cell(role)} | {_cell(scope)} | {count} |"
        for (identity, role, scope), count in sorted(used.items())
    ]
    lines += ["", "## Role assignments no pipeline step uses", ""]
    if result.unused:
        lines += ["| stack | role | principal | scope | what needs it |", "|---|---|---|---|---|"]
        lines += [
            f"| {a.stack} | {a.role.name} | {_cell(a.principal)} | {_cell(a.scope)} | "
            f"{_cell(a.description) or '**nothing: remove it**'} |"
            for a in result.unused
        ]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"
