"""Read this repository's Azure Pipelines the way Azure DevOps compiles them, for the subset they use.

`expand()` inlines local templates, binds their parameters (defaults, types, allowed values) and
evaluates `${{ parameters.x }}`, loop variables and `${{ each }}`. A conditional insertion
(`${{ if }}`, `${{ else }}`) whose condition is not a plain boolean parameter is taken on every branch, so
a check that holds on the expansion holds whatever the condition. Any other template expression is an
error: the tests must not reason about YAML they cannot read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
PIPELINES = REPO_ROOT / "pipelines"

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_EACH = re.compile(r"each (\w+) in (.+)")
_IF = re.compile(r"(?:if|elseif) (.+)|else")
_PARAMETER = re.compile(r"parameters\.(\w+)")
_LOOP_VARIABLE = re.compile(r"\w+")
_TEMPLATE_LISTS = ("stages", "jobs", "steps")


class TemplateError(ValueError):
    """A construct the expansion does not understand, or a template used against its parameters."""


@dataclass(frozen=True)
class Scope:
    parameters: Mapping[str, Any]
    loop: Mapping[str, Any] = field(default_factory=dict)

    def value(self, expression: str) -> Any:
        if match := _PARAMETER.fullmatch(expression):
            if match.group(1) not in self.parameters:
                raise TemplateError(f"unknown parameter in ${{{{ {expression} }}}}")
            return self.parameters[match.group(1)]
        if _LOOP_VARIABLE.fullmatch(expression) and expression in self.loop:
            return self.loop[expression]
        raise TemplateError(f"unsupported template expression ${{{{ {expression} }}}}")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _coerce(declared: Mapping[str, Any], value: Any) -> Any:
    # Azure Pipelines reads every scalar as a string and converts it to the parameter's type.
    kind = declared.get("type", "string")
    if kind == "boolean":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise TemplateError(f"parameter {declared['name']} is boolean, got {value!r}")
    if kind == "number":
        return int(value)
    if kind == "string" and isinstance(value, str | int):
        return str(value)
    return value


def bind(declared: list[Mapping[str, Any]], given: Mapping[str, Any], where: str) -> dict[str, Any]:
    names = {parameter["name"] for parameter in declared}
    if unknown := set(given) - names:
        raise TemplateError(f"{where} has no parameters {sorted(unknown)}")
    bound = {}
    for parameter in declared:
        name = parameter["name"]
        if name in given:
            value = given[name]
        elif "default" in parameter:
            value = parameter["default"]
        else:
            raise TemplateError(f"{where} needs parameter {name}")
        value = _coerce(parameter, value)
        if "values" in parameter and value not in parameter["values"]:
            raise TemplateError(f"{where}: {name}={value!r} is not one of {parameter['values']}")
        bound[name] = value
    return bound


def _render(text: str, scope: Scope) -> Any:
    if match := _EXPRESSION.fullmatch(text):
        return scope.value(match.group(1))

    def stringify(match: re.Match[str]) -> str:
        value = scope.value(match.group(1))
        # Booleans render as True/False, as Azure Pipelines renders them.
        return str(value)

    return _EXPRESSION.sub(stringify, text)


def _condition_holds(condition: str | None, scope: Scope) -> bool:
    if condition is not None and (match := _PARAMETER.fullmatch(condition)):
        return bool(scope.value(match.group(0)))
    return True


def _directive(node: Any) -> tuple[str, Any] | None:
    if isinstance(node, dict) and len(node) == 1:
        key, body = next(iter(node.items()))
        if isinstance(key, str) and (match := _EXPRESSION.fullmatch(key)):
            return match.group(1), body
    return None


def _expand_list(items: list[Any], scope: Scope, directory: Path) -> list[Any]:
    expanded: list[Any] = []
    for item in items:
        if directive := _directive(item):
            expression, body = directive
            if each := _EACH.fullmatch(expression):
                variable, collection = each.groups()
                for value in scope.value(collection):
                    inner = Scope(scope.parameters, {**scope.loop, variable: value})
                    expanded += _expand_list(body, inner, directory)
            elif condition := _IF.fullmatch(expression):
                if _condition_holds(condition.group(1), scope):
                    expanded += _expand_list(body, scope, directory)
            else:
                raise TemplateError(f"unsupported directive ${{{{ {expression} }}}}")
        elif isinstance(item, dict) and isinstance(item.get("template"), str):
            expanded += _inline(item, scope, directory)
        else:
            expanded.append(_expand(item, scope, directory))
    return expanded


def _inline(reference: Mapping[str, Any], scope: Scope, directory: Path) -> list[Any]:
    path = (directory / _render(reference["template"], scope)).resolve()
    template = load(path)
    given = _expand(reference.get("parameters", {}), scope, directory)
    inner = Scope(bind(template.get("parameters", []), given, str(path.relative_to(REPO_ROOT))))
    (kind,) = [key for key in _TEMPLATE_LISTS if key in template]
    return _expand_list(template[kind], inner, path.parent)


def _expand(node: Any, scope: Scope, directory: Path) -> Any:
    if isinstance(node, str):
        return _render(node, scope)
    if isinstance(node, list):
        return _expand_list(node, scope, directory)
    if isinstance(node, dict):
        expanded: dict[Any, Any] = {}
        for key, value in node.items():
            match = _EXPRESSION.fullmatch(key) if isinstance(key, str) else None
            if match is None:
                name = _render(key, scope) if isinstance(key, str) else key
                expanded[name] = _expand(value, scope, directory)
                continue
            condition = _IF.fullmatch(match.group(1))
            if condition is None:
                raise TemplateError(f"unsupported mapping key {key}")
            if _condition_holds(condition.group(1), scope):
                expanded.update(_expand(value, scope, directory))
        return expanded
    return node


def expand(path: Path) -> dict[str, Any]:
    """A pipeline with its templates inlined and its runtime parameters at their defaults."""
    pipeline = load(path)
    scope = Scope(bind(pipeline.get("parameters", []), {}, str(path.relative_to(REPO_ROOT))))
    return _expand({key: value for key, value in pipeline.items() if key != "parameters"}, scope, path.parent)


def stages(pipeline: Mapping[str, Any]) -> list[dict[str, Any]]:
    return pipeline.get("stages") or [{"stage": "__default", "jobs": pipeline["jobs"]}]


def job_steps(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    if "deployment" in job:
        return job["strategy"]["runOnce"]["deploy"]["steps"]
    return job["steps"]


def all_jobs(pipeline: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for stage in stages(pipeline):
        yield from stage["jobs"]


def all_steps(pipeline: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for job in all_jobs(pipeline):
        yield from job_steps(job)


def script_text(step: Mapping[str, Any]) -> str | None:
    """The shell a step runs, inline scripts of tasks included."""
    for key in ("script", "bash", "pwsh", "powershell"):
        if key in step:
            return step[key]
    return step.get("inputs", {}).get("inlineScript")
