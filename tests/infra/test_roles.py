"""Every role the platform names is one Azure defines, and its id comes from Azure's own definitions."""

import pytest

from infra import outputs, roles
from infra.tools.mock_run import run_stacks

ROLE_NAMES = {
    name: value
    for name, value in vars(roles).items()
    if name.isupper() and isinstance(value, str) and name not in ("ROLES_FILE",)
}


@pytest.mark.parametrize("constant", sorted(ROLE_NAMES))
def test_every_named_role_is_an_azure_built_in_role(constant: str) -> None:
    role = roles.RoleDefinitions.load().by_name(ROLE_NAMES[constant])
    assert roles.definition_id("s", ROLE_NAMES[constant]).endswith(f"/roleDefinitions/{role.id}")


def test_an_unknown_role_is_refused_by_name() -> None:
    with pytest.raises(KeyError, match="not an Azure built-in role"):
        roles.guid("Contributer")


def test_contributor_is_the_guid_azure_publishes() -> None:
    # The GUID infra/roles.py once carried by hand (one group mistyped) is not Azure's.
    assert roles.guid(roles.CONTRIBUTOR) == "b24988ac-6180-42a0-ab88-20f7382dd24c"


def test_environment_stacks_assign_only_the_roles_the_bootstrap_lets_them() -> None:
    runs = run_stacks(("bootstrap", "shared", "dev", "qa", "prod"))
    definitions = roles.RoleDefinitions.load()
    allowed = {roles.guid(name) for name in roles.ASSIGNED_BY_ENVIRONMENTS}
    published = runs["bootstrap"].outputs
    custom = {
        str(published[outputs.PIPELINE_KUBE_ROLE]),
        str(published[outputs.AGENT_NETWORK_ROLE]),
        str(published[outputs.SERVING_IDENTITY_ROLE]),
        *map(str, published[outputs.PLATFORM_KUBE_ROLES].values()),
    }
    for environment in ("dev", "qa", "prod"):
        for assignment in runs[environment].of_type("azure-native:authorization:RoleAssignment"):
            guid = str(assignment.inputs["roleDefinitionId"]).rpartition("/")[2]
            assert guid in allowed | custom, (environment, assignment.name, guid)
    assert all(definitions.by_name(name) for name in roles.ASSIGNED_BY_ENVIRONMENTS)
