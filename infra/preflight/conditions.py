"""Azure Pipelines run conditions: what a custom `condition:` does to the default.

"When you specify a condition property for a stage, job, or step, you overwrite the default
condition: succeeded()" (learn.microsoft.com/azure/devops/pipelines/process/conditions). A condition that
names no status function therefore runs after a failed dependency; one that names failed(), always() or
succeededOrFailed() may run after a failure on purpose.
"""

from __future__ import annotations

import re

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
