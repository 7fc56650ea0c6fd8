"""The platform's user-assigned identities and the role assignments it gives service principals.

Every principal the platform assigns a role to is a service principal (a managed identity, an Azure DevOps
connection's identity, a first-party service such as DevOpsInfrastructure, a kubelet). The assignment says so:
without `principalType` Azure Resource Manager looks the principal up in Microsoft Entra ID first, and an
identity created moments earlier in the same deployment may not have replicated yet, which fails the
assignment with PrincipalNotFound (the "New service principal" section of Azure's role assignment templates
guide, learn.microsoft.com/azure/role-based-access-control/role-assignments-template; Azure/AgentBaker#8251).
"""

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import authorization, managedidentity

SERVICE_PRINCIPAL = "ServicePrincipal"
# Attribute-based conditions on role assignments are version 2.0 (role-assignments-conditions-format).
CONDITION_VERSION = "2.0"


def user_assigned_identity(
    name: str,
    resource_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    location: pulumi.Input[str],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions | None = None,
) -> managedidentity.UserAssignedIdentity:
    return managedidentity.UserAssignedIdentity(
        name,
        resource_name_=resource_name,
        resource_group_name=resource_group_name,
        location=location,
        tags=dict(tags),
        opts=opts,
    )


def grant_role(
    name: str,
    principal_id: pulumi.Input[str],
    role_definition_id: pulumi.Input[str],
    scope: pulumi.Input[str],
    description: pulumi.Input[str],
    opts: pulumi.ResourceOptions | None = None,
    condition: pulumi.Input[str] | None = None,
) -> authorization.RoleAssignment:
    """A role assignment to a service principal, with its ABAC condition where one narrows it."""
    return authorization.RoleAssignment(
        name,
        principal_id=principal_id,
        principal_type=SERVICE_PRINCIPAL,
        role_definition_id=role_definition_id,
        scope=scope,
        description=description,
        condition=condition,
        condition_version=CONDITION_VERSION if condition else None,
        opts=opts,
    )
