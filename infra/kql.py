"""Validate KQL with Kusto.Language, the parser and semantic analyzer behind Azure Data Explorer and Azure
Monitor Logs (npm `@kusto/language-service-next`, run by node: infra/kusto/validate.js).

Every query is analysed against the tables it may read, with the columns Microsoft documents for them
(vendor/azure-monitor/app-tables.json): a misspelt table, column or function, a syntax error or a wrong
argument type is an error here rather than a rule that Azure refuses, or worse accepts and never fires.
"""

from __future__ import annotations

import atexit
import json
import shutil
import subprocess
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[1]
KUSTO: Final = ROOT / "infra" / "kusto"
VALIDATOR: Final = KUSTO / "validate.js"
PACKAGE: Final = KUSTO / "node_modules" / "@kusto" / "language-service-next"
TABLES_FILE: Final = ROOT / "vendor" / "azure-monitor" / "app-tables.json"
# Scopes a query runs in: a Log Analytics workspace sees the App* tables, an Application Insights resource
# the classic ones (learn.microsoft.com/azure/azure-monitor/app/convert-classic-resource, "Table schemas").
WORKSPACE: Final = "workspace"
CLASSIC: Final = "classic"


class KustoUnavailable(RuntimeError):
    """node or the Kusto package is missing: the message says how to install them."""


@cache
def tables(scope: str = WORKSPACE) -> dict[str, dict[str, str]]:
    """{table: {column: Kusto type}} of the Application Insights tables in a query scope."""
    document = json.loads(TABLES_FILE.read_text())
    return {name: dict(entry["columns"]) for name, entry in document[scope].items()}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise KustoUnavailable(
            "the KQL check needs Node.js 18 or later: `apt-get install nodejs npm`, then `make kusto`"
        )
    if not PACKAGE.is_dir():
        raise KustoUnavailable(f"the Kusto parser is not installed in {KUSTO}: run `make kusto` (npm ci)")
    return node


@cache
def _validator(node: str) -> subprocess.Popen[str]:
    """The validator, started once a process: starting Kusto.Language takes seconds, a check milliseconds.
    It stops when its input closes, at this process's exit at the latest."""
    validator = subprocess.Popen(
        [node, str(VALIDATOR)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=KUSTO,
    )
    atexit.register(_stop, validator)
    return validator


def _stop(validator: subprocess.Popen[str]) -> None:
    for stream in (validator.stdin, validator.stdout, validator.stderr):
        if stream is not None:
            stream.close()
    validator.wait(timeout=10)


def errors(queries: Mapping[str, str], scope: str = WORKSPACE) -> dict[str, list[str]]:
    """The errors of each query, by its id; an empty list for a query that parses and resolves."""
    validator = _validator(_node())
    request = json.dumps({"tables": tables(scope), "queries": dict(queries)})
    assert validator.stdin is not None and validator.stdout is not None and validator.stderr is not None
    try:
        validator.stdin.write(request + "\n")
        validator.stdin.flush()
        answer = validator.stdout.readline()
    except BrokenPipeError:
        answer = ""
    if not answer:
        _validator.cache_clear()
        message = validator.stderr.read().strip()
        _stop(validator)
        raise KustoUnavailable(f"the KQL check failed to run: {message}")
    return json.loads(answer)
