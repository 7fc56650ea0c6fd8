"""The offline policy check over the real program and the committed stack files."""

import pytest

from infra.diagnostics import DIAGNOSTIC_SETTING
from infra.managed_devops_pools import POOL
from infra.policies.azure import (
    AGENT_POOL,
    KEY_VAULT,
    MANAGED_CLUSTER,
    REGISTRY,
    ROLE_ASSIGNMENT,
    STORAGE_ACCOUNT,
)
from infra.policies.costs import BUDGET
from infra.policies.environments import BRANCH_CONTROL
from infra.private_link import PRIVATE_DNS_ZONE_GROUP, PRIVATE_ENDPOINT
from infra.stacks import EVERY
from infra.tools.policy_check import Violation, check_stack, main
from tests.tools.weaken import weaken

SERVICE_CONNECTION = "azuredevops:index/serviceEndpointAzureRM:ServiceEndpointAzureRM"


@pytest.mark.parametrize("stack", EVERY)
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
        (
            "prod",
            KEY_VAULT,
            "properties.public_network_access",
            "Enabled",
            "public-network-access-off",
            "keyvault:Vault",
            "takes no public traffic",
        ),
        (
            "qa",
            MANAGED_CLUSTER,
            "api_server_access_profile.enable_private_cluster",
            False,
            "public-network-access-off",
            "containerservice:ManagedCluster",
            "API server is private",
        ),
        (
            # The workspace's endpoint points at nothing: the workspace is left without its private path.
            "prod",
            PRIVATE_ENDPOINT,
            "private_link_service_connections",
            [],
            "private-endpoints-present",
            "",
            "no private endpoint for its",
        ),
        (
            "qa",
            REGISTRY,
            "sku.name",
            "Standard",
            "private-endpoints-present",
            "containerregistry:Registry",
            "only on Premium registries",
        ),
        (
            "qa",
            PRIVATE_DNS_ZONE_GROUP,
            "private_dns_zone_configs",
            [],
            "private-endpoints-present",
            "",
            "does not resolve privately",
        ),
        (
            "dev",
            DIAGNOSTIC_SETTING,
            "logs",
            [],
            "diagnostic-settings",
            "",
            "into a Log Analytics workspace of this stack",
        ),
        (
            "dev",
            BUDGET,
            "notifications",
            {},
            "budget-per-environment",
            "resources:ResourceGroup",
            "alerts nobody before the money is spent",
        ),
        (
            "prod",
            BUDGET,
            "filter.dimensions.values",
            ["rg-somewhere-else"],
            "budget-per-environment",
            "resources:ResourceGroup",
            "no cost budget covers it",
        ),
        (
            "dev",
            STORAGE_ACCOUNT,
            "allow_shared_key_access",
            True,
            "storage-no-shared-key",
            "storage:StorageAccount",
            "shared-key access must be off",
        ),
        (
            "dev",
            POOL,
            "maximum_concurrency",
            50,
            "managed-devops-pool-scale-from-zero",
            "devopsinfrastructure:Pool",
            "at most 20 agents",
        ),
        (
            # The pool's agents leave the subnet: in isolated prod they would reach no private endpoint.
            "prod",
            POOL,
            "fabric_profile.network_profile",
            None,
            "managed-devops-pool-in-vnet",
            "devopsinfrastructure:Pool",
            "its agents run outside the VNet",
        ),
    ],
    ids=[
        "vault-without-purge-protection",
        "gpu-pool-min-1",
        "connection-with-secret",
        "subscription-role",
        "no-branch-control",
        "public-vault-in-isolated-prod",
        "public-api-server-in-isolated-qa",
        "endpoints-to-nothing",
        "standard-registry-with-endpoint",
        "endpoint-names-not-in-zones",
        "settings-without-logs",
        "budget-without-notifications",
        "budget-on-other-groups",
        "storage-with-shared-keys",
        "pool-above-the-bound",
        "pool-outside-the-vnet-in-isolated-prod",
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
