"""Azure Pipelines run conditions: what a custom `condition:` does to the default.

"When you specify a condition property for a stage, job, or step, you overwrite the default
condition: succeeded()" (learn.microsoft.com/azure/devops/pipelines/process/conditions). A condition that
names no status function therefore runs after a failed dependency; one that names failed(), always() or
succeededOrFailed() may run after a failure on purpose. A condition may also read the output variables of
the jobs a job depends on ("Expressions", Dependencies, learn.microsoft.com/azure/devops/pipelines/process/
expressions), which is how the platform's pipelines pick the agent of an in-cluster stack.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from infra.preflight.expressions import ExpressionError, evaluate

DEFAULT = "succeeded()"
_STATUS = re.compile(r"\b(succeeded|failed|always|succeededOrFailed|canceled)\s*\(", re.IGNORECASE)
_AFTER_FAILURE = re.compile(r"\b(failed|always|succeededOrFailed)\s*\(", re.IGNORECASE)
# not(failed()) and not(canceled()) read as "nothing failed", the same as succeeded() for dependencies.
_NEGATED = re.compile(r"\bnot\s*\(\s*(failed|canceled)\s*\(\s*\)\s*\)", re.IGNORECASE)


def names_status(condition: str | None) -> bool:
    """Whether the condition keeps a status check (the default one, or one it names)."""
    return condition is None or bool(_STATUS.search(condition))


def may_run_after_failure(condition: str | None) -> bool:
    """Whether the stage, job or step can run although something before it failed."""
    if condition is None:
        return False
    if not names_status(condition):
        return True
    return bool(_AFTER_FAILURE.search(_NEGATED.sub("", condition)))


# Status functions as they answer on the path the walk follows, where everything before succeeded.
_AFTER_SUCCESS: Mapping[str, Callable[..., bool]] = {
    "succeeded": lambda *_jobs: True,
    "succeededorfailed": lambda *_jobs: True,
    "always": lambda *_jobs: True,
    "failed": lambda *_jobs: False,
    "canceled": lambda *_jobs: False,
}


def runs_after_success(condition: str | None, outputs: Mapping[str, Mapping[str, str]]) -> bool | None:
    """Whether a job runs once the jobs before it succeeded: its condition evaluated with their output
    variables (`dependencies.<job>.outputs['<step>.<variable>']`), given as {job: {"<step>.<variable>":
    value}}. None when the condition reads anything else: the job may run."""
    if condition is None:
        return True
    dependencies = {job: {"outputs": dict(values), "result": "Succeeded"} for job, values in outputs.items()}

    def resolve(name: str) -> Any:
        if name == "dependencies":
            return dependencies
        raise ExpressionError(f"{name} is not known before the run")

    try:
        return bool(evaluate(condition, resolve, _AFTER_SUCCESS))
    except ExpressionError:
        return None


_NAMED_STATUS = re.compile(r"\b(?:succeeded|failed|succeededOrFailed)\s*\(([^()]*)\)", re.IGNORECASE)
_QUOTED = re.compile(r"'([^']*)'")


def named_dependencies(condition: str | None) -> set[str]:
    """The stages or jobs a condition's status functions name (`failed('A', 'B')`): each must be a direct
    dependency, since "with job names as arguments" the function reads those results from the
    dependencies (learn.microsoft.com/azure/devops/pipelines/process/expressions, "Job status check
    functions")."""
    if condition is None:
        return set()
    return {name for arguments in _NAMED_STATUS.findall(condition) for name in _QUOTED.findall(arguments)}
