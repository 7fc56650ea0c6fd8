from collections.abc import Mapping
from typing import Any

import pytest

from infra.components.secrets import Secrets, SecretsArgs
from tests.infra.component_mocks import TAGS, Recorder, resolve


def build(private: bool = False) -> Secrets:
    return Secrets(
        "secrets",
        SecretsArgs(
            resource_group_name="rg-mlops-dev",
            location="westeurope",
            vault_name="kv-mlops-dev-1a2b",
            tenant_id="tenant",
            soft_delete_retention_days=90,
            private=private,
            secrets={"resourceGroup": "rg-mlops-dev", "wsName": "mlw-mlops-dev", "location": "westeurope"},
            tags=TAGS,
        ),
    )


def assert_secure_vault(properties: Mapping[str, Any]) -> None:
    assert properties["enableRbacAuthorization"] is True
    assert properties["enablePurgeProtection"] is True
    assert properties["enableSoftDelete"] is True
    assert properties["softDeleteRetentionInDays"] >= 7
    assert "accessPolicies" not in properties


def test_vault_has_rbac_purge_protection_and_soft_delete(recorder: Recorder) -> None:
    uri = resolve(lambda: build().vault_uri)
    vault = recorder.one("azure-native:keyvault:Vault")
    assert_secure_vault(vault.inputs["properties"])
    assert vault.inputs["properties"]["softDeleteRetentionInDays"] == 90
    assert uri == "https://kv-mlops-dev-1a2b.vault.azure.net/"


def test_secrets_are_stored_in_the_vault_as_secret_values(recorder: Recorder) -> None:
    resolve(lambda: build().vault_name)
    secrets = recorder.of_type("azure-native:keyvault:Secret")
    assert sorted(s.inputs["secretName"] for s in secrets) == ["location", "resourceGroup", "wsName"]
    assert all(s.inputs["vaultName"] == "kv-mlops-dev-1a2b" for s in secrets)
    assert {s.inputs["secretName"]: s.inputs["properties"]["value"] for s in secrets}[
        "wsName"
    ] == "mlw-mlops-dev"


@pytest.mark.parametrize(
    ("private", "access", "default_action"), [(False, "Enabled", "Allow"), (True, "Disabled", "Deny")]
)
def test_public_access_is_stated_either_way(
    recorder: Recorder, private: bool, access: str, default_action: str
) -> None:
    resolve(lambda: build(private).vault_id)
    properties = recorder.one("azure-native:keyvault:Vault").inputs["properties"]
    assert properties["publicNetworkAccess"] == access
    assert properties["networkAcls"] == {"defaultAction": default_action, "bypass": "AzureServices"}


def test_check_rejects_a_vault_without_purge_protection() -> None:
    with pytest.raises(AssertionError):
        assert_secure_vault(
            {
                "enableRbacAuthorization": True,
                "enablePurgeProtection": False,
                "enableSoftDelete": True,
                "softDeleteRetentionInDays": 90,
            }
        )
