"""The offline policy check over the real program and the committed stack files."""

import pytest

from infra.policies.azure import AGENT_POOL, KEY_VAULT, ROLE_ASSIGNMENT
from infra.policies.environments import BRANCH_CONTROL
from infra.stacks import ALL
from infra.tools.policy_check import Violation, check_stack, main
from tests.tools.weaken import weaken

SERVICE_CONNECTION = "azuredevops:index/serviceEndpointAzureRM:ServiceEndpointAzureRM"


@pytest.mark.parametrize("stack", ALL)
def test_committed_stack_has_no_violation(stack: str) -> None:
    assert check_stack(stack) == []


@pytest.mark.parametrize(
    ("stack", "resource_type", "path", "value", "policy", "resource", "rule"),
    [
        (
            "dev",
            KEY_VAULT,
            "properties.enable_purge_protection",
            False,
            "key-vault-rbac-purge-protection",
            "keyvault:Vault",
            "purge protection must be on",
        ),
        (
            "prod",
            AGENT_POOL,
            "min_count",
            1,
            "aks-gpu-pool-scale-from-zero",
            "containerservice:AgentPool",
            "scale to 0 nodes",
        ),
        (
            "qa",
            SERVICE_CONNECTION,
            "credentials.serviceprincipalkey",
            "s3cr3t",
            "service-connection-workload-identity",
            "ServiceEndpointAzureRM",
            "credentials.serviceprincipalkey is set",
        ),
        (
            "dev",
            ROLE_ASSIGNMENT,
            "scope",
            "/subscriptions/00000000-0000-0000-0000-0000000000d1",
            "role-assignment-resource-group-not-owner",
            "authorization:RoleAssignment",
            "resource group or narrower",
        ),
        (
            # A branch control that no longer targets the environment leaves qa with an approval only.
            "qa",
            BRANCH_CONTROL,
            "target_resource_type",
            "queue",
            "protected-environment-gates",
            "Environment",
            "missing: CheckBranchControl",
        ),
    ],
    ids=[
        "vault-without-purge-protection",
        "gpu-pool-min-1",
        "connection-with-secret",
        "subscription-role",
        "no-branch-control",
    ],
)
def test_weakened_component_fails_with_its_policy(
    stack: str, resource_type: str, path: str, value: object, policy: str, resource: str, rule: str
) -> None:
    violations = check_stack(stack, transformations=[weaken(resource_type, path, value)])
    assert violations, "the weakened stack must not pass"
    assert {v.policy for v in violations} == {policy}
    for violation in violations:
        assert violation.mandatory
        assert violation.resource.startswith(resource) and violation.resource in violation.message
        assert rule in violation.message


def test_command_prints_a_summary_per_stack_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "shared", "--stack", "dev"]) == 0
    assert capsys.readouterr().out.splitlines() == ["shared: 0 violation(s)", "dev: 0 violation(s)"]


def test_violation_line_reads_stack_resource_policy_message() -> None:
    line = str(
        Violation("dev", "keyvault:Vault 'kv'", "key-vault-rbac-purge-protection", "m", mandatory=True)
    )
    assert line == "dev | keyvault:Vault 'kv' | key-vault-rbac-purge-protection (mandatory) | m"


def test_command_exits_one_on_a_mandatory_violation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    found = Violation("dev", "keyvault:Vault 'kv'", "key-vault-rbac-purge-protection", "m", mandatory=True)
    monkeypatch.setattr("infra.tools.policy_check.evaluate", lambda run, config: [found])
    assert main(["--stack", "dev"]) == 1
    assert capsys.readouterr().out.splitlines() == [str(found), "dev: 1 violation(s)"]
