"""`make preflight` on the committed stacks and both serving targets: every operation granted, every role
assignment used or explained, and the reports written in their documented shape."""

import dataclasses
import json
from pathlib import Path

from infra.naming import PREVIEW_SUFFIX
from infra.preflight.__main__ import main
from infra.preflight.platform import Platform
from infra.preflight.rbac import Assignment
from infra.preflight.run import Result
from infra.roles import RoleDefinitions
from infra.tools.mock_run import DeclaredResource
from tests.preflight.support import mutate

ENTRY_KEYS = ["stack", "pipeline", "stage", "step", "identity", "operation", "resource", "granted_by", "ok"]


def test_committed_platform_passes_and_writes_its_reports(tmp_path: Path, capsys) -> None:
    assert main(["--out-dir", str(tmp_path)]) == 0, capsys.readouterr().err
    document = json.loads((tmp_path / "preflight.json").read_text())
    entries = document["entries"]
    assert len(entries) > 500
    assert all(list(entry) == ENTRY_KEYS for entry in entries)
    assert all(entry["ok"] and set(entry["granted_by"]) == {"role", "scope"} for entry in entries)
    pipelines = {entry["pipeline"].split(" ")[-1] for entry in entries}
    for pipeline in ("azure-pipelines.yml", ".azure-pipelines/retrain.yml", ".azure-pipelines/drift.yml"):
        assert pipeline in pipelines
    for pipeline in (
        "pipelines/pr.yml",
        "pipelines/deploy.yml",
        "pipelines/drift.yml",
        "pipelines/template.yml",
    ):
        assert pipeline in pipelines
    # Only the runtime identities' grants are used by no step, each saying what needs it.
    assert document["unused_assignments"]
    assert all(assignment["reason"] for assignment in document["unused_assignments"])
    report = (tmp_path / "preflight.md").read_text()
    assert "0 refused" in report and "Role assignments no pipeline step uses" in report


def test_an_unexplained_unused_assignment_fails_the_result() -> None:
    reader = RoleDefinitions.load().by_name("Reader")
    result = Result(entries=[], unused=[Assignment("p", reader, "/subscriptions/s", "dev", description="")])
    assert not result.ok
    assert Result(entries=[], unused=[Assignment("p", reader, "/subscriptions/s", "dev", "why")]).ok


CLUSTER = "azure-native:containerservice:ManagedCluster"
# Storage Blob Data Reader's user delegation key signs read-only SAS: no data can be written with it.
HARMLESS = ("/read", "/decrypt/action", "/generateUserDelegationKey/action")
# Cluster User Role's one action downloads the cluster's user kubeconfig (learn.microsoft.com/azure/aks/
# concepts-identity, "AKS cluster identity permissions"). With local accounts disabled and Azure RBAC on it
# holds no credential, only the server and kubelogin's exec: what its holder may do inside is what its Azure
# RBAC data actions say (manage-azure-rbac.md), which must only read.
USER_KUBECONFIG = "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"


def preview_principals(platform: Platform) -> set[str]:
    return {c.principal for c in platform.connections.values() if c.name.endswith(PREVIEW_SUFFIX)}


def entra_only_cluster(platform: Platform, scope: str) -> bool:
    found = platform.find_id(scope)
    if found is None or found.resource.type != CLUSTER:
        return False
    inputs = found.resource.inputs
    return (
        inputs.get("disableLocalAccounts") is True
        and inputs.get("aadProfile", {}).get("enableAzureRBAC") is True
    )


def preview_writes(platform: Platform, assignments: list[Assignment]) -> list[tuple[str, str, str]]:
    """(role, scope, action) of everything a read-only identity holds that may change something."""
    previews = preview_principals(platform)
    return [
        (a.role.name, a.scope, pattern)
        for a in assignments
        if a.principal in previews
        for pattern in (*a.role.actions, *a.role.data_actions)
        if not pattern.endswith(HARMLESS)
        and not (pattern == USER_KUBECONFIG and entra_only_cluster(platform, a.scope))
    ]


def test_preview_identities_can_write_nothing(runs) -> None:
    """What the read-only identities hold reads (and decrypts) only, whatever it is assigned on."""
    platform = Platform.from_runs(runs)
    assert len(preview_principals(platform)) == 4
    held = [a for a in platform.assignments if a.principal in preview_principals(platform)]
    # They do hold reads in the clusters, and the user kubeconfig to reach them.
    assert any(a.role.data_actions for a in held) and any(USER_KUBECONFIG in a.role.actions for a in held)
    assert preview_writes(platform, list(platform.assignments)) == []
    deploys = {
        c.principal for c in platform.connections.values() if "-platform-" in c.name
    } - preview_principals(platform)
    deploy_patterns = {p for a in platform.assignments if a.principal in deploys for p in a.role.actions}
    assert not all(p.endswith("/read") for p in deploy_patterns)


def test_a_preview_identity_granted_a_write_is_caught(runs) -> None:
    platform = Platform.from_runs(runs)
    principal = sorted(preview_principals(platform))[0]
    contributor = Assignment(
        principal, RoleDefinitions.load().by_name("Contributor"), "/subscriptions/s", "dev"
    )
    found = preview_writes(platform, [*platform.assignments, contributor])
    assert found == [("Contributor", "/subscriptions/s", "*")]


def test_the_user_kubeconfig_of_a_cluster_with_local_accounts_is_a_write(runs) -> None:
    def local_accounts(resource: DeclaredResource) -> DeclaredResource:
        if resource.type != CLUSTER:
            return resource
        return dataclasses.replace(resource, inputs={**resource.inputs, "disableLocalAccounts": False})

    platform = Platform.from_runs(mutate(runs, "qa", lambda r: True, local_accounts))
    found = preview_writes(platform, list(platform.assignments))
    assert found and {action for _role, _scope, action in found} == {USER_KUBECONFIG}
    assert all("aks-mlops-qa" in scope for _role, scope, _action in found)
