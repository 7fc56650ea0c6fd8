"""The identity pipelines deploy with: a managed identity federated with an Azure DevOps service
connection (workload identity federation: no secret exists anywhere), and its role assignments."""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azuredevops as azuredevops
from pulumi_azure_native import managedidentity

from infra.components import TYPE_PREFIX
from infra.components.identity_grants import grant_role, user_assigned_identity
from infra.components.workload_identities import TOKEN_EXCHANGE_AUDIENCE


@dataclass(frozen=True)
class RoleGrant:
    scope: pulumi.Input[str]
    role_definition_id: pulumi.Input[str]
    # What needs it (the make target or Azure DevOps feature): the assignment's description in Azure, and
    # what the preflight reports for a grant no pipeline step uses.
    description: str
    # An ABAC condition that narrows the role (role assignment delegation: which roles it may assign).
    condition: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class PipelineIdentityArgs:
    # Where the identity lives.
    resource_group_name: pulumi.Input[str]
    # The connection's scope: a resource group of `subscription_id`, or None for the whole subscription.
    resource_group: str | None
    location: str
    identity_name: str
    service_connection_name: str
    devops_project_id: pulumi.Input[str]
    subscription_id: str
    tenant_id: pulumi.Input[str]
    # Grant name -> (scope, role, what needs it).
    grants: Mapping[str, RoleGrant]
    tags: Mapping[str, str]


class PipelineIdentity(pulumi.ComponentResource):
    principal_id: pulumi.Output[str]
    client_id: pulumi.Output[str]
    service_endpoint_id: pulumi.Output[str]
    service_endpoint_name: pulumi.Output[str]
    # The same id, known only once the federated credential and every role assignment exist: Azure DevOps
    # validates a Key Vault link or an agent pool against the connection's rights when it creates them
    # (microsoft/terraform-provider-azuredevops#1069), so those take this one.
    authorized_service_endpoint_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: PipelineIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:PipelineIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = user_assigned_identity(
            f"{name}-identity",
            resource_name=args.identity_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=dict(args.tags),
            opts=child,
        )
        endpoint = azuredevops.ServiceEndpointAzureRM(
            f"{name}-service-connection",
            project_id=args.devops_project_id,
            service_endpoint_name=args.service_connection_name,
            description=(
                f"Deploys to {args.resource_group or args.subscription_id} "
                "by workload identity federation (Pulumi)"
            ),
            service_endpoint_authentication_scheme="WorkloadIdentityFederation",
            credentials=azuredevops.ServiceEndpointAzureRMCredentialsArgs(
                serviceprincipalid=identity.client_id
            ),
            azurerm_spn_tenantid=args.tenant_id,
            azurerm_subscription_id=args.subscription_id,
            azurerm_subscription_name=args.subscription_id,
            resource_group=args.resource_group,
            opts=child,
        )
        # Azure DevOps issues tokens with this issuer and subject for the service connection; the
        # credential makes Entra ID accept them for the managed identity.
        federation = managedidentity.FederatedIdentityCredential(
            f"{name}-federation",
            federated_identity_credential_resource_name="azure-devops",
            resource_name_=identity.name,
            resource_group_name=args.resource_group_name,
            issuer=endpoint.workload_identity_federation_issuer,
            subject=endpoint.workload_identity_federation_subject,
            audiences=[TOKEN_EXCHANGE_AUDIENCE],
            opts=child,
        )
        assignments = [
            grant_role(
                f"{name}-{grant_name}",
                principal_id=identity.principal_id,
                role_definition_id=grant.role_definition_id,
                scope=grant.scope,
                description=grant.description,
                condition=grant.condition,
                opts=child,
            )
            for grant_name, grant in sorted(args.grants.items())
        ]
        self.principal_id = identity.principal_id
        self.client_id = identity.client_id
        self.service_endpoint_id = endpoint.id
        self.service_endpoint_name = endpoint.service_endpoint_name
        self.authorized_service_endpoint_id = pulumi.Output.all(
            endpoint.id, federation.id, *(assignment.id for assignment in assignments)
        ).apply(lambda ids: ids[0])
        self.register_outputs(
            {
                "authorized_service_endpoint_id": self.authorized_service_endpoint_id,
                "principal_id": self.principal_id,
                "client_id": self.client_id,
                "service_endpoint_id": self.service_endpoint_id,
                "service_endpoint_name": self.service_endpoint_name,
            }
        )
