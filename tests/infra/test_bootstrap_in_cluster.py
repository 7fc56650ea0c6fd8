"""What the bootstrap stack prepares for the environments' in-cluster bootstrap, from its committed run."""

import pytest

from infra import outputs, roles
from infra.preflight.platform_walk import delegation_allows
from infra.preflight.rbac import Assignment
from infra.stacks import BOOTSTRAP, ENVIRONMENTS
from infra.tools.mock_run import StackRun, run_stack

ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


@pytest.fixture(scope="module")
def bootstrap() -> StackRun:
    return run_stack(BOOTSTRAP)


def test_every_kubernetes_role_is_defined_for_the_environments_subscriptions(bootstrap: StackRun) -> None:
    published = bootstrap.outputs[outputs.PLATFORM_KUBE_ROLES]
    assert set(published) == {role.key for role in roles.KUBE_ROLES}
    definitions = {r.inputs["roleDefinitionId"]: r.inputs for r in bootstrap.of_type(ROLE_DEFINITION)}
    subscriptions = {f"/subscriptions/{run_stack(env).outputs['subscription_id']}" for env in ENVIRONMENTS}
    for role in roles.KUBE_ROLES:
        definition = definitions[published[role.key]]
        assert definition["permissions"] == [{"dataActions": list(role.data_actions)}]
        assert set(definition["assignableScopes"]) == subscriptions


def deploy_assignment_rights(bootstrap: StackRun, environment: str) -> Assignment:
    principal = bootstrap.outputs[outputs.DEPLOY_PRINCIPAL_IDS][environment]
    subscription = run_stack(environment).outputs["subscription_id"]
    (resource,) = [
        r
        for r in bootstrap.of_type(ROLE_ASSIGNMENT)
        if r.inputs["principalId"] == principal
        and r.inputs["scope"] == f"/subscriptions/{subscription}"
        and r.inputs.get("condition")
    ]
    rbac_admin = roles.RoleDefinitions.load().by_name(roles.RBAC_ADMINISTRATOR)
    return Assignment(
        principal, rbac_admin, resource.inputs["scope"], BOOTSTRAP, condition=resource.inputs["condition"]
    )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_deploy_identity_may_assign_the_kubernetes_roles_and_no_others(
    bootstrap: StackRun, environment: str
) -> None:
    rights = deploy_assignment_rights(bootstrap, environment)
    for guid in bootstrap.outputs[outputs.PLATFORM_KUBE_ROLES].values():
        assert delegation_allows(rights, guid)
    # Not Owner, not Cluster Admin: the condition is a list, not a blank cheque.
    for name in (roles.OWNER, "Azure Kubernetes Service RBAC Cluster Admin"):
        assert not delegation_allows(rights, roles.guid(name))


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_flux_reads_azure_repos_as_a_project_reader_federated_by_its_environment(
    bootstrap: StackRun, environment: str
) -> None:
    flux = bootstrap.outputs[outputs.FLUX_IDENTITIES][environment]
    (identity,) = [
        r
        for r in bootstrap.of_type("azure-native:managedidentity:UserAssignedIdentity")
        if r.inputs["resourceName"] == flux[outputs.FLUX_IDENTITY_NAME]
    ]
    assert flux[outputs.FLUX_IDENTITY_CLIENT_ID] == f"{identity.inputs['resourceName']}-client-id"
    # A member of the organisation, in the project's Readers and nothing more.
    entitlement = next(
        r
        for r in bootstrap.of_type(
            "azuredevops:index/servicePrincipalEntitlement:ServicePrincipalEntitlement"
        )
        if r.inputs["originId"] == f"{identity.inputs['resourceName']}-principal-id"
    )
    (membership,) = [
        r
        for r in bootstrap.of_type("azuredevops:index/groupMembership:GroupMembership")
        if r.inputs["members"] == [f"aad.{entitlement.inputs['originId']}"]
    ]
    assert membership.inputs["group"] == "descriptor:Readers" and membership.inputs["mode"] == "add"
    on_identity = {
        r.inputs["principalId"]: roles.RoleDefinitions.load()
        .by_definition_id(r.inputs["roleDefinitionId"])
        .name
        for r in bootstrap.of_type(ROLE_ASSIGNMENT)
        if r.inputs["scope"] == identity.id
    }
    assert on_identity == {
        bootstrap.outputs[outputs.DEPLOY_PRINCIPAL_IDS][environment]: roles.FEDERATED_CREDENTIAL_CONTRIBUTOR,
        bootstrap.outputs[outputs.PREVIEW_PRINCIPAL_IDS][environment]: roles.READER,
    }
