"""Azure Pipelines template expressions (`${{ ... }}`), the subset the pipelines here use, evaluated as Azure
DevOps evaluates them at compile time.

Supported: literals ('text' with '' for a quote, numbers, true/false/null), property access
(`parameters.a.b`, `parameters.a[0]`, `parameters['a']`, `variables['Build.Reason']`, loop variables), and
the functions eq, ne, and, or, not, in, notIn, contains, startsWith, endsWith, replace, lower, upper, length,
coalesce, format. Comparison follows the documented rules: strings compare ignoring case, a boolean or number
compares with a string by converting the string.
Source: https://learn.microsoft.com/azure/devops/pipelines/process/expressions (Functions, Type casting).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w.]*)"
    r"|(?P<member>\.[A-Za-z_][\w.]*)|(?P<punct>[()\[\],]))"
)


class ExpressionError(ValueError):
    """An expression outside the supported subset, or one that refers to something unknown."""


class UnknownVariable(ExpressionError):
    """A compile-time variable that the caller did not provide."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def _tokens(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip():
                raise ExpressionError(f"cannot read {text[position:]!r} in {text!r}")
            break
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    return tokens


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value != ""
    return bool(value) if value is not None else False


def _as_comparable(left: Any, right: Any) -> tuple[Any, Any]:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower(), right.lower()
    if isinstance(left, bool) != isinstance(right, bool):
        text, boolean = (left, right) if isinstance(left, str) else (right, left)
        if isinstance(text, str):
            converted = text.strip().lower() == "true" if text.strip().lower() in ("true", "false") else text
            return (converted, boolean) if isinstance(left, str) else (boolean, converted)
    if isinstance(left, int | float) and isinstance(right, str):
        try:
            return left, float(right)
        except ValueError:
            return left, right
    if isinstance(right, int | float) and isinstance(left, str):
        try:
            return float(left), right
        except ValueError:
            return left, right
    return left, right


def _eq(left: Any, right: Any) -> bool:
    a, b = _as_comparable(left, right)
    return a == b


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return "" if value is None else str(value)


FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "eq": _eq,
    "ne": lambda a, b: not _eq(a, b),
    "and": lambda *values: all(_truthy(value) for value in values),
    "or": lambda *values: any(_truthy(value) for value in values),
    "not": lambda value: not _truthy(value),
    "in": lambda value, *candidates: any(_eq(value, candidate) for candidate in candidates),
    "notin": lambda value, *candidates: not any(_eq(value, candidate) for candidate in candidates),
    "contains": lambda haystack, needle: _text(needle).lower() in _text(haystack).lower(),
    "startswith": lambda text, prefix: _text(text).lower().startswith(_text(prefix).lower()),
    "endswith": lambda text, suffix: _text(text).lower().endswith(_text(suffix).lower()),
    "replace": lambda text, old, new: _text(text).replace(_text(old), _text(new)),
    "lower": lambda text: _text(text).lower(),
    "upper": lambda text: _text(text).upper(),
    "length": lambda value: len(value),
    "coalesce": lambda *values: next((value for value in values if _truthy(value)), None),
    "format": lambda template, *values: re.sub(
        r"\{(\d+)\}", lambda match: _text(values[int(match.group(1))]), _text(template)
    ),
}


class _Parser:
    def __init__(
        self, text: str, resolve: Callable[[str], Any], functions: Mapping[str, Callable[..., Any]]
    ) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0
        self.resolve = resolve
        self.functions = functions

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, text: str | None = None) -> _Token:
        token = self.peek()
        if token is None or (text is not None and token.text != text):
            raise ExpressionError(f"expected {text or 'more'} in {self.text!r}")
        self.position += 1
        return token

    def parse(self) -> Any:
        value = self.value()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek().text!r} in {self.text!r}")  # type: ignore[union-attr]
        return value

    def value(self) -> Any:
        token = self.take()
        if token.kind == "string":
            return token.text[1:-1].replace("''", "'")
        if token.kind == "number":
            return float(token.text) if "." in token.text else int(token.text)
        if token.kind != "name":
            raise ExpressionError(f"unexpected {token.text!r} in {self.text!r}")
        lowered = token.text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "null":
            return None
        following = self.peek()
        if following is not None and following.text == "(":
            return self.call(lowered)
        return self.indexed(self.property(token.text))

    def call(self, name: str) -> Any:
        if name not in self.functions:
            raise ExpressionError(f"unsupported function {name}() in {self.text!r}")
        self.take("(")
        arguments = []
        while self.peek() is not None and self.peek().text != ")":  # type: ignore[union-attr]
            arguments.append(self.value())
            if self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.take(",")
        self.take(")")
        return self.functions[name](*arguments)

    def property(self, dotted: str) -> Any:
        head, *rest = dotted.split(".")
        value = self.resolve(head) if rest or head != "variables" else _Variables(self.resolve)
        for part in rest:
            value = _member(value, part, dotted)
        return value

    def indexed(self, value: Any) -> Any:
        while self.peek() is not None and self.peek().text == "[":  # type: ignore[union-attr]
            self.take("[")
            key = self.value()
            self.take("]")
            value = _member(value, key, self.text)
            while (token := self.peek()) is not None and token.kind == "member":
                for part in self.take().text.split(".")[1:]:
                    value = _member(value, part, self.text)
        return value


class _Variables:
    """`variables['Name']`: looked up by the resolver under the key `variables`."""

    def __init__(self, resolve: Callable[[str], Any]) -> None:
        self.resolve = resolve


def _member(value: Any, key: Any, where: str) -> Any:
    if isinstance(value, _Variables):
        variables = value.resolve("variables")
        if key not in variables:
            raise UnknownVariable(f"variables[{key!r}] is not known at compile time here ({where})")
        return variables[key]
    if isinstance(value, list) and isinstance(key, int):
        if not 0 <= key < len(value):
            raise ExpressionError(f"index {key} out of range in {where}")
        return value[key]
    if isinstance(value, Mapping):
        if key not in value:
            raise ExpressionError(f"no {key!r} in {where}")
        return value[key]
    raise ExpressionError(f"cannot read {key!r} of {type(value).__name__} in {where}")


def evaluate(
    text: str, resolve: Callable[[str], Any], functions: Mapping[str, Callable[..., Any]] | None = None
) -> Any:
    """The value of one expression; `resolve` gives the value of a top-level name (`parameters`, a loop
    variable, `variables`) or raises ExpressionError. `functions` adds to the common ones (a runtime
    condition's status functions); their names are lower case, as calls are matched."""
    return _Parser(text, resolve, {**FUNCTIONS, **(functions or {})}).parse()
