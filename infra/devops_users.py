"""Resolve people and groups named in config to Azure DevOps identity ids."""

from collections.abc import Sequence

import pulumi
import pulumi_azuredevops as azuredevops

from infra.config import DEVOPS_GROUP


def user_id(email: str) -> pulumi.Output[str]:
    """The id of the one Azure DevOps user with this principal name; fails the run if there is none."""

    def single(result: azuredevops.GetUsersResult) -> str:
        users = list(result.users or [])
        if len(users) != 1:
            raise pulumi.RunError(
                f"Azure DevOps has {len(users)} users named {email!r}; expected exactly one"
            )
        return users[0].id

    return azuredevops.get_users_output(principal_name=email).apply(single)


def user_ids(emails: Sequence[str]) -> list[pulumi.Output[str]]:
    return [user_id(email) for email in emails]


def group_id(project_id: pulumi.Input[str], name: str) -> pulumi.Output[str]:
    """The origin id of a project group (`[<project>]\\<group>` in config), as approval checks take it."""
    match = DEVOPS_GROUP.fullmatch(name)
    if match is None:
        raise ValueError(f"{name!r} is not a group name of the form [<project>]\\<group>")

    def origin(result: azuredevops.GetGroupResult) -> str:
        if not result.origin_id:
            raise pulumi.RunError(f"Azure DevOps project has no group {name!r}")
        return result.origin_id

    return azuredevops.get_group_output(project_id=project_id, name=match["group"]).apply(origin)


def approver_ids(project_id: pulumi.Input[str], approvers: Sequence[str]) -> list[pulumi.Output[str]]:
    """Users by e-mail address, groups by name; a group counts as one approver, any member may approve."""
    return [
        group_id(project_id, entry) if DEVOPS_GROUP.fullmatch(entry) else user_id(entry)
        for entry in approvers
    ]


def build_service(organization_url: str, project: str) -> pulumi.Output[str]:
    """The subject descriptor of the project's build service, the identity behind `$(System.AccessToken)` when
    job authorization is limited to the current project (the default for new projects; otherwise the
    organisation's "Project Collection Build Service" runs the jobs). Source: azure-devops-docs,
    pipelines/process/access-tokens.md. The identity exists once the project has run a pipeline."""
    organization = organization_url.rstrip("/").rpartition("/")[2]
    name = f"{project} Build Service ({organization})"

    def found(result: azuredevops.GetIdentityUsersResult) -> str:
        if not result.subject_descriptor:
            raise pulumi.RunError(
                f"Azure DevOps has no identity {name!r}: run any pipeline of the project once"
            )
        return result.subject_descriptor

    return azuredevops.get_identity_users_output(name=name).apply(found)
