"""What the bootstrap stack prepares for the environment stacks' in-cluster bootstrap
(infra/components/cluster_gitops.py), because only an administrator may do it:

- the custom roles a deploy identity needs in its AKS cluster (a role definition needs
  Microsoft.Authorization/roleDefinitions/write, which no pipeline identity holds);
- per environment, the identity Flux's source-controller reads Azure Repos with. Azure DevOps accepts a
  service principal only once it is a member of the organisation ("Add and manage service principals in an
  Azure DevOps organization", azure-devops-docs), which takes an organisation administrator; Flux needs the
  project's Readers group to clone (Flux docs, integrations/azure.md, "For Azure DevOps"). The environment
  stack federates the identity with its cluster's issuer once the cluster exists, so its deploy identity may
  manage that identity's federated credentials, and nothing else of it; its preview identity may read them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import pulumi
from pulumi_azure_native import authorization

from infra import outputs, roles
from infra.components.devops_member import DevOpsMember, DevOpsMemberArgs
from infra.components.identity_grants import grant_role, user_assigned_identity
from infra.config import BootstrapSettings

# Custom role ids are GUIDs the caller chooses; a name-based UUID keeps them stable across runs.
_ROLE_NAMESPACE = uuid.UUID("6f0c1d1e-6b9f-4c55-9a43-5a8e0e2b7d10")


def kube_role_guid(prefix: str, role: roles.KubeRole) -> str:
    return str(uuid.uuid5(_ROLE_NAMESPACE, f"{prefix}/platform-kube-{role.key}"))


def platform_kube_roles(settings: BootstrapSettings) -> dict[str, str]:
    """Define the deploy identities' in-cluster roles; {KubeRole key: GUID}."""
    guids = {}
    for role in roles.KUBE_ROLES:
        guid = kube_role_guid(settings.prefix, role)
        authorization.RoleDefinition(
            f"platform-kube-{role.key}-role",
            role_definition_id=guid,
            role_name=f"{settings.prefix} {role.name}",
            description=role.description,
            scope=f"/subscriptions/{settings.subscription_id}",
            permissions=[authorization.PermissionArgs(data_actions=list(role.data_actions))],
            assignable_scopes=[f"/subscriptions/{t.subscription_id}" for t in settings.environments.values()],
        )
        guids[role.key] = guid
    return guids


def flux_identities(
    settings: BootstrapSettings,
    resource_group_name: pulumi.Input[str],
    devops_project_id: pulumi.Input[str],
    deploy_principal_ids: Mapping[str, pulumi.Input[str]],
    preview_principal_ids: Mapping[str, pulumi.Input[str]],
) -> dict[str, dict[str, pulumi.Input[str]]]:
    """One Flux identity per environment; {environment: {FLUX_IDENTITY_* key: value}}."""
    names = settings.names
    published: dict[str, dict[str, pulumi.Input[str]]] = {}
    for environment in settings.environments:
        identity = user_assigned_identity(
            f"flux-{environment}-identity",
            resource_name=names.flux_identity(environment),
            resource_group_name=resource_group_name,
            location=settings.location,
            tags=settings.tags,
        )
        DevOpsMember(
            f"flux-{environment}-member",
            DevOpsMemberArgs(
                principal_id=identity.principal_id, devops_project_id=devops_project_id, group="Readers"
            ),
        )
        for preview, principals, role, verb in (
            (False, deploy_principal_ids, roles.FEDERATED_CREDENTIAL_CONTRIBUTOR, "federates"),
            (True, preview_principal_ids, roles.READER, "reads the federation of"),
        ):
            grant_role(
                f"flux-{environment}-{'preview' if preview else 'deploy'}-federation-rights",
                principal_id=principals[environment],
                role_definition_id=roles.definition_id(settings.subscription_id, role),
                scope=identity.id,
                description=(
                    f"pulumi {'preview' if preview else 'up'} -s {environment} {verb} Flux's identity with "
                    "its cluster's OIDC issuer"
                ),
            )
        published[environment] = {
            outputs.FLUX_IDENTITY_CLIENT_ID: identity.client_id,
            outputs.FLUX_IDENTITY_NAME: identity.name,
            outputs.FLUX_IDENTITY_RESOURCE_GROUP: resource_group_name,
            outputs.FLUX_IDENTITY_SUBSCRIPTION_ID: settings.subscription_id,
        }
    return published
