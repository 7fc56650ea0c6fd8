"""Every file in pipelines/ is valid under the Azure Pipelines schema that check-jsonschema ships.

That schema lists the tasks built into Azure DevOps. The schema of a real organisation (its
`_apis/distributedtask/yamlschema`) also lists the tasks of the extensions installed in it; these
pipelines use one, the Pulumi task, so the files that use it are checked against the shipped schema plus
that task, with the inputs its task.json declares (pulumi/pulumi-az-pipelines-task, version 1).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.preflight.azure_pipelines import PIPELINES, all_jobs, expand

SCHEMA_ARGS = ["--data-transform", "azure-pipelines", "--regex-variant", "nonunicode"]
# A job's id: what the shipped schema allows once compiled. In a template it may also be made of template
# expressions, which Azure DevOps replaces before it reads the id ("- job: ${{ parameters.name }}",
# learn.microsoft.com/azure/devops/pipelines/yaml-schema/jobs-template); the shipped schema checks files as
# written and refuses that, so the compiled ids are held to it by test_compiled_job_ids_are_reference_names.
REFERENCE_NAME = re.compile(r"^[-_A-Za-z0-9]*$")
TEMPLATE_JOB_ID = r"^([-_A-Za-z0-9]|\$\{\{[^}]*\}\})*$"

# Extension tasks the pipelines may use, with the inputs of their task.json and the type of each.
EXTENSION_TASKS = {
    "Pulumi@1": {
        "azureSubscription": "string",
        "command": "string",
        "args": "string",
        "loginArgs": "string",
        "cwd": "string",
        "stack": "string",
        "versionSpec": "string",
        "createStack": "boolean",
        "createPrComment": "boolean",
        "useThreadedPrComments": "boolean",
    }
}
REQUIRED_INPUTS = {"Pulumi@1": ["command", "stack"]}


def check_jsonschema() -> str:
    executable = Path(sys.executable).parent / "check-jsonschema"
    if not executable.exists():
        pytest.fail(
            "check-jsonschema is missing from the virtual environment: run `make setup` (dev dependency)"
        )
    return str(executable)


def run_check(files: list[Path], schema: list[str]) -> subprocess.CompletedProcess[str]:
    command = [check_jsonschema(), *schema, *SCHEMA_ARGS, *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def tasks(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("task"), str):
            yield node["task"]
        for value in node.values():
            yield from tasks(value)
    elif isinstance(node, list):
        for item in node:
            yield from tasks(item)


def builtin_schema() -> dict[str, Any]:
    schema = resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "azure-pipelines.json"
    return json.loads(schema.read_text())


def with_template_job_ids(schema: dict[str, Any]) -> dict[str, Any]:
    schema["definitions"]["job"]["anyOf"][0]["properties"]["job"] = {
        "type": "string",
        "pattern": TEMPLATE_JOB_ID,
    }
    return schema


def with_extension_tasks(schema: dict[str, Any]) -> dict[str, Any]:
    task = schema["definitions"]["task"]
    for name, inputs in EXTENSION_TASKS.items():
        task["properties"]["task"]["anyOf"].append({"enum": [name]})
        task["anyOf"].append(
            {
                "properties": {
                    "task": {"pattern": f"^{name}$"},
                    "inputs": {
                        "properties": {key: {"type": kind} for key, kind in inputs.items()},
                        "additionalProperties": False,
                        "required": REQUIRED_INPUTS[name],
                    },
                },
                "required": ["task", "inputs"],
            }
        )
    return schema


@pytest.fixture(scope="module")
def builtin(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = tmp_path_factory.mktemp("schema") / "azure-pipelines.json"
    path.write_text(json.dumps(with_template_job_ids(builtin_schema())))
    return ["--schemafile", str(path)]


@pytest.fixture(scope="module")
def extended_schema(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = tmp_path_factory.mktemp("schema") / "azure-pipelines-with-extensions.json"
    path.write_text(json.dumps(with_extension_tasks(with_template_job_ids(builtin_schema()))))
    return ["--schemafile", str(path)]


PIPELINE_FILES = sorted(PIPELINES.rglob("*.yml"))


def uses_extension(path: Path) -> bool:
    return bool(set(tasks(yaml.safe_load(path.read_text()))) & EXTENSION_TASKS.keys())


USES_EXTENSION = [path for path in PIPELINE_FILES if uses_extension(path)]


def test_every_pipeline_file_is_checked() -> None:
    assert {path.name for path in PIPELINE_FILES} >= {"pr.yml", "deploy.yml", "drift.yml", "template.yml"}
    assert not list(PIPELINES.rglob("*.yaml")), "name pipeline files *.yml"


def test_files_without_extension_tasks_pass_the_builtin_schema(builtin: list[str]) -> None:
    result = run_check([path for path in PIPELINE_FILES if path not in USES_EXTENSION], builtin)
    assert result.returncode == 0, result.stdout + result.stderr


def test_files_with_extension_tasks_pass_the_schema_extended_by_them(extended_schema: list[str]) -> None:
    assert USES_EXTENSION
    result = run_check(USES_EXTENSION, extended_schema)
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_known_extension_tasks_are_used() -> None:
    builtin = {
        option["enum"][0]
        for option in builtin_schema()["definitions"]["task"]["properties"]["task"]["anyOf"]
        if "enum" in option
    }
    used = {name for path in PIPELINE_FILES for name in tasks(yaml.safe_load(path.read_text()))}
    assert used - builtin <= EXTENSION_TASKS.keys()


def steps(*items: dict[str, Any]) -> dict[str, Any]:
    return {"steps": list(items)}


BROKEN = {
    "misspelt-input": steps(
        {"task": "Pulumi@1", "inputs": {"command": "preview", "stack": "dev", "createPrComent": True}}
    ),
    "missing-input": steps({"task": "Pulumi@1", "inputs": {"command": "preview"}}),
    "unknown-task": steps({"task": "Terraform@1", "inputs": {"command": "apply"}}),
    "space-in-job-id": {"jobs": [{"job": "build ${{ parameters.x }}", "steps": [{"script": "make"}]}]},
}


def test_the_schema_check_can_fail(tmp_path: Path, extended_schema: list[str]) -> None:
    files = []
    for name, document in BROKEN.items():
        path = tmp_path / f"{name}.yml"
        path.write_text(yaml.safe_dump(document))
        files.append(path)
    result = run_check(files, extended_schema)
    assert result.returncode != 0
    # check-jsonschema names every file that fails.
    assert all(f"{path}::" in result.stdout for path in files), result.stdout


def job_id_problems(pipeline: dict[str, Any]) -> list[str]:
    ids = [str(job.get("job") or job.get("deployment")) for job in all_jobs(pipeline)]
    return [job_id for job_id in ids if not REFERENCE_NAME.fullmatch(job_id)]


@pytest.mark.parametrize("name", ["pr.yml", "deploy.yml", "drift.yml", "template.yml"])
def test_compiled_job_ids_are_reference_names(name: str) -> None:
    assert job_id_problems(expand(PIPELINES / name)) == []


def test_a_compiled_job_id_with_what_an_expression_left_is_refused() -> None:
    pipeline = {"jobs": [{"job": "qa-cluster.in network", "steps": []}, {"job": "qa_cluster", "steps": []}]}
    assert job_id_problems(pipeline) == ["qa-cluster.in network"]
