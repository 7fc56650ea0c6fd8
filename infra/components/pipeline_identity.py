"""The identity pipelines deploy with: a managed identity federated with an Azure DevOps service
connection (workload identity federation: no secret exists anywhere), and its role assignments."""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azuredevops as azuredevops
from pulumi_azure_native import authorization, managedidentity

from infra.components import TYPE_PREFIX
from infra.components.workload_identities import TOKEN_EXCHANGE_AUDIENCE


@dataclass(frozen=True)
class RoleGrant:
    scope: pulumi.Input[str]
    role_definition_id: str


@dataclass(frozen=True)
class PipelineIdentityArgs:
    resource_group_name: pulumi.Input[str]
    resource_group: str
    location: str
    identity_name: str
    service_connection_name: str
    devops_project_id: pulumi.Input[str]
    subscription_id: str
    tenant_id: pulumi.Input[str]
    # Grant name -> (scope, role). Every scope is inside the environment's resource group.
    grants: Mapping[str, RoleGrant]
    tags: Mapping[str, str]


class PipelineIdentity(pulumi.ComponentResource):
    principal_id: pulumi.Output[str]
    client_id: pulumi.Output[str]
    service_endpoint_id: pulumi.Output[str]
    service_endpoint_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: PipelineIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:PipelineIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=args.identity_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=dict(args.tags),
            opts=child,
        )
        endpoint = azuredevops.ServiceEndpointAzureRM(
            f"{name}-service-connection",
            project_id=args.devops_project_id,
            service_endpoint_name=args.service_connection_name,
            description=f"Deploys to {args.resource_group} by workload identity federation (Pulumi)",
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
        managedidentity.FederatedIdentityCredential(
            f"{name}-federation",
            federated_identity_credential_resource_name="azure-devops",
            resource_name_=identity.name,
            resource_group_name=args.resource_group_name,
            issuer=endpoint.workload_identity_federation_issuer,
            subject=endpoint.workload_identity_federation_subject,
            audiences=[TOKEN_EXCHANGE_AUDIENCE],
            opts=child,
        )
        for grant_name, grant in sorted(args.grants.items()):
            authorization.RoleAssignment(
                f"{name}-{grant_name}",
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=grant.role_definition_id,
                scope=grant.scope,
                opts=child,
            )
        self.principal_id = identity.principal_id
        self.client_id = identity.client_id
        self.service_endpoint_id = endpoint.id
        self.service_endpoint_name = endpoint.service_endpoint_name
        self.register_outputs(
            {
                "principal_id": self.principal_id,
                "client_id": self.client_id,
                "service_endpoint_id": self.service_endpoint_id,
                "service_endpoint_name": self.service_endpoint_name,
            }
        )
