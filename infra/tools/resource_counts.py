"""How many resources of each kind a stack declares: a one-glance summary of an offline run."""

from collections import Counter
from collections.abc import Iterable

from infra.tools.mock_run import StackRun


def counts(run: StackRun) -> Counter[str]:
    """Cloud resources (not components) by type token."""
    return Counter(resource.type for resource in run.resources if resource.custom)


def table(runs: Iterable[StackRun]) -> str:
    runs = list(runs)
    per_stack = {run.stack: counts(run) for run in runs}
    types = sorted({type_ for counted in per_stack.values() for type_ in counted})
    header = "| resource type | " + " | ".join(per_stack) + " |"
    rule = "|---|" + "---:|" * len(per_stack)
    rows = [
        f"| `{type_}` | " + " | ".join(str(counted[type_] or "") for counted in per_stack.values()) + " |"
        for type_ in types
    ]
    total = "| **total** | " + " | ".join(f"**{sum(c.values())}**" for c in per_stack.values()) + " |"
    return "\n".join([header, rule, *rows, total])
