"""A stack's configuration as the Pulumi CLI hands it to the program: declared defaults from
Pulumi.yaml under the values of Pulumi.<stack>.yaml, every value serialised the CLI's way."""

import json
from pathlib import Path
from typing import Any

import yaml

from infra.config import PROJECT, ConfigError


def _serialise(value: Any) -> str:
    # The CLI passes booleans and numbers as their YAML text and structured values as JSON.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _qualified(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def load(stack: str, root: Path) -> dict[str, str]:
    project = yaml.safe_load((root / "Pulumi.yaml").read_text())
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        raise ConfigError(f"{stack_file.name} does not exist: stacks are {', '.join(sorted(_stacks(root)))}")
    values = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}

    declared = {_qualified(key): spec for key, spec in (project.get("config") or {}).items()}
    merged: dict[str, str] = {}
    for key, spec in declared.items():
        if isinstance(spec, dict) and "default" in spec:
            merged[key] = _serialise(spec["default"])
        elif isinstance(spec, dict) and "value" in spec:
            merged[key] = _serialise(spec["value"])
    for key, value in values.items():
        if key.startswith(f"{PROJECT}:") and key not in declared:
            # The CLI refuses undeclared keys of the project's own namespace; so do we.
            raise ConfigError(f"{stack_file.name}: {key} is not declared in Pulumi.yaml")
        merged[key] = _serialise(value)
    # The CLI also refuses a stack that leaves a declared key without a default unset, whether the program
    # reads it or not (pulumi/pulumi sdk/go/common/workspace, ValidateStackConfigAndApplyProjectConfig).
    missing = [key for key in declared if key not in merged]
    if missing:
        raise ConfigError(
            f"{stack_file.name}: {missing[0]} is missing: Pulumi.yaml declares it without a default, so the "
            f"Pulumi CLI refuses the stack "
            f"(\"Stack '{stack}' is missing configuration value '{missing[0]}'\")"
        )
    return merged


def _stacks(root: Path) -> list[str]:
    return [path.name.split(".")[1] for path in root.glob("Pulumi.*.yaml")]
