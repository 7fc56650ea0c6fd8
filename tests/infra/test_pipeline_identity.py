import pulumi
import pulumi_azuredevops as azuredevops
import pytest

from infra import roles
from infra.components.pipeline_identity import PipelineIdentity, PipelineIdentityArgs, RoleGrant
from tests.infra.component_mocks import SUBSCRIPTION, TAGS, Recorder, resolve

GROUP_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-mlops-dev"


def build() -> PipelineIdentity:
    return PipelineIdentity(
        "pipeline",
        PipelineIdentityArgs(
            resource_group_name="rg-mlops-dev",
            resource_group="rg-mlops-dev",
            location="westeurope",
            identity_name="id-mlops-dev-pipelines",
            service_connection_name="sc-mlops-dev",
            devops_project_id="project-id",
            subscription_id=SUBSCRIPTION,
            tenant_id="tenant",
            grants={
                "reader": RoleGrant(GROUP_ID, roles.definition_id(SUBSCRIPTION, roles.READER), "reads"),
                "acr-tasks": RoleGrant(
                    f"{GROUP_ID}/providers/Microsoft.ContainerRegistry/registries/cr",
                    roles.definition_id(SUBSCRIPTION, roles.ACR_TASKS_CONTRIBUTOR),
                    "make build-image",
                ),
            },
            tags=TAGS,
        ),
    )


def assert_no_secret(endpoint: dict) -> None:
    assert endpoint["serviceEndpointAuthenticationScheme"] == "WorkloadIdentityFederation"
    credentials = endpoint.get("credentials") or {}
    assert not credentials.get("serviceprincipalkey")
    assert not credentials.get("serviceprincipalcertificate")


def test_service_connection_uses_workload_identity_federation_without_secret(recorder: Recorder) -> None:
    name = resolve(lambda: build().service_endpoint_name)
    endpoint = recorder.one("azuredevops:index/serviceEndpointAzureRM:ServiceEndpointAzureRM").inputs
    assert_no_secret(endpoint)
    assert endpoint["credentials"]["serviceprincipalid"] == "id-mlops-dev-pipelines-client-id"
    assert endpoint["resourceGroup"] == "rg-mlops-dev"
    assert name == "sc-mlops-dev"


def test_federated_credential_uses_the_service_connections_issuer_and_subject(recorder: Recorder) -> None:
    resolve(lambda: build().client_id)
    endpoint = recorder.one("azuredevops:index/serviceEndpointAzureRM:ServiceEndpointAzureRM")
    credential = recorder.one("azure-native:managedidentity:FederatedIdentityCredential").inputs
    assert credential["issuer"].startswith("https://vstoken.dev.azure.com/")
    assert credential["subject"] == "sc://contoso/ml-platform/sc-mlops-dev"
    assert credential["audiences"] == ["api://AzureADTokenExchange"]
    assert credential["resourceName"] == "id-mlops-dev-pipelines"
    federation = recorder.one("azure-native:managedidentity:FederatedIdentityCredential")
    assert endpoint.urn in federation.dependencies


def test_roles_are_granted_on_the_environments_scopes_only(recorder: Recorder) -> None:
    resolve(lambda: build().principal_id)
    assignments = recorder.of_type("azure-native:authorization:RoleAssignment")
    assert len(assignments) == 2
    for assignment in assignments:
        assert assignment.inputs["scope"].startswith(GROUP_ID)
        assert assignment.inputs["principalId"] == "id-mlops-dev-pipelines-principal-id"
        assert not assignment.inputs["roleDefinitionId"].endswith(roles.guid(roles.OWNER))
        # Azure shows what needs the grant; the preflight reports it for a grant no step uses.
        assert assignment.inputs["description"] in ("reads", "make build-image")


@pulumi.runtime.test
def test_authorized_endpoint_waits_for_the_federation_and_every_role(recorder: Recorder):
    # Azure DevOps validates a Key Vault link against the connection's rights when it creates the group.
    identity = build()
    consumer = azuredevops.VariableGroup(
        "consumer",
        project_id="project-id",
        name="vg",
        key_vault=azuredevops.VariableGroupKeyVaultArgs(
            name="kv", service_endpoint_id=identity.authorized_service_endpoint_id
        ),
        variables=[azuredevops.VariableGroupVariableArgs(name="x")],
    )

    def check(_: str) -> None:
        awaited = {
            resource.urn
            for resource in recorder.resources
            if resource.type.endswith((":FederatedIdentityCredential", ":RoleAssignment"))
        }
        assert len(awaited) == 3
        group = recorder.one("azuredevops:index/variableGroup:VariableGroup")
        assert awaited <= set(group.dependencies)

    return consumer.id.apply(check)


def test_check_rejects_a_service_principal_secret() -> None:
    with pytest.raises(AssertionError):
        assert_no_secret(
            {
                "serviceEndpointAuthenticationScheme": "ServicePrincipal",
                "credentials": {"serviceprincipalid": "x", "serviceprincipalkey": "s3cret"},
            }
        )


@pulumi.runtime.test
def test_the_plain_endpoint_id_does_not_wait_for_the_roles(recorder: Recorder):
    identity = build()
    consumer = azuredevops.VariableGroup(
        "consumer",
        project_id="project-id",
        name="vg",
        key_vault=azuredevops.VariableGroupKeyVaultArgs(
            name="kv", service_endpoint_id=identity.service_endpoint_id
        ),
        variables=[azuredevops.VariableGroupVariableArgs(name="x")],
    )

    def check(_: str) -> None:
        roles_urns = {r.urn for r in recorder.resources if r.type.endswith(":RoleAssignment")}
        group = recorder.one("azuredevops:index/variableGroup:VariableGroup")
        assert not roles_urns & set(group.dependencies)

    return consumer.id.apply(check)
