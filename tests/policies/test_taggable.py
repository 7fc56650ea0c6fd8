"""Which Azure resources must carry tags is read from the SDK's public constructor, not a list."""

import pytest

from infra.policies.tags import takes_tags


@pytest.mark.parametrize(
    ("resource_type", "taggable"),
    [
        ("azure-native:keyvault:Vault", True),
        # Its args class is named SshPublicKeyInitArgs: SshPublicKeyArgs is a VM's nested input type.
        ("azure-native:compute:SshPublicKey", True),
        ("azure-native:authorization:RoleAssignment", False),
        ("azure-native:managedidentity:FederatedIdentityCredential", False),
        ("azuredevops:index/project:Project", False),
    ],
)
def test_taggable_kinds_come_from_the_sdk(resource_type: str, taggable: bool) -> None:
    assert takes_tags(resource_type) is taggable


def test_a_class_without_constructor_forms_is_an_error_not_an_untagged_kind() -> None:
    with pytest.raises(LookupError, match="declares no constructor forms"):
        takes_tags("azure-native:keyvault:VaultArgs")
