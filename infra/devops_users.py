"""Resolve people named in config (e-mail addresses) to Azure DevOps identity ids."""

from collections.abc import Sequence

import pulumi
import pulumi_azuredevops as azuredevops


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
