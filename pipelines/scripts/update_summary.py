"""Markdown summary of a stack's latest update, for the pipeline run's summary page.

    pulumi stack history --stack dev --json | python pipelines/scripts/update_summary.py dev

`pulumi stack history --json` lists updates newest first, each with its `kind`, `result`, `version` and
`resourceChanges` (resources per operation).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

# The operations a reader looks for first; any other Pulumi reports follows in name order.
OPERATION_ORDER = ("create", "update", "replace", "delete", "import", "same")


def summarize(stack: str, history: Sequence[Mapping[str, Any]]) -> str:
    if not history:
        return f"### `{stack}`\n\nNo update recorded.\n"
    latest = history[0]
    changes: Mapping[str, int] = latest.get("resourceChanges") or {}
    operations = [op for op in OPERATION_ORDER if op in changes]
    operations += sorted(set(changes) - set(OPERATION_ORDER))
    lines = [
        f"### `{stack}`: {latest.get('kind', 'update')} {latest.get('result', 'unknown')}"
        f" (version {latest.get('version', '?')})",
        "",
    ]
    if operations:
        lines += ["| resources | count |", "| --- | ---: |"]
        lines += [f"| {op} | {changes[op]} |" for op in operations]
    else:
        lines.append("No resource changes reported.")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: pulumi stack history --json | update_summary.py STACK", file=sys.stderr)
        return 2
    print(summarize(argv[0], json.load(sys.stdin)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
