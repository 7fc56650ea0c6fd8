"""The checks that stand between a pipeline and an Azure DevOps environment, for the projects' environments
(qa, prod) and the platform's own stacks alike: deploy only from main, whose branch policies must exist
(`verify_branch_protection`: a check on an unprotected branch fails rather than waits), one run at a time,
and where the environment is protected, a person's approval that the requester cannot give."""

from collections.abc import Sequence

import pulumi
import pulumi_azuredevops as azuredevops

from infra import naming

# Approvals wait up to 3 days; the default 30 days leaves stale runs holding the exclusive lock.
APPROVAL_TIMEOUT_MINUTES = 3 * 24 * 60


def environment_checks(
    prefix: str,
    project_id: pulumi.Input[str],
    environment_id: pulumi.Input[int],
    subject: str,
    approval: str | None,
    approver_ids: Sequence[pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
) -> None:
    """Branch control and exclusive lock on the environment; an approval too when `approval` (the approver's
    instructions) is given. `subject` names what deploys, for the branch control's display name."""
    target = {
        "project_id": project_id,
        "target_resource_id": environment_id,
        "target_resource_type": "environment",
    }
    azuredevops.CheckBranchControl(
        f"{prefix}-branch-control",
        display_name=f"{subject} deploys only from main",
        allowed_branches=naming.MAIN_REF,
        verify_branch_protection=True,
        ignore_unknown_protection_status=False,
        opts=opts,
        **target,
    )
    azuredevops.CheckExclusiveLock(f"{prefix}-exclusive-lock", opts=opts, **target)
    if approval is not None:
        azuredevops.CheckApproval(
            f"{prefix}-approval",
            approvers=list(approver_ids),
            minimum_required_approvers=1,
            requester_can_approve=False,
            instructions=approval,
            timeout=APPROVAL_TIMEOUT_MINUTES,
            opts=opts,
            **target,
        )
