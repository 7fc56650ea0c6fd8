"""The offline plan diff on a real change: another checkout whose qa stack file grows the GPU pool."""

from collections import Counter
from pathlib import Path

import pytest

from infra.tools.mock_run import REPO_ROOT, copy_program, run_stack
from infra.tools.plan_diff import SettingChange, diff_checkouts, diff_runs, render


@pytest.fixture(scope="module")
def grown_gpu_pool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    checkout = tmp_path_factory.mktemp("checkout")
    copy_program(checkout)
    stack_file = checkout / "Pulumi.qa.yaml"
    before = "mlops-platform:aksGpuNodeMax: 2\n"
    assert before in stack_file.read_text(), "the qa stack file sets the GPU pool size this test changes"
    stack_file.write_text(stack_file.read_text().replace(before, "mlops-platform:aksGpuNodeMax: 3\n"))
    return checkout


def test_gpu_pool_size_change_shows_exactly_that_setting(grown_gpu_pool: Path) -> None:
    assert diff_runs(run_stack("qa"), run_stack("qa")) == [], "two runs of one program must be identical"
    diffs = diff_checkouts(REPO_ROOT, grown_gpu_pool, ["qa"])
    [change] = diffs["qa"]
    assert change.kind == "changed" and change.resource.endswith("(containerservice:AgentPool)")
    assert change.settings == (SettingChange("maxCount", "2", "3"),)
    document = render(diffs, REPO_ROOT, grown_gpu_pool)
    assert "## Stack `qa`: 0 added, 0 removed, 1 changed" in document
    assert "| maxCount | 2 | 3 |" in document


def test_a_run_compared_with_itself_has_no_changes() -> None:
    run = run_stack("dev")
    assert diff_runs(run, run) == []


def test_added_and_removed_resources_are_listed() -> None:
    shared, dev = run_stack("shared"), run_stack("dev")
    changes = diff_runs(shared, dev)
    kinds = {change.kind for change in changes}
    assert kinds == {"added", "removed"}
    assert sum(change.kind == "removed" for change in changes) == sum(r.custom for r in shared.resources)


@pytest.fixture(scope="module")
def isolated_dev(tmp_path_factory: pytest.TempPathFactory) -> Path:
    checkout = tmp_path_factory.mktemp("isolated")
    copy_program(checkout)
    stack_file = checkout / "Pulumi.dev.yaml"
    text = stack_file.read_text()
    gpu_image = next(
        line for line in text.splitlines(keepends=True) if "mlops-platform:agentGpuImage:" in line
    )
    for before, after in (
        ("mlops-platform:networkIsolation: false\n", "mlops-platform:networkIsolation: true\n"),
        ("mlops-platform:acrSku: Standard\n", "mlops-platform:acrSku: Premium\n"),
        # An isolated environment takes no GPU pool (infra/config.py).
        (gpu_image, ""),
    ):
        assert before in text, f"the dev stack file sets {before.strip()}"
        text = text.replace(before, after)
    stack_file.write_text(text)
    return checkout


def test_turning_isolation_on_in_dev_reads_as_endpoints_added_and_public_access_turned_off(
    isolated_dev: Path,
) -> None:
    diffs = diff_checkouts(REPO_ROOT, isolated_dev, ["dev"])
    changes = diffs["dev"]
    assert sorted(c.resource for c in changes if c.kind == "removed") == [
        # An isolated environment takes no GPU pool: the pool goes with its grant, queue and logs.
        "`agents-devops-infrastructure-gpu-image` (authorization:RoleAssignment)",
        "`agents-gpu-pool` (devopsinfrastructure:Pool)",
        "`devops-credit-scoring-gpu0-queue` (PipelineAuthorization)",
        "`diagnostics-gpu-pool` (monitor:DiagnosticSetting)",
        # The variable group no longer links the private vault, so its connection reads no secret there.
        "`pipeline-secrets-user` (authorization:RoleAssignment)",
    ]
    added = Counter(c.resource.rpartition("(")[2].rstrip(")") for c in changes if c.kind == "added")
    assert added == {
        "network:PrivateEndpoint": 5,
        "network:PrivateDnsZoneGroup": 5,
        "privatedns:PrivateZone": 6,
        "privatedns:VirtualNetworkLink": 6,
        "containerregistry:AgentPool": 1,
        "managedidentity:UserAssignedIdentity": 1,
        "authorization:RoleAssignment": 1,
    }
    changed = {
        c.resource: {s.path: (s.before, s.after) for s in c.settings} for c in changes if c.kind == "changed"
    }
    assert changed["`secrets-vault` (keyvault:Vault)"]["properties.publicNetworkAccess"] == (
        "Enabled",
        "Disabled",
    )
    assert changed["`registry-acr` (containerregistry:Registry)"] == {
        "publicNetworkAccess": ("Enabled", "Disabled"),
        "sku.name": ("Standard", "Premium"),
    }
    for resource in (
        "`ml-storage` (storage:StorageAccount)",
        "`ml-workspace` (machinelearningservices:Workspace)",
    ):
        assert changed[resource]["publicNetworkAccess"] == ("Enabled", "Disabled")
    assert changed["`aks-cluster` (containerservice:ManagedCluster)"][
        "apiServerAccessProfile.enablePrivateCluster"
    ] == ("false", "true")
    document = render(diffs, REPO_ROOT, isolated_dev)
    assert "## Stack `dev`: 25 added, 5 removed, 8 changed" in document
    assert "| privateLinkServiceConnections[pe-kv-mlops-dev-" in document
