"""The stack policy on deployment gates, against the stack's `protected` setting."""

from collections.abc import Sequence

import pytest
from pulumi_policy import PolicyResource

from infra import platform_pipelines
from infra.policies.environments import APPROVAL, BRANCH_CONTROL, ENVIRONMENT, PROTECTED_KEY
from tests.policies.support import policy, stack_resource, stack_violations

GATE = {"projectId": "p", "targetResourceType": "environment", "targetResourceId": "1"}


def environment(name: str = "qa") -> PolicyResource:
    return stack_resource(ENVIRONMENT, name, {"projectId": "p", "name": name})


def gates(target: PolicyResource, kinds: Sequence[str] = (APPROVAL, BRANCH_CONTROL)) -> list[PolicyResource]:
    return [
        stack_resource(kind, f"{target.name}-{kind.rpartition(':')[2]}", GATE, [target]) for kind in kinds
    ]


def check(protected: str | None, resources: Sequence[PolicyResource]) -> list[tuple[str, str | None]]:
    config = {} if protected is None else {PROTECTED_KEY: protected}
    return stack_violations(policy("protected-environment-gates"), resources, config)


def test_protected_environment_with_both_gates_passes() -> None:
    qa = environment()
    assert check("true", [qa, *gates(qa)]) == []


def test_unprotected_environment_without_gates_passes() -> None:
    assert check("false", [environment("dev")]) == []


def test_shared_stack_without_environments_or_setting_passes() -> None:
    assert check(None, [stack_resource("azuredevops:index/project:Project", "ml-platform", {})]) == []


@pytest.mark.parametrize(
    ("kept", "missing"), [(APPROVAL, "CheckBranchControl"), (BRANCH_CONTROL, "CheckApproval")]
)
def test_protected_environment_missing_a_gate_is_named(kept: str, missing: str) -> None:
    qa = environment()
    [(message, urn)] = check("true", [qa, *gates(qa, [kept])])
    assert urn == qa.urn
    assert (
        "Environment 'qa'" in message
        and "protected environment" in message
        and f"missing: {missing}" in message
    )


def test_unprotected_environment_with_a_gate_is_named() -> None:
    dev = environment("dev")
    [(message, urn)] = check("false", [dev, *gates(dev, [APPROVAL])])
    assert urn == dev.urn
    assert (
        "Environment 'dev'" in message and "unprotected environment" in message and "CheckApproval" in message
    )


def test_gate_attributed_through_property_dependencies() -> None:
    # The engine records the environment under targetResourceId rather than only as a dependency.
    qa = environment()
    attributed = [stack_resource(kind, kind, GATE) for kind in (APPROVAL, BRANCH_CONTROL)]
    for gate in attributed:
        gate.property_dependencies["targetResourceId"] = [qa]
    assert check("true", [qa, *attributed]) == []


def test_gate_on_no_environment_of_the_stack_is_named() -> None:
    qa = environment()
    stray = stack_resource(APPROVAL, "stray-approval", GATE)
    found = check("true", [qa, *gates(qa), stray])
    assert found == [
        ("CheckApproval 'stray-approval': the check targets no environment of this stack", stray.urn)
    ]


def test_protected_stack_without_environment_is_a_violation() -> None:
    [(message, urn)] = check("true", [])
    assert urn is None and "declares no environment" in message


def test_environment_without_the_setting_is_a_violation() -> None:
    [(message, _)] = check(None, [environment()])
    assert PROTECTED_KEY in message and "not set" in message


@pytest.mark.parametrize(
    ("stack", "kinds", "found"),
    [
        # dev's stack file is unprotected: branch control only.
        ("dev", (BRANCH_CONTROL,), None),
        ("dev", (), "found: none"),
        ("dev", (APPROVAL, BRANCH_CONTROL), "found: CheckApproval, CheckBranchControl"),
        # qa's is protected, and the shared stack always waits for an approval.
        ("qa", (APPROVAL, BRANCH_CONTROL), None),
        ("qa", (BRANCH_CONTROL,), "found: CheckBranchControl"),
        ("shared", (BRANCH_CONTROL,), "found: CheckBranchControl"),
    ],
)
def test_a_platform_environment_follows_the_stack_it_deploys(
    stack: str, kinds: Sequence[str], found: str | None
) -> None:
    target = environment(platform_pipelines.environment(stack))
    violations = check(None, [target, *gates(target, kinds)])
    if found is None:
        assert violations == []
    else:
        [(message, urn)] = violations
        assert urn == target.urn and "platform stack" in message and found in message
