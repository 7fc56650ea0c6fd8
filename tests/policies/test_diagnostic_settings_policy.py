"""The diagnostic-settings policy: each resource with resource logs sends its selection to the stack's
Log Analytics workspace; a missing, disabled, misdirected or sub-resource-only setting is named."""

from collections.abc import Sequence
from typing import Any

from pulumi_policy import PolicyResource

from infra.diagnostics import DIAGNOSTIC_SETTING, LOG_ANALYTICS
from infra.policies.azure import KEY_VAULT, STORAGE_ACCOUNT
from tests.policies.support import policy, stack_resource, stack_violations

POLICY = policy("diagnostic-settings")
IDS = "/subscriptions/s/resourceGroups/rg/providers"
WORKSPACE = stack_resource(LOG_ANALYTICS, "logs", {"workspaceName": "log-mlops-dev"})
WORKSPACE_ID = f"{IDS}/Microsoft.OperationalInsights/workspaces/log-mlops-dev"
VAULT = stack_resource(KEY_VAULT, "vault", {"vaultName": "kv1"})
ACCOUNT = stack_resource(STORAGE_ACCOUNT, "storage", {"accountName": "st1"})
AUDIT = [{"categoryGroup": "audit", "enabled": True}]
ALL_LOGS = [{"categoryGroup": "allLogs", "enabled": True}]


def diagnostic(
    name: str, target: PolicyResource, uri: str, logs: list[dict[str, Any]] = AUDIT
) -> PolicyResource:
    return stack_resource(
        DIAGNOSTIC_SETTING,
        name,
        {"resourceUri": uri, "workspaceId": WORKSPACE_ID, "logs": logs},
        [target, WORKSPACE],
    )


def compliant() -> list[PolicyResource]:
    return [
        WORKSPACE,
        VAULT,
        ACCOUNT,
        diagnostic("diag-logs", WORKSPACE, WORKSPACE_ID),
        diagnostic("diag-vault", VAULT, f"{IDS}/Microsoft.KeyVault/vaults/kv1"),
        diagnostic(
            "diag-blob",
            ACCOUNT,
            f"{IDS}/Microsoft.Storage/storageAccounts/st1/blobServices/default",
            ALL_LOGS,
        ),
        diagnostic(
            "diag-file",
            ACCOUNT,
            f"{IDS}/Microsoft.Storage/storageAccounts/st1/fileServices/default",
            ALL_LOGS,
        ),
    ]


def without(name: str) -> Sequence[PolicyResource]:
    return [r for r in compliant() if r.name != name]


def test_every_resource_with_its_setting_passes() -> None:
    assert stack_violations(POLICY, compliant()) == []


def test_a_resource_without_a_setting_is_named() -> None:
    assert stack_violations(POLICY, without("diag-vault")) == [
        ("keyvault:Vault 'vault': no diagnostic setting sends the logs to Log Analytics", VAULT.urn)
    ]


def test_storage_needs_both_of_its_services() -> None:
    [(message, urn)] = stack_violations(POLICY, without("diag-file"))
    assert urn == ACCOUNT.urn and "logs of fileServices/default" in message


def test_a_narrower_group_than_the_selection_does_not_count() -> None:
    audit_only = diagnostic(
        "diag-file", ACCOUNT, f"{IDS}/Microsoft.Storage/storageAccounts/st1/fileServices/default"
    )
    [(message, _)] = stack_violations(POLICY, [*without("diag-file"), audit_only])
    assert "must enable allLogs" in message and "(enabled: audit)" in message


def test_the_workspace_setting_does_not_count_for_the_resources_that_send_to_it() -> None:
    # Every setting depends on the workspace it sends to; only one on the workspace itself covers it.
    [(message, urn)] = stack_violations(POLICY, without("diag-logs"))
    assert urn == WORKSPACE.urn and "operationalinsights:Workspace 'logs'" in message


def test_disabled_logs_and_other_destinations_do_not_count() -> None:
    disabled = diagnostic(
        "diag-vault",
        VAULT,
        f"{IDS}/Microsoft.KeyVault/vaults/kv1",
        [{"categoryGroup": "audit", "enabled": False}],
    )
    elsewhere = stack_resource(
        DIAGNOSTIC_SETTING,
        "diag-vault",
        {"resourceUri": f"{IDS}/Microsoft.KeyVault/vaults/kv1", "logs": AUDIT},
        [VAULT],
    )
    for weak in (disabled, elsewhere):
        [(message, _)] = stack_violations(POLICY, [*without("diag-vault"), weak])
        assert "must enable audit into a Log Analytics workspace of this stack" in message


def test_a_setting_on_a_sub_resource_does_not_cover_its_parent() -> None:
    blob_only = [r for r in compliant() if r.name not in ("diag-vault",)]
    vault_blob = diagnostic("diag-vault", VAULT, f"{IDS}/Microsoft.KeyVault/vaults/kv1/keys/k")
    [(message, _)] = stack_violations(POLICY, [*blob_only, vault_blob])
    assert message.startswith("keyvault:Vault 'vault': no diagnostic setting")


def test_target_attributed_through_property_dependencies() -> None:
    unknown = stack_resource(
        DIAGNOSTIC_SETTING, "diag-vault", {"workspaceId": WORKSPACE_ID, "logs": AUDIT}, [WORKSPACE]
    )
    unknown.property_dependencies["resourceUri"] = [VAULT]
    assert stack_violations(POLICY, [*without("diag-vault"), unknown]) == []
