"""The rules the preflight evaluates by, each against a case that holds and one that does not: Azure's RBAC
matching and scopes, template expressions, run conditions, `#@` declarations."""

import pytest

from infra.preflight import conditions, makefile, walk
from infra.preflight.expressions import ExpressionError, UnknownVariable, evaluate
from infra.preflight.platform_walk import delegation_allows, operation_of
from infra.preflight.rbac import Assignment, grants, matches, narrowest_grant, within
from infra.roles import RoleDefinitions

ROLES = RoleDefinitions.load()
SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
RG = f"{SUB}/resourceGroups/rg-a"
ACR = f"{RG}/providers/Microsoft.ContainerRegistry/registries/cra"


@pytest.mark.parametrize(
    ("pattern", "operation", "expected"),
    [
        ("Microsoft.ContainerRegistry/*", "Microsoft.ContainerRegistry/registries/pull/read", True),
        (
            "microsoft.containerregistry/registries/PULL/read",
            "Microsoft.ContainerRegistry/registries/pull/read",
            True,
        ),
        (
            "Microsoft.MachineLearningServices/workspaces/*/read",
            "Microsoft.MachineLearningServices/workspaces/read",
            False,
        ),
        ("*/read", "Microsoft.Storage/storageAccounts/read", True),
        ("Microsoft.Storage/*/read", "Microsoft.Storage/storageAccounts/write", False),
    ],
)
def test_operation_matching_is_azures(pattern: str, operation: str, expected: bool) -> None:
    assert matches(pattern, operation) is expected


def test_not_actions_exclude_and_star_grants_no_data_action() -> None:
    contributor = ROLES.by_name("Contributor")
    assert grants(contributor, "Microsoft.ContainerRegistry/registries/write", data=False)
    assert not grants(contributor, "Microsoft.Authorization/roleAssignments/write", data=False)
    assert not grants(
        ROLES.by_name("Owner"),
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
        data=True,
    )
    assert grants(
        ROLES.by_name("Storage Blob Data Reader"),
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
        data=True,
    )


def test_scope_contains_what_is_below_it_only() -> None:
    assert within(ACR, RG) and within(ACR, SUB) and within(ACR.upper(), RG)
    assert not within(f"{SUB}/resourceGroups/rg-ab", RG)
    assert not within(RG, ACR)
    assert not within(ACR, "/subscriptions/00000000-0000-0000-0000-000000000002")


def test_the_narrowest_grant_is_the_one_used() -> None:
    reader = Assignment("p", ROLES.by_name("Reader"), SUB, "dev")
    importer = Assignment("p", ROLES.by_name("Container Registry Data Importer and Data Reader"), ACR, "dev")
    other = Assignment("q", ROLES.by_name("Owner"), SUB, "dev")
    chosen = narrowest_grant(
        [reader, importer, other], "p", "Microsoft.ContainerRegistry/registries/read", ACR, False
    )
    assert chosen is importer
    assert (
        narrowest_grant(
            [reader, other], "p", "Microsoft.ContainerRegistry/registries/importImage/action", ACR, False
        )
        is None
    )


def test_a_delegation_condition_limits_the_roles_an_administrator_assigns() -> None:
    from infra.bootstrap.program import delegation_condition

    administrator = ROLES.by_name("Role Based Access Control Administrator")
    reader = ROLES.by_name("Reader").id
    conditioned = Assignment("p", administrator, SUB, "dev", condition=delegation_condition([reader]))
    assert delegation_allows(conditioned, reader)
    assert not delegation_allows(conditioned, ROLES.by_name("Owner").id)
    assert delegation_allows(Assignment("p", administrator, SUB, "dev"), ROLES.by_name("Owner").id)


@pytest.mark.parametrize(
    ("resource_id", "expected"),
    [
        (ACR, "Microsoft.ContainerRegistry/registries/write"),
        (
            f"{RG}/providers/Microsoft.Storage/storageAccounts/st/blobServices/default/containers/c",
            "Microsoft.Storage/storageAccounts/blobServices/containers/write",
        ),
        (RG, "Microsoft.Resources/subscriptions/resourceGroups/write"),
        (
            f"{ACR}/providers/Microsoft.Authorization/roleAssignments/x",
            "Microsoft.Authorization/roleAssignments/write",
        ),
    ],
)
def test_the_operation_of_a_write_follows_the_resource_type(resource_id: str, expected: str) -> None:
    assert operation_of(resource_id, "write") == expected


def test_expressions_evaluate_as_azure_pipelines_does() -> None:
    scope = {
        "parameters": {"env": {"name": "qa", "protected": True}, "envs": [{"name": "dev"}]},
        "variables": {"Build.Reason": "PullRequest"},
    }
    resolve = scope.__getitem__
    assert evaluate("eq(parameters.env.name, 'QA')", resolve) is True
    assert evaluate("eq(parameters.envs[0].name, parameters.env.name)", resolve) is False
    assert (
        evaluate("replace(replace(parameters.env.protected, 'True', 'canary'), 'False', '')", resolve)
        == "canary"
    )
    assert evaluate("and(eq(variables['Build.Reason'], 'PullRequest'), not(false))", resolve) is True
    assert evaluate("format('sc-{0}-{1}', 'a', 'b')", resolve) == "sc-a-b"
    with pytest.raises(ExpressionError):
        evaluate("parameters.env.missing", resolve)
    with pytest.raises(UnknownVariable):
        evaluate("variables['System.Debug']", {"variables": {}}.__getitem__)


@pytest.mark.parametrize(
    ("condition", "keeps_status", "after_failure"),
    [
        (None, True, False),
        ("eq(variables['x'], 'y')", False, True),
        ("and(succeeded(), eq(variables['x'], 'y'))", True, False),
        ("and(not(failed()), not(canceled()), ne(variables['Build.Reason'], 'PullRequest'))", True, False),
        ("failed()", True, True),
        ("succeededOrFailed()", True, True),
    ],
)
def test_conditions_that_replace_the_default_are_recognised(
    condition, keeps_status: bool, after_failure: bool
) -> None:
    assert conditions.names_status(condition) is keeps_status
    assert conditions.may_run_after_failure(condition) is after_failure


def test_declarations_are_read_from_above_their_rule(tmp_path) -> None:
    text = (
        "X ?= default\n"
        "#@ local\n"
        "setup:\n\ttrue\n\n"
        "# A comment between is fine.\n"
        "#@ action Microsoft.ContainerRegistry/registries/read on registry $(ACR)\n"
        "#@ tool az\n"
        "build: setup\n\taz acr build\n\n"
        "undeclared:\n\ttrue\n"
    )
    parsed = makefile.parse(tmp_path / "Makefile", text)
    build = parsed.targets["build"]
    assert [d.plane for d in build.declarations] == ["action", "tool"]
    assert build.declarations[0].bind({"ACR": "cra"}).arguments == ("cra",)
    assert build.declarations[0].bind({"ACR": ""}).arguments == ("$(ACR)",)
    assert [t.name for t in makefile.declared_targets(parsed, ["build"])] == ["setup", "build"]
    assert not parsed.targets["undeclared"].declared
    assert parsed.variables["X"] == "default"
    with pytest.raises(makefile.DeclarationError, match="must start with one of"):
        makefile.parse(tmp_path / "Makefile", "#@ allow everything\nx:\n")
    with pytest.raises(makefile.DeclarationError, match="needs `on <kind> <arguments>`"):
        makefile.parse(tmp_path / "Makefile", "#@ action Microsoft.X/read\nx:\n")


def test_make_invocations_see_variables_and_command_substitutions() -> None:
    script = (
        "v=$(make --silent champion-version WORKSPACE=w)\n"
        "make build-image ACR=a TAG=$(imageTag) \\\n  MODEL=$v"
    )
    assert list(makefile.make_invocations(script)) == [
        (["champion-version"], {"WORKSPACE": "w"}),
        (["build-image"], {"ACR": "a", "TAG": "$(imageTag)", "MODEL": "$v"}),
    ]


def test_a_failure_notifier_is_declared_and_still_says_what_it_does(tmp_path) -> None:
    text = (
        "#@ notifies\n"
        "#@ data Microsoft.Insights/Telemetry/Write on app-insights $(APP_INSIGHTS)\n"
        "notify:\n\ttrue\n\n"
        "#@ notifies\n"
        "bare:\n\ttrue\n"
    )
    parsed = makefile.parse(tmp_path / "Makefile", text)
    assert parsed.targets["notify"].notifier and parsed.targets["notify"].declared
    # `#@ notifies` alone says nothing of what the target does: it is not a declaration of its operations.
    assert parsed.targets["bare"].notifier and not parsed.targets["bare"].declared
    with pytest.raises(makefile.DeclarationError, match="takes nothing after it"):
        makefile.parse(tmp_path / "Makefile", "#@ notifies everyone\nx:\n")


def test_status_functions_name_their_dependencies() -> None:
    assert conditions.named_dependencies(
        "and(failed('A', 'B'), ne(variables['Build.Reason'], 'PullRequest'))"
    ) == {
        "A",
        "B",
    }
    assert conditions.named_dependencies("succeeded('Build')") == {"Build"}
    assert conditions.named_dependencies("failed()") == set()
    assert conditions.named_dependencies(None) == set()


@pytest.mark.parametrize(
    ("script", "found"),
    [
        ("dvc pull data/full.csv.dvc", ["dvc"]),
        ("make data && az storage blob list --account-name x", ["az"]),
        ('echo "$(az account show)"', ["az"]),
        ("make drift-data CONTAINER=dvc ENDPOINT=credit-scoring-4a72", []),
        ("make release\ngit push origin HEAD:deploy/dev", ["git push"]),
    ],
)
def test_commands_outside_make_are_found_by_command_not_by_word(script: str, found: list[str]) -> None:
    assert walk.undeclared_commands(script) == found
