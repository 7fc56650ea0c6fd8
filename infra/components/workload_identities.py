"""Per onboarded project: its serving identity. Its pods run as it through AKS workload identity; with the
aml-endpoint serving target, its Azure ML online endpoint runs as it (a user-assigned endpoint identity)."""

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
    # The project's Azure ML online endpoint in this environment (aml-endpoint serving target).
    online_endpoint: str


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
    # An online endpoint pulls its image from the registry and reads the workspace's default datastore, and a
    # user-assigned endpoint identity gets neither right by itself ("There's no automatic role assignment if
    # the endpoint identity is a user-assigned identity", concept-endpoints-online-auth).
    registry_id: pulumi.Input[str]
    workspace_storage_id: pulumi.Input[str]
    projects: Sequence[ProjectServiceAccount]
    tags: Mapping[str, str]


BLOB_ACTIONS = tuple(
    f"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/{action}"
    for action in ("read", "write", "delete", "add/action", "move/action")
)


def blob_prefix_condition(prefix: str, actions: Sequence[str] = BLOB_ACTIONS) -> str:
    """These blob data actions allowed only under the prefix; the role's other actions as they are."""
    others = " AND ".join(f"!(ActionMatches{{'{action}'}})" for action in actions)
    path = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]"
    return f"(({others}) OR ({path} StringStartsWith '{prefix}'))"


def inference_data_condition(slug: str) -> str:
    """Every blob data action allowed only under the project's inference data prefix."""
    return blob_prefix_condition(telemetry.inference_data_prefix(slug))


def collector_condition(endpoint: str) -> str:
    """Writing and deleting allowed only under the endpoint's data collector prefix (reading stays as Storage
    Blob Data Reader grants it, beside)."""
    writes = tuple(action for action in BLOB_ACTIONS if not action.endswith("/read"))
    return blob_prefix_condition(telemetry.collector_prefix(endpoint), writes)


class WorkloadIdentities(pulumi.ComponentResource):
    client_ids: Mapping[str, pulumi.Output[str]]
    identity_ids: Mapping[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: WorkloadIdentitiesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:WorkloadIdentities", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        client_ids: dict[str, pulumi.Output[str]] = {}
        identity_ids: dict[str, pulumi.Output[str]] = {}
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
            for key, role, scope, condition, description in service_rights(project, args):
                grant_role(
                    f"{name}-{project.slug}-{key}",
                    principal_id=identity.principal_id,
                    role_definition_id=roles.definition_id(args.subscription_id, role),
                    scope=scope,
                    condition=condition,
                    description=description,
                    opts=child,
                )
            client_ids[project.slug] = identity.client_id
            identity_ids[project.slug] = identity.id
        self.client_ids = client_ids
        self.identity_ids = identity_ids
        self.register_outputs({"client_ids": client_ids, "identity_ids": identity_ids})


def service_rights(
    project: ProjectServiceAccount, args: WorkloadIdentitiesArgs
) -> tuple[tuple[str, str, pulumi.Input[str], str | None, str], ...]:
    """(key, role, scope, ABAC condition, description) of every grant to a project's serving identity.

    Its service sends telemetry (Application Insights has local auth off) and writes inference data: writing
    a blob is blobs/write (or add/action), which Storage Blob Data Contributor grants on the container; an
    ABAC condition keeps every blob action to the project's prefix, so a service can neither read nor
    overwrite the training data beside it (learn.microsoft.com/azure/storage/blobs/
    storage-auth-abac-attributes, "Blob path"). As an Azure ML online endpoint's identity it needs what
    Azure ML asks ("Online endpoints require AcrPull permission to container registry and Storage Blob Data
    Reader permission to the default datastore of the workspace",
    how-to-access-resources-from-endpoints-managed-identities), and the data collector's writes, which it
    makes as the endpoint identity when no other is named (the collection's clientId: "If it's null, backend
    will pick a registered endpoint identity to auth", Azure ML REST API)."""
    slug, endpoint = project.slug, f"{project.slug}'s Azure ML online endpoint"
    return (
        (
            "telemetry",
            roles.MONITORING_METRICS_PUBLISHER,
            args.app_insights_id,
            None,
            f"{slug}'s pods send telemetry (Application Insights has local auth off)",
        ),
        (
            "inference-data",
            roles.STORAGE_BLOB_DATA_CONTRIBUTOR,
            args.inference_data_container_id,
            inference_data_condition(slug),
            f"{slug}'s service writes its inference data under its own prefix",
        ),
        ("endpoint-acr-pull", roles.ACR_PULL, args.registry_id, None, f"{endpoint} pulls its image"),
        (
            "endpoint-datastore-reader",
            roles.STORAGE_BLOB_DATA_READER,
            args.workspace_storage_id,
            None,
            f"{endpoint} reads the workspace's default datastore",
        ),
        (
            "endpoint-collector",
            roles.STORAGE_BLOB_DATA_CONTRIBUTOR,
            args.workspace_storage_id,
            collector_condition(project.online_endpoint),
            f"{endpoint} writes its inference data (Azure ML's data collector) under its own prefix",
        ),
    )
