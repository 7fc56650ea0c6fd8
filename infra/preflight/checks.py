"""One preflight entry per (stack, pipeline, stage, step, operation): who does what where, and what allows
it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Grant:
    """What allows an operation: an Azure role at a scope, an Azure DevOps permission or policy exemption on
    an object, or a pipeline rule and where it holds."""

    role: str
    scope: str


@dataclass(frozen=True)
class Entry:
    stack: str
    pipeline: str
    stage: str
    step: str
    identity: str
    operation: str
    resource: str
    granted_by: Grant | None
    # Why nothing grants it, in words a reviewer acts on (not part of the JSON contract).
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.granted_by is not None

    def as_json(self) -> Mapping[str, Any]:
        return {
            "stack": self.stack,
            "pipeline": self.pipeline,
            "stage": self.stage,
            "step": self.step,
            "identity": self.identity,
            "operation": self.operation,
            "resource": self.resource,
            "granted_by": asdict(self.granted_by) if self.granted_by else None,
            "ok": self.ok,
        }

    def failure_line(self) -> str:
        where = f"{self.pipeline} > {self.stage} > {self.step}"
        reason = f": {self.problem}" if self.problem else ""
        return f"{where}: {self.identity} may not {self.operation} on {self.resource}{reason}"
