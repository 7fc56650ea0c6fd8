"""Per onboarded project: the managed identity its pods use through AKS workload identity."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import managedidentity

from infra import roles, telemetry
from infra.components import TYPE_PREFIX
from infra.components.identity_grants import grant_role, user_assigned_identity

# Azure's audience for tokens exchanged through federated credentials.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class ProjectServiceAccount:
    slug: str
    identity_name: str
    namespace: str
    service_account: str


@dataclass(frozen=True)
class WorkloadIdentitiesArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    subscription_id: str
    oidc_issuer_url: pulumi.Input[str]
    # Application Insights has local auth off, so services publish telemetry with their identity.
    app_insights_id: pulumi.Input[str]
    # The environment's DVC container: each service writes its inference data under its own prefix there.
    inference_data_container_id: pulumi.Input[str]
    projects: Sequence[ProjectServiceAccount]
    tags: Mapping[str, str]


BLOB_ACTIONS = tuple(
    f"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/{action}"
    for action in ("read", "write", "delete", "add/action", "move/action")
)


def inference_data_condition(slug: str) -> str:
    """Every blob data action allowed only under the project's inference data prefix."""
    others = " AND ".join(f"!(ActionMatches{{'{action}'}})" for action in BLOB_ACTIONS)
    path = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]"
    return f"(({others}) OR ({path} StringStartsWith '{telemetry.inference_data_prefix(slug)}'))"


class WorkloadIdentities(pulumi.ComponentResource):
    client_ids: Mapping[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: WorkloadIdentitiesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:WorkloadIdentities", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        client_ids: dict[str, pulumi.Output[str]] = {}
        for project in args.projects:
            identity = user_assigned_identity(
                f"{name}-{project.slug}",
                resource_name=project.identity_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                tags=dict(args.tags),
                opts=child,
            )
            managedidentity.FederatedIdentityCredential(
                f"{name}-{project.slug}-federation",
                federated_identity_credential_resource_name=f"aks-{project.slug}",
                resource_name_=identity.name,
                resource_group_name=args.resource_group_name,
                issuer=args.oidc_issuer_url,
                subject=f"system:serviceaccount:{project.namespace}:{project.service_account}",
                audiences=[TOKEN_EXCHANGE_AUDIENCE],
                opts=child,
            )
            grant_role(
                f"{name}-{project.slug}-telemetry",
                principal_id=identity.principal_id,
                role_definition_id=roles.definition_id(
                    args.subscription_id, roles.MONITORING_METRICS_PUBLISHER
                ),
                scope=args.app_insights_id,
                description=f"{project.slug}'s pods send telemetry (Application Insights has local auth off)",
                opts=child,
            )
            # Writing a blob is blobs/write (or add/action), which Storage Blob Data Contributor grants on the
            # container; an ABAC condition keeps every blob action of the identity to its own prefix, so a
            # service can neither read nor overwrite the training data beside it (learn.microsoft.com/azure/
            # storage/blobs/storage-auth-abac-attributes, "Blob path"; condition version 2.0).
            grant_role(
                f"{name}-{project.slug}-inference-data",
                principal_id=identity.principal_id,
                role_definition_id=roles.definition_id(
                    args.subscription_id, roles.STORAGE_BLOB_DATA_CONTRIBUTOR
                ),
                scope=args.inference_data_container_id,
                condition=inference_data_condition(project.slug),
                description=f"{project.slug}'s service writes its inference data under its own prefix",
                opts=child,
            )
            client_ids[project.slug] = identity.client_id
        self.client_ids = client_ids
        self.register_outputs({"client_ids": client_ids})
