"""An Entra identity made a member of the Azure DevOps organisation and of one project group.

The platform's Pulumi runs sign in to Azure DevOps as their own managed identity (OIDC through their
service connection, no PAT): a service principal acts in Azure DevOps only once it has an entitlement in the
organisation ("Add the service principal to your Azure DevOps organization", azure-devops-docs,
integrate/get-started/authentication/service-principal-managed-identity.md), and only with the permissions of
the groups it is in.
"""

from dataclasses import dataclass

import pulumi
import pulumi_azuredevops as azuredevops

from infra.components import TYPE_PREFIX


@dataclass(frozen=True)
class DevOpsMemberArgs:
    principal_id: pulumi.Input[str]
    devops_project_id: pulumi.Input[str]
    # A built-in project group: "Project Administrators" to manage what a stack declares, "Readers" to
    # preview it.
    group: str


class DevOpsMember(pulumi.ComponentResource):
    descriptor: pulumi.Output[str]

    def __init__(self, name: str, args: DevOpsMemberArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:DevOpsMember", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        entitlement = azuredevops.ServicePrincipalEntitlement(
            f"{name}-entitlement",
            origin="aad",
            origin_id=args.principal_id,
            account_license_type="express",
            opts=child,
        )
        group = azuredevops.get_group_output(
            project_id=args.devops_project_id, name=args.group, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        azuredevops.GroupMembership(
            f"{name}-membership",
            group=group.descriptor,
            members=[entitlement.descriptor],
            # Add, never replace: the group has members Pulumi does not manage.
            mode="add",
            opts=child,
        )
        self.descriptor = entitlement.descriptor
        self.register_outputs({"descriptor": self.descriptor})
