"""Azure Pipelines YAML the way Azure DevOps compiles it, for the subset the pipelines here use.

`expand()` inlines local templates, binds their parameters (defaults, types, allowed values) and evaluates
template expressions (`${{ ... }}`, see `expressions.py`): values, `${{ each }}` loops and conditional
insertions (`${{ if }}`, `${{ elseif }}`, `${{ else }}`). Compile-time variables (`variables['Build.Reason']`)
take the values the caller gives; when a condition reads one the caller did not give, every branch of that
insertion is taken, so a check that holds on the expansion holds whatever the variable. Anything else an
expression cannot read is an error: no check may reason about YAML it cannot read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.preflight.expressions import ExpressionError, UnknownVariable, evaluate

REPO_ROOT = Path(__file__).resolve().parents[2]
PIPELINES = REPO_ROOT / "pipelines"

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_EACH = re.compile(r"each (\w+) in (.+)")
_IF = re.compile(r"(if|elseif) (.+)|(else)")
_TEMPLATE_LISTS = ("stages", "jobs", "steps")


class TemplateError(ValueError):
    """A construct the expansion does not understand, or a template used against its parameters."""


@dataclass(frozen=True)
class Scope:
    parameters: Mapping[str, Any]
    loop: Mapping[str, Any] = field(default_factory=dict)
    # None: no compile-time variable is known.
    variables: Mapping[str, Any] | None = None

    def resolve(self, name: str) -> Any:
        if name == "parameters":
            return self.parameters
        if name == "variables":
            if self.variables is None:
                raise UnknownVariable("compile-time variables are not given")
            return self.variables
        if name in self.loop:
            return self.loop[name]
        raise ExpressionError(f"unknown name {name!r}")

    def value(self, expression: str) -> Any:
        try:
            return evaluate(expression, self.resolve)
        except ExpressionError as error:
            raise TemplateError(f"${{{{ {expression} }}}}: {error}") from None

    def with_loop(self, variable: str, value: Any) -> Scope:
        return Scope(self.parameters, {**self.loop, variable: value}, self.variables)


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


class _Chain:
    """An if / elseif / else chain: which branches to take."""

    def __init__(self) -> None:
        self.decided = False

    def take(self, keyword: str, condition: str | None, scope: Scope) -> bool:
        if keyword == "if":
            self.decided = False
        elif self.decided:
            return False
        if keyword == "else":
            return True
        try:
            holds = bool(evaluate(condition or "", scope.resolve))
        except UnknownVariable:
            # Undecidable here: take this branch and the ones after it.
            return True
        except ExpressionError as error:
            raise TemplateError(f"${{{{ {keyword} {condition} }}}}: {error}") from None
        self.decided = holds
        return holds


def _directive(node: Any) -> tuple[str, Any] | None:
    if isinstance(node, dict) and len(node) == 1:
        key, body = next(iter(node.items()))
        if isinstance(key, str) and (match := _EXPRESSION.fullmatch(key)):
            return match.group(1), body
    return None


def _conditional(expression: str) -> tuple[str, str | None] | None:
    if match := _IF.fullmatch(expression):
        keyword = match.group(1) or match.group(3)
        return keyword, match.group(2)
    return None


@dataclass(frozen=True)
class _Context:
    directory: Path
    root: Path


def _expand_list(items: list[Any], scope: Scope, context: _Context) -> list[Any]:
    expanded: list[Any] = []
    chain = _Chain()
    for item in items:
        if directive := _directive(item):
            expression, body = directive
            if each := _EACH.fullmatch(expression):
                variable, collection = each.groups()
                for value in scope.value(collection):
                    expanded += _expand_list(body, scope.with_loop(variable, value), context)
            elif conditional := _conditional(expression):
                if chain.take(*conditional, scope):
                    expanded += _expand_list(body, scope, context)
            else:
                raise TemplateError(f"unsupported directive ${{{{ {expression} }}}}")
        elif isinstance(item, dict) and isinstance(item.get("template"), str):
            expanded += _inline(item, scope, context)
        else:
            expanded.append(_expand(item, scope, context))
    return expanded


def _inline(reference: Mapping[str, Any], scope: Scope, context: _Context) -> list[Any]:
    path = (context.directory / _render(reference["template"], scope)).resolve()
    template = load(path)
    given = _expand(reference.get("parameters", {}), scope, context)
    where = str(path.relative_to(context.root))
    inner = Scope(bind(template.get("parameters", []), given, where), variables=scope.variables)
    (kind,) = [key for key in _TEMPLATE_LISTS if key in template]
    return _expand_list(template[kind], inner, _Context(path.parent, context.root))


def _expand(node: Any, scope: Scope, context: _Context) -> Any:
    if isinstance(node, str):
        return _render(node, scope)
    if isinstance(node, list):
        return _expand_list(node, scope, context)
    if isinstance(node, dict):
        expanded: dict[Any, Any] = {}
        chain = _Chain()
        for key, value in node.items():
            match = _EXPRESSION.fullmatch(key) if isinstance(key, str) else None
            if match is None:
                name = _render(key, scope) if isinstance(key, str) else key
                expanded[name] = _expand(value, scope, context)
                continue
            conditional = _conditional(match.group(1))
            if conditional is None:
                raise TemplateError(f"unsupported mapping key {key}")
            if chain.take(*conditional, scope):
                expanded.update(_expand(value, scope, context))
        return expanded
    return node


def expand(path: Path, root: Path = REPO_ROOT, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A pipeline with its templates inlined and its runtime parameters at their defaults; `root` is the
    repository the pipeline belongs to, `variables` the compile-time variables that are known."""
    pipeline = load(path)
    where = str(path.resolve().relative_to(root.resolve()))
    scope = Scope(bind(pipeline.get("parameters", []), {}, where), variables=variables)
    body = {key: value for key, value in pipeline.items() if key != "parameters"}
    return _expand(body, scope, _Context(path.resolve().parent, root.resolve()))


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
