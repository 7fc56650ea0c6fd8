from collections.abc import Mapping
from typing import Any

import pytest

from infra import diagnostics, naming
from infra.components.diagnostic_settings import DiagnosticSettings, DiagnosticSettingsArgs, DiagnosticTarget
from infra.policies.azure import KEY_VAULT, MANAGED_CLUSTER, STORAGE_ACCOUNT
from tests.infra.component_mocks import Recorder, resolve

WORKSPACE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/log"
VAULT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
ACCOUNT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st"
CLUSTER = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"


def build(*targets: DiagnosticTarget) -> DiagnosticSettings:
    return DiagnosticSettings("diagnostics", DiagnosticSettingsArgs(workspace_id=WORKSPACE, targets=targets))


def settings_by_uri(recorder: Recorder) -> dict[str, Mapping[str, Any]]:
    return {s.inputs["resourceUri"]: s.inputs for s in recorder.of_type(diagnostics.DIAGNOSTIC_SETTING)}


def assert_audit_trail(setting: Mapping[str, Any]) -> None:
    """The built-in policy's rule: an enabled log entry of category group audit or allLogs."""
    assert setting["workspaceId"] == WORKSPACE
    assert any(
        log["enabled"] is True and log.get("categoryGroup") in diagnostics.AUDIT_GROUPS
        for log in setting["logs"]
    )


def test_vault_sends_its_audit_logs_to_the_workspace(recorder: Recorder) -> None:
    resolve(lambda: build(DiagnosticTarget("vault", KEY_VAULT, VAULT)).setting_ids)
    setting = settings_by_uri(recorder)[VAULT]
    assert setting["name"] == naming.DIAGNOSTIC_SETTING
    assert setting["logs"] == [{"categoryGroup": "audit", "enabled": True}]
    assert_audit_trail(setting)


def test_storage_logs_come_from_its_blob_and_file_services(recorder: Recorder) -> None:
    ids = resolve(lambda: build(DiagnosticTarget("storage", STORAGE_ACCOUNT, ACCOUNT)).setting_ids)
    assert set(ids) == {"storage-blobServices", "storage-fileServices"}
    assert set(settings_by_uri(recorder)) == {
        f"{ACCOUNT}/blobServices/default",
        f"{ACCOUNT}/fileServices/default",
    }


def test_cluster_logs_admin_audit_and_sign_ins_not_every_read(recorder: Recorder) -> None:
    resolve(lambda: build(DiagnosticTarget("aks", MANAGED_CLUSTER, CLUSTER)).setting_ids)
    logs = settings_by_uri(recorder)[CLUSTER]["logs"]
    assert {log["category"] for log in logs} == {"kube-audit-admin", "guard"}


def test_a_type_without_a_selection_stops_the_program(recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="has no log selection"):
        build(DiagnosticTarget("secret", "azure-native:keyvault:Secret", f"{VAULT}/secrets/s"))


def test_diagnosed_and_excused_types_never_overlap() -> None:
    assert not set(diagnostics.DIAGNOSED) & set(diagnostics.NOT_DIAGNOSED)


def test_check_rejects_a_setting_without_an_audit_group() -> None:
    with pytest.raises(AssertionError):
        assert_audit_trail({"workspaceId": WORKSPACE, "logs": [{"category": "guard", "enabled": True}]})
