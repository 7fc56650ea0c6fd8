"""Every KQL query the stacks deploy (alert rules and workbooks) parses and resolves with Kusto.Language
against the documented columns of the tables it reads; a wrong name or a syntax error fails."""

import json

import pytest

from infra import kql, workbook
from infra.stacks import ENVIRONMENTS
from infra.tools.mock_run import StackRun, run_stacks

RULE = "azure-native:monitor:ScheduledQueryRule"
WORKBOOK = "azure-native:applicationinsights:Workbook"


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_stacks(ENVIRONMENTS)


def deployed_queries(run: StackRun) -> dict[str, str]:
    found = {
        f"rule {rule.inputs['ruleName']}": condition["query"]
        for rule in run.of_type(RULE)
        for condition in rule.inputs["criteria"]["allOf"]
    }
    for item in run.of_type(WORKBOOK):
        queries = workbook.item_queries(json.loads(item.inputs["serializedData"]))
        found.update({f"workbook {name}": query for name, query in queries.items()})
    return found


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_deployed_query_is_valid_kql_on_the_workspace_tables(
    runs: dict[str, StackRun], environment: str
) -> None:
    queries = deployed_queries(runs[environment])
    assert sum(name.startswith("rule ") for name in queries) >= 6
    assert sum(name.startswith("workbook ") for name in queries) >= 9
    assert {name: found for name, found in kql.errors(queries).items() if found} == {}


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("AppRequests | where DurationMs > 1 | summarize percentile(Duration, 95)", "'Duration'"),
        ("requests | take 1", "'requests'"),
        ("AppMetrics | summarize sum(Value)", "'Value'"),
        ("AppEvents | where Name ==", "Missing expression"),
        ("AppRequests | summarize count() by bin(TimeGenerated)", "bin"),
    ],
)
def test_a_wrong_name_or_syntax_is_an_error(query: str, error: str) -> None:
    [found] = kql.errors({"q": query}).values()
    assert found and error in " ".join(found)


def test_the_classic_scope_has_the_classic_names_only() -> None:
    classic = kql.errors(
        {"classic": "requests | summarize percentile(duration, 95) by cloud_RoleName"}, scope=kql.CLASSIC
    )
    assert classic == {"classic": []}
    [found] = kql.errors({"q": "AppRequests | take 1"}, scope=kql.CLASSIC).values()
    assert "'AppRequests'" in " ".join(found)


def test_a_missing_parser_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(kql, "PACKAGE", tmp_path / "absent")
    with pytest.raises(kql.KustoUnavailable, match="make kusto"):
        kql.errors({"q": "AppRequests"})
    monkeypatch.setattr(kql.shutil, "which", lambda _name: None)
    with pytest.raises(kql.KustoUnavailable, match="apt-get install nodejs"):
        kql.errors({"q": "AppRequests"})


def test_a_validator_that_stops_is_reported_and_the_next_check_starts_another(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    broken = tmp_path / "broken.js"
    broken.write_text('process.stderr.write("no parser here"); process.exit(3);\n')
    monkeypatch.setattr(kql, "VALIDATOR", broken)
    kql._validator.cache_clear()
    with pytest.raises(kql.KustoUnavailable, match="failed to run: no parser here"):
        kql.errors({"q": "AppRequests | take 1"})
    monkeypatch.undo()
    assert kql.errors({"q": "AppRequests | take 1"}) == {"q": []}
