"""The offline plan of a committed stack."""

import re
from pathlib import Path

import pytest

from infra.tools.mock_run import StackRun, run_stack
from infra.tools.plan import main, render
from infra.tools.plan_settings import MASK, flatten, is_reviewed, shown


@pytest.fixture(scope="module")
def qa() -> StackRun:
    return run_stack("qa")


def by_component_part(plan: str) -> str:
    """The plan without its network exposure section, which lists endpoints a second time."""
    head, _, rest = plan.partition("## Network exposure")
    return head + rest.partition("\n## ")[2]


def test_every_resource_appears_once_under_its_component(qa: StackRun) -> None:
    plan = by_component_part(render(qa))
    for resource in qa.resources:
        if resource.custom:
            assert plan.count(f"| `{resource.name}` (") == 1, resource.name
    components = {r.name for r in qa.resources if not r.custom and r.parent_urn is not None}
    headings = set(re.findall(r"^## \w+ `([^`]+)`$", plan, flags=re.MULTILINE))
    assert headings <= components and headings, "groups are the program's components"


def test_plan_shows_sizes_counts_and_protection(qa: StackRun) -> None:
    plan = by_component_part(render(qa))
    [gpu_pool] = [line for line in plan.splitlines() if "(containerservice:AgentPool)" in line]
    assert (
        "vmSize: Standard_NC4as_T4_v3" in gpu_pool and "minCount: 0" in gpu_pool and "maxCount: 2" in gpu_pool
    )
    [vault] = [line for line in plan.splitlines() if "(keyvault:Vault)" in line]
    assert "enablePurgeProtection: true" in vault


def test_named_list_elements_are_addressed_by_name() -> None:
    inputs = {
        "agentPoolProfiles": [{"name": "system", "vmSize": "Standard_D4ds_v5"}],
        "nodeTaints": ["a", "b"],
    }
    assert flatten(inputs) == {
        "agentPoolProfiles[system].name": "system",
        "agentPoolProfiles[system].vmSize": "Standard_D4ds_v5",
        "nodeTaints": ["a", "b"],
    }
    assert is_reviewed("agentPoolProfiles[system].vmSize") and not is_reviewed(
        "agentPoolProfiles[system].name"
    )


def exposure_rows(plan: str) -> dict[str, str]:
    section = plan.split("## Network exposure", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| `")]
    return {row[0].removeprefix("| "): f"{row[2]}: {row[3].removesuffix(' |')}" for row in rows}


def test_plan_shows_what_each_endpoint_answers_and_from_where(qa: StackRun) -> None:
    rows = exposure_rows(render(qa))
    assert (
        rows["`secrets-vault` (keyvault:Vault)"] == "VNet only: no public endpoint; private endpoint: vault"
    )
    assert (
        rows["`ml-storage` (storage:StorageAccount)"]
        == "VNet only: no public endpoint; private endpoint: blob, file"
    )
    assert (
        rows["`aks-cluster` (containerservice:ManagedCluster)"] == "VNet only: private API server (VNet only)"
    )
    assert rows["`network-nat-ip` (network:PublicIPAddress)"] == "internet: public IP address"
    # Public endpoints are listed first, where a reviewer starts.
    assert next(iter(rows.values())).startswith("internet")


def test_without_isolation_the_plan_says_the_endpoints_are_public() -> None:
    rows = exposure_rows(render(run_stack("dev")))
    assert rows["`secrets-vault` (keyvault:Vault)"] == "internet: public (Entra ID)"
    assert rows["`aks-cluster` (containerservice:ManagedCluster)"] == "internet: public API server (Entra ID)"
    assert not any("private endpoint" in row for row in rows.values())


def test_credentials_never_reach_the_plan() -> None:
    assert (
        shown("webhookReceivers[teams].serviceUri", "https://prod.logic.azure.com/workflows/x?sig=abc")
        == MASK
    )
    assert shown("credentials.serviceprincipalkey", "s3cr3t") == MASK
    assert shown("variables[acr].secretValue", "hunter2") == MASK
    assert shown("properties.value", "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc==") == MASK
    assert shown("sku.capacity", 0.0) == "0"


def test_command_writes_one_plan_per_stack(tmp_path: Path) -> None:
    assert main(["--stack", "shared", "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "plan-shared.md").read_text().startswith("# Plan of stack `shared`")
