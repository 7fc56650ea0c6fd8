"""The platform as the preflight sees it: what the mock runs of every stack declare, indexed for lookups.

Everything here comes from the real program run under mocks with the committed stack files: role
assignments, the identities behind service connections, the resources steps name, and the Azure DevOps
objects (branch policies, Git permissions, pipeline authorizations, environments and their checks).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.managed_devops_pools import POOL
from infra.preflight.rbac import Assignment
from infra.roles import Role, RoleDefinitions
from infra.tools.mock_run import DeclaredResource, StackRun

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
USER_ASSIGNED_IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
SERVICE_ENDPOINT = "azuredevops:index/serviceEndpointAzureRM:ServiceEndpointAzureRM"
PIPELINE_AUTHORIZATION = "azuredevops:index/pipelineAuthorization:PipelineAuthorization"
ENVIRONMENT = "azuredevops:index/environment:Environment"
VARIABLE_GROUP = "azuredevops:index/variableGroup:VariableGroup"
GIT_PERMISSIONS = "azuredevops:index/gitPermissions:GitPermissions"
BUILD_DEFINITION_PERMISSIONS = "azuredevops:index/buildDefinitionPermissions:BuildDefinitionPermissions"
BUILD_DEFINITION = "azuredevops:index/buildDefinition:BuildDefinition"
BRANCH_POLICIES = (
    "azuredevops:index/branchPolicyMinReviewers:BranchPolicyMinReviewers",
    "azuredevops:index/branchPolicyBuildValidation:BranchPolicyBuildValidation",
    "azuredevops:index/branchPolicyAutoReviewers:BranchPolicyAutoReviewers",
)
CHECKS = (
    "azuredevops:index/checkApproval:CheckApproval",
    "azuredevops:index/checkBranchControl:CheckBranchControl",
    "azuredevops:index/checkExclusiveLock:CheckExclusiveLock",
)

# Pulumi type -> (the kind a `#@ ... on <kind>` clause names, the input that holds the Azure name).
RESOURCE_KINDS: Mapping[str, tuple[str, str]] = {
    "azure-native:resources:ResourceGroup": ("resource-group", "resourceGroupName"),
    "azure-native:containerregistry:Registry": ("registry", "registryName"),
    "azure-native:machinelearningservices:Workspace": ("workspace", "workspaceName"),
    "azure-native:containerservice:ManagedCluster": ("aks", "resourceName"),
    "azure-native:storage:StorageAccount": ("storage-account", "accountName"),
    "azure-native:keyvault:Vault": ("key-vault", "vaultName"),
    "azure-native:applicationinsights:Component": ("app-insights", "resourceName"),
}


@dataclass(frozen=True)
class Located:
    """An Azure resource of one stack: its ARM id and the resource the program declared."""

    stack: str
    id: str
    resource: DeclaredResource


@dataclass(frozen=True)
class ServiceConnection:
    name: str
    stack: str
    id: str
    principal: str
    identity_name: str


@dataclass
class Platform:
    runs: Mapping[str, StackRun]
    roles: RoleDefinitions
    assignments: list[Assignment] = field(default_factory=list)
    resources: dict[tuple[str, str], Located] = field(default_factory=dict)
    connections: dict[str, ServiceConnection] = field(default_factory=dict)

    @classmethod
    def from_runs(cls, runs: Mapping[str, StackRun], roles: RoleDefinitions | None = None) -> Platform:
        builtin = roles or RoleDefinitions.load()
        # Custom roles the stacks define are evaluated by the same rules as the built-in ones.
        custom = [custom_role(resource) for run in runs.values() for resource in run.of_type(ROLE_DEFINITION)]
        platform = cls(runs, builtin.extended(custom))
        for stack, run in runs.items():
            platform._index(stack, run)
        return platform

    def _index(self, stack: str, run: StackRun) -> None:
        identities_by_client = {}
        for resource in run.resources:
            if resource.type in RESOURCE_KINDS:
                kind, name_input = RESOURCE_KINDS[resource.type]
                name = resource.inputs.get(name_input, resource.name)
                self.resources[(kind, str(name).lower())] = Located(stack, resource.id, resource)
            elif resource.type == USER_ASSIGNED_IDENTITY:
                name = resource.inputs.get("resourceName", resource.name)
                located = Located(stack, resource.id, resource)
                self.resources[("managed-identity", str(name).lower())] = located
                # The mocks derive client and principal ids from the name, as Azure ties them to the identity.
                identities_by_client[f"{name}-client-id"] = (name, f"{name}-principal-id")
        for resource in run.of_type(ROLE_ASSIGNMENT):
            self.assignments.append(
                Assignment(
                    principal=str(resource.inputs["principalId"]),
                    role=self.roles.by_definition_id(str(resource.inputs["roleDefinitionId"])),
                    scope=str(resource.inputs["scope"]),
                    stack=stack,
                    description=str(resource.inputs.get("description", "")),
                    condition=str(resource.inputs.get("condition") or ""),
                )
            )
        for resource in run.of_type(SERVICE_ENDPOINT):
            client = resource.inputs.get("credentials", {}).get("serviceprincipalid", "")
            identity_name, principal = identities_by_client.get(
                client, (client, f"unknown principal of {client}")
            )
            name = str(resource.inputs["serviceEndpointName"])
            self.connections[name] = ServiceConnection(name, stack, resource.id, principal, identity_name)

    def agent_pool(self, name: str) -> tuple[str, DeclaredResource] | None:
        """(stack, resource) of the Managed DevOps Pool of this name: its Azure DevOps agent pool's name."""
        return next(
            ((stack, pool) for stack, pool in self.of_type(POOL) if pool.inputs.get("poolName") == name), None
        )

    def find(self, kind: str, name: str) -> Located | None:
        return self.resources.get((kind, name.lower()))

    def find_id(self, resource_id: str) -> Located | None:
        wanted = resource_id.rstrip("/").lower()
        return next((found for found in self.resources.values() if found.id.lower() == wanted), None)

    def of_type(self, type_: str) -> Iterator[tuple[str, DeclaredResource]]:
        for stack, run in self.runs.items():
            for resource in run.of_type(type_):
                yield stack, resource

    def outputs(self, stack: str) -> Mapping[str, Any]:
        return self.runs[stack].outputs


def custom_role(resource: DeclaredResource) -> Role:
    """A custom role as declared by a stack (`authorization.RoleDefinition`)."""
    permissions = resource.inputs.get("permissions") or [{}]

    def merged(key: str) -> tuple[str, ...]:
        return tuple(item for permission in permissions for item in permission.get(key) or [])

    return Role(
        name=str(resource.inputs.get("roleName", resource.name)),
        id=str(resource.inputs["roleDefinitionId"]),
        actions=merged("actions"),
        not_actions=merged("notActions"),
        data_actions=merged("dataActions"),
        not_data_actions=merged("notDataActions"),
        conditional=False,
    )
