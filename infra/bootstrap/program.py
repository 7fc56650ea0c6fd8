"""The bootstrap stack: what the platform's own pipelines need before they can run, created once by an
administrator (`make bootstrap`, README "Deploying for real").

- resource provider registrations in every environment's subscription;
- per platform stack, a deploy identity and a read-only preview identity, each federated with its own Azure
  DevOps service connection (no secret), with the least roles `pulumi up` / `pulumi preview` of that stack
  needs, and access to the state backend (blob data, and the Key Vault key of the secrets provider);
- those identities as members of the Azure DevOps project (administrators to deploy, readers to preview);
- the custom roles the project pipelines hold in their Kubernetes namespaces and Managed DevOps Pools' service
  principal holds on each environment's VNet;
- what the environment stacks' in-cluster bootstrap needs from an administrator (bootstrap/in_cluster.py);
- this repository's pipelines, the policies on its main branch, the `shared` environment with its approval.

Everything the other stacks need from here reaches them through a StackReference.
"""

import datetime
import uuid

import pulumi
from pulumi_azure_native import authorization, resources

from infra import naming, outputs, providers, roles
from infra.bootstrap import in_cluster
from infra.components.budget import Budget, BudgetArgs, first_of_month
from infra.components.devops_member import DevOpsMember, DevOpsMemberArgs
from infra.components.devops_project import DevOpsProject, DevOpsProjectArgs
from infra.components.pipeline_identity import PipelineIdentity, PipelineIdentityArgs, RoleGrant
from infra.components.platform_pipelines import PlatformPipelines, PlatformPipelinesArgs
from infra.components.resource_providers import ResourceProviders, ResourceProvidersArgs
from infra.config import BootstrapSettings
from infra.devops_users import approver_ids, build_service
from infra.platform_pipelines import DEPLOYING, PREVIEWING
from infra.stacks import ENVIRONMENTS, IDENTITY_STACKS, run_by

# Roles a later environment's stack assigns on an earlier environment's resources (promotion, drift data).
ASSIGNED_ACROSS_ENVIRONMENTS = (roles.ACR_IMPORTER, roles.STORAGE_BLOB_DATA_READER)
# Custom role ids are GUIDs the caller chooses; a name-based UUID keeps them stable across runs.
_ROLE_NAMESPACE = uuid.UUID("6f0c1d1e-6b9f-4c55-9a43-5a8e0e2b7d10")


def delegation_condition(role_guids: list[str]) -> str:
    """An ABAC condition that lets a Role Based Access Control Administrator assign and remove only these
    roles ("Delegate Azure role assignment management using conditions", learn.microsoft.com)."""
    guids = ", ".join(guid.replace("-", "") for guid in role_guids)
    role = "Microsoft.Authorization/roleAssignments:RoleDefinitionId"
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        f"(@Request[{role}] ForAnyOfAnyValues:GuidEquals {{{guids}}}))"
        " AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        f"(@Resource[{role}] ForAnyOfAnyValues:GuidEquals {{{guids}}}))"
    )


def bootstrap_stack(settings: BootstrapSettings) -> None:
    names = settings.names
    tenant_id = authorization.get_client_config_output().tenant_id
    subscription = f"/subscriptions/{settings.subscription_id}"
    project = DevOpsProject("devops", DevOpsProjectArgs(name=settings.devops.project, create=False))
    ResourceProviders(
        "providers",
        ResourceProvidersArgs(
            subscription_ids=[target.subscription_id for target in settings.environments.values()],
            namespaces=providers.REQUIRED,
        ),
    )
    group = resources.ResourceGroup(
        "resource-group",
        resource_group_name=names.resource_group,
        location=settings.location,
        tags=settings.tags,
    )
    Budget(
        "budget",
        BudgetArgs(
            subscription_id=settings.subscription_id,
            budget_name=names.budget,
            amount=settings.budget.monthly_amount,
            resource_group_names=[names.resource_group],
            start_date=first_of_month(datetime.datetime.now(datetime.UTC).date()),
            actual_thresholds=settings.budget.thresholds,
            action_group_id=None,
            emails=settings.alert_emails,
        ),
        opts=pulumi.ResourceOptions(depends_on=[group]),
    )

    def environment_role(key: str, role_name: str, description: str, **permissions: list[str]) -> str:
        """A custom role the environment stacks may assign; its id is stable for the prefix and key.

        Creating or changing a role definition needs Microsoft.Authorization/roleDefinitions/write, which
        only the administrator running this stack holds."""
        guid = str(uuid.uuid5(_ROLE_NAMESPACE, f"{settings.prefix}/{key}"))
        authorization.RoleDefinition(
            f"{key}-role",
            role_definition_id=guid,
            role_name=f"{settings.prefix} {role_name}",
            description=description,
            scope=subscription,
            permissions=[authorization.PermissionArgs(**permissions)],
            assignable_scopes=[f"/subscriptions/{t.subscription_id}" for t in settings.environments.values()],
        )
        return guid

    kube_role_guid = environment_role(
        "pipeline-kube",
        "pipelines in project namespaces",
        "What the onboarded projects' pipelines do with kubectl in their namespace",
        data_actions=list(roles.PIPELINE_KUBE_ROLE_DATA_ACTIONS),
    )
    # Azure's only built-in role with these actions is Network Contributor, which would also let the service
    # rewrite the VNet; the environment stacks assign this one to it instead.
    agent_network_role_guid = environment_role(
        "agent-network",
        "Managed DevOps Pools agents subnet",
        "What Managed DevOps Pools (DevOpsInfrastructure) needs to put agents in a subnet",
        actions=list(roles.MANAGED_DEVOPS_POOLS_NETWORK_ACTIONS),
    )

    serving_identity_role_guid = environment_role(
        "serving-identity-assign",
        "releases give endpoints their serving identity",
        "What a project's release needs to give its Azure ML endpoint the project's user-assigned identity",
        actions=list(roles.SERVING_IDENTITY_ASSIGN_ACTIONS),
    )

    # Previews decrypt the stack's config secrets and must change nothing: the built-in roles that decrypt
    # (Key Vault Crypto User, Officer) can also update keys, and Crypto Service Encryption User only wraps
    # (gocloud's azurekeyvault keeper calls Encrypt/Decrypt), so previews hold this role instead.
    decrypt_role_guid = str(uuid.uuid5(_ROLE_NAMESPACE, f"{settings.prefix}/state-decrypt"))
    state_vault_id = (
        f"{subscription}/resourceGroups/{names.state_resource_group}/providers/Microsoft.KeyVault/vaults/"
        f"{names.state_vault}"
    )
    authorization.RoleDefinition(
        "state-decrypt-role",
        role_definition_id=decrypt_role_guid,
        role_name=f"{settings.prefix} Pulumi state decrypt",
        description="Read and decrypt with the Pulumi secrets provider's key, nothing else",
        scope=subscription,
        permissions=[authorization.PermissionArgs(data_actions=list(roles.STATE_DECRYPT_DATA_ACTIONS))],
        assignable_scopes=[state_vault_id],
    )

    state_account_id = (
        f"{subscription}/resourceGroups/{names.state_resource_group}/providers/Microsoft.Storage/storageAccounts/"
        f"{names.state_account}"
    )
    state_container_id = f"{state_account_id}/blobServices/default/containers/{names.state_container}"
    state_key_id = f"{state_vault_id}/keys/{names.state_key}"

    def grant(subscription_id: str, scope: str, role: str, description: str, condition: str | None = None):
        return RoleGrant(scope, roles.definition_id(subscription_id, role), description, condition)

    platform_kube_roles = in_cluster.platform_kube_roles(settings)
    environment_roles = [
        *(roles.guid(role) for role in roles.ASSIGNED_BY_ENVIRONMENTS),
        kube_role_guid,
        agent_network_role_guid,
        serving_identity_role_guid,
        *platform_kube_roles.values(),
    ]
    principal_ids: dict[bool, dict[str, pulumi.Output[str]]] = {False: {}, True: {}}
    across_roles = [roles.guid(role) for role in ASSIGNED_ACROSS_ENVIRONMENTS]
    connections: dict[str, list[pulumi.Output[str]]] = {key: [] for key in (*DEPLOYING, *PREVIEWING)}
    for stack in IDENTITY_STACKS:
        target = settings.environments.get(stack)
        # An environment's identities run its in-cluster stack too (infra/stacks.py).
        stacks = " and ".join(f"-s {run}" for run in run_by(stack))
        home = target.subscription_id if target else settings.subscription_id
        for preview in (False, True):
            state = {
                "state": grant(
                    settings.subscription_id,
                    state_container_id,
                    roles.STORAGE_BLOB_DATA_READER if preview else roles.STORAGE_BLOB_DATA_CONTRIBUTOR,
                    f"pulumi {'preview' if preview else 'up'} {stacks} "
                    f"{'reads' if preview else 'reads and writes'} their state",
                ),
                "secrets": (
                    RoleGrant(
                        state_key_id,
                        roles.definition_id_of(settings.subscription_id, decrypt_role_guid),
                        f"pulumi preview {stacks} decrypts their config secrets",
                    )
                    if preview
                    else grant(
                        settings.subscription_id,
                        state_key_id,
                        roles.KEY_VAULT_CRYPTO_USER,
                        f"pulumi up {stacks} decrypts and encrypts their config secrets",
                    )
                ),
            }
            grants = dict(state)
            if target:
                position = ENVIRONMENTS.index(stack)
                earlier = sorted({ENVIRONMENTS[0], ENVIRONMENTS[max(position - 1, 0)]} - {stack})
            else:
                earlier = []
            if target and preview:
                grants["reader"] = grant(
                    home,
                    f"/subscriptions/{home}",
                    roles.READER,
                    f"pulumi preview -s {stack} reads what exists",
                )
            elif target:
                grants["contributor"] = grant(
                    home,
                    f"/subscriptions/{home}",
                    roles.CONTRIBUTOR,
                    f"pulumi up -s {stack} creates its resource group and everything in it",
                )
                grants["role-assignments"] = grant(
                    home,
                    f"/subscriptions/{home}",
                    roles.RBAC_ADMINISTRATOR,
                    f"pulumi up -s {stack} assigns the roles its identities need, and only those",
                    delegation_condition(environment_roles),
                )
            for other in earlier:
                other_target = settings.environments[other]
                other_group = (
                    f"/subscriptions/{other_target.subscription_id}/resourceGroups/"
                    f"{naming.Names(settings.prefix, other, other_target.subscription_id).resource_group}"
                )
                # The stack assigns its pipelines roles on the earlier environment's registry and data.
                if preview:
                    grants[f"read-{other}"] = grant(
                        other_target.subscription_id,
                        other_group,
                        roles.READER,
                        f"pulumi preview -s {stack} reads its role assignments in {other}",
                    )
                else:
                    grants[f"assign-in-{other}"] = grant(
                        other_target.subscription_id,
                        other_group,
                        roles.RBAC_ADMINISTRATOR,
                        f"pulumi up -s {stack} lets its pipelines read {other}'s registry and data",
                        delegation_condition(across_roles),
                    )
            identity = PipelineIdentity(
                f"{stack}-{'preview' if preview else 'deploy'}",
                PipelineIdentityArgs(
                    resource_group_name=group.name,
                    resource_group=None,
                    location=settings.location,
                    identity_name=names.identity(stack, preview),
                    service_connection_name=names.service_connection(stack, preview),
                    devops_project_id=project.project_id,
                    subscription_id=home,
                    tenant_id=tenant_id,
                    grants=grants,
                    tags=settings.tags,
                ),
            )
            DevOpsMember(
                f"{stack}-{'preview' if preview else 'deploy'}-member",
                DevOpsMemberArgs(
                    principal_id=identity.principal_id,
                    devops_project_id=project.project_id,
                    group="Readers" if preview else "Project Administrators",
                ),
            )
            for key in PREVIEWING if preview else DEPLOYING:
                connections[key].append(identity.service_endpoint_id)
            principal_ids[preview][stack] = identity.principal_id

    pipelines = PlatformPipelines(
        "platform",
        PlatformPipelinesArgs(
            devops_project_id=project.project_id,
            repository_name=settings.devops.platform_repository,
            min_reviewers=settings.branch_min_reviewers,
            approver_ids=approver_ids(project.project_id, settings.approvers),
            build_service=build_service(settings.devops.organization_url, settings.devops.project),
            connections=connections,
            stacks=settings.deploy_approvals,
        ),
    )
    exported = {
        outputs.PIPELINE_KUBE_ROLE: kube_role_guid,
        outputs.AGENT_NETWORK_ROLE: agent_network_role_guid,
        outputs.SERVING_IDENTITY_ROLE: serving_identity_role_guid,
        outputs.PLATFORM_PIPELINES: pipelines.pipeline_ids,
        outputs.STATE_CONTAINER_ID: state_container_id,
        outputs.STATE_KEY_ID: state_key_id,
        outputs.PLATFORM_KUBE_ROLES: platform_kube_roles,
        outputs.DEPLOY_PRINCIPAL_IDS: principal_ids[False],
        outputs.PREVIEW_PRINCIPAL_IDS: principal_ids[True],
        outputs.FLUX_IDENTITIES: in_cluster.flux_identities(
            settings, group.name, project.project_id, principal_ids[False], principal_ids[True]
        ),
    }
    for key, value in exported.items():
        pulumi.export(key, value)
