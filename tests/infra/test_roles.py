"""Every role id the platform assigns is the GUID of the built-in role of that name, as Azure lists it."""

import json

import pytest

from infra import roles
from infra.tools.mock_run import REPO_ROOT

BUILT_IN = json.loads((REPO_ROOT / "vendor" / "azure" / "built-in-roles.json").read_text())["roles"]

# Constant in infra/roles.py -> the role's name in Azure.
ROLE_NAMES = {
    "ACR_PULL": "AcrPull",
    "ACR_PUSH": "AcrPush",
    "AZURE_ML_DATA_SCIENTIST": "AzureML Data Scientist",
    "CONTRIBUTOR": "Contributor",
    "KEY_VAULT_SECRETS_USER": "Key Vault Secrets User",
    "MONITORING_METRICS_PUBLISHER": "Monitoring Metrics Publisher",
    "NETWORK_CONTRIBUTOR": "Network Contributor",
    "STORAGE_BLOB_DATA_CONTRIBUTOR": "Storage Blob Data Contributor",
    "OWNER": "Owner",
}


def role_constants() -> dict[str, str]:
    return {name: value for name, value in vars(roles).items() if name.isupper() and isinstance(value, str)}


def test_every_constant_is_named_here() -> None:
    assert set(role_constants()) == set(ROLE_NAMES)


@pytest.mark.parametrize(("constant", "role_name"), ROLE_NAMES.items())
def test_role_id_is_the_built_in_definition(constant: str, role_name: str) -> None:
    assert role_constants()[constant] == BUILT_IN[role_name]["id"]


def test_a_mistyped_guid_is_caught() -> None:
    # Contributor's GUID with one group changed: the comparison above must reject it.
    assert BUILT_IN["Contributor"]["id"] != "b24988ac-6180-42a0-ab88-20f7382fa24c"
