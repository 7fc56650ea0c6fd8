"""The workbook of every environment is valid for Azure Monitor's workbook schema, shows each onboarded
project's panels, reads the telemetry contract's names and trains' data from the first environment."""

import json
from functools import cache
from typing import Any

import jsonschema
import pytest

from infra import telemetry, workbook
from infra.components.workbook import Workbook, WorkbookArgs
from infra.tools.mock_run import REPO_ROOT
from tests.infra.component_mocks import SUBSCRIPTION, TAGS, Recorder, resolve

SCHEMA_FILE = REPO_ROOT / "vendor" / "azure-monitor" / "workbook.schema.json"
QA = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-mlops-qa/providers"
WORKSPACE = f"{QA}/Microsoft.OperationalInsights/workspaces/log-mlops-qa"
FIRST = "/subscriptions/0000/resourceGroups/rg-dev/providers/Microsoft.OperationalInsights/workspaces/log-dev"
INSIGHTS = f"{QA}/Microsoft.Insights/components/appi-mlops-qa"


@cache
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def schema_errors(document: dict[str, Any]) -> list[str]:
    return [error.message for error in validator().iter_errors(document)]


def build() -> Workbook:
    return Workbook(
        "workbook",
        WorkbookArgs(
            resource_group_name="rg-mlops-qa",
            location="westeurope",
            prefix="mlops",
            environment="qa",
            slugs=["credit-scoring", "churn"],
            workspace_id=WORKSPACE,
            training_workspace_id=FIRST,
            app_insights_id=INSIGHTS,
            tags=TAGS,
        ),
    )


def test_the_deployed_workbook_is_valid_and_shows_every_project(recorder: Recorder) -> None:
    resolve(lambda: build().workbook_id)
    inputs = recorder.one("azure-native:applicationinsights:Workbook").inputs
    assert inputs["kind"] == "shared" and inputs["category"] == "workbook"
    assert inputs["version"] == workbook.VERSION
    assert inputs["resourceName"] == workbook.resource_name("mlops", "qa")
    assert inputs["sourceId"] == INSIGHTS.lower()
    document = json.loads(inputs["serializedData"])
    assert schema_errors(document) == []
    queries = workbook.item_queries(document)
    for slug in ("credit-scoring", "churn"):
        panels = {name.removeprefix(f"{slug}-") for name in queries if name.startswith(f"{slug}-")}
        assert panels == {*workbook.project_queries(slug), "training"}
    items = {item["name"]: item for item in document["items"]}
    assert items["churn-training"]["content"]["crossComponentResources"] == [FIRST]
    assert items["churn-latency"]["content"]["crossComponentResources"] == [WORKSPACE]


def test_panels_read_the_contracts_names() -> None:
    queries = workbook.queries(["churn"])
    text = "\n".join(queries.values())
    for name in (
        telemetry.DRIFT_PSI.name,
        telemetry.DRIFT_CHECKED.name,
        telemetry.MODEL_TRAINED.name,
        telemetry.PIPELINE_FAILED.name,
        telemetry.INFERENCE_RECORDS_WRITTEN.name,
        telemetry.INFERENCE_RECORDS_DROPPED.name,
        telemetry.MODEL_VERSION,
    ):
        assert name in text
    assert all('AppRoleName == "churn"' in query for query in queries.values())


def test_the_resource_name_is_a_stable_uuid_per_environment() -> None:
    name = workbook.resource_name("mlops", "qa")
    assert name == workbook.resource_name("mlops", "qa") != workbook.resource_name("mlops", "prod")
    assert len(name) == 36 and name.count("-") == 4


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("version", ...),
        ("items", ...),
        ("items.1.type", 99),
        ("items.2.content", ...),
        ("items.3.content.query", 42),
        ("items.3.content.size", "small"),
    ],
)
def test_the_schema_refuses_a_broken_workbook(path: str, value: object) -> None:
    document = workbook.document("qa", ["churn"], WORKSPACE, FIRST)
    assert schema_errors(document) == []
    *parents, last = path.split(".")
    node: Any = document
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is ...:
        del node[last]
    else:
        node[int(last) if isinstance(node, list) else last] = value
    assert schema_errors(document)
