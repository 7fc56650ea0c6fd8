"""One onboarded ML project in Azure DevOps: its pipeline definitions and its main-branch policies."""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azuredevops as azuredevops

from infra import naming
from infra.components import TYPE_PREFIX


def yaml_pipeline(
    logical: str,
    project_id: pulumi.Input[str],
    name: str,
    folder: str,
    repository_id: pulumi.Input[str],
    yml_path: str,
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[int]:
    """A YAML pipeline of an Azure Repos repository's main branch; its id."""
    definition = azuredevops.BuildDefinition(
        logical,
        project_id=project_id,
        name=name,
        path=folder,
        repository=azuredevops.BuildDefinitionRepositoryArgs(
            repo_type="TfsGit", repo_id=repository_id, branch_name=naming.MAIN_REF, yml_path=yml_path
        ),
        # Triggers and schedules live in the YAML, reviewed with the code they run.
        ci_trigger=azuredevops.BuildDefinitionCiTriggerArgs(use_yaml=True),
        opts=opts,
    )
    return definition.id.apply(int)


@dataclass(frozen=True)
class ProjectPipelinesArgs:
    devops_project_id: pulumi.Input[str]
    slug: str
    repository_name: str
    pipeline_names: dict[str, str]
    min_reviewers: int
    owner_ids: Sequence[pulumi.Input[str]]
    # The project's build service (the job token's identity) and the branches its releases are pushed to.
    build_service: pulumi.Input[str]
    deploy_branches: Sequence[str]


class ProjectPipelines(pulumi.ComponentResource):
    pipeline_ids: dict[str, pulumi.Output[int]]

    def __init__(
        self, name: str, args: ProjectPipelinesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:ProjectPipelines", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        repository = azuredevops.get_git_repository_output(
            project_id=args.devops_project_id,
            name=args.repository_name,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        self.pipeline_ids = {}
        for key, yml_path in naming.PROJECT_PIPELINE_FILES.items():
            self.pipeline_ids[key] = yaml_pipeline(
                f"{name}-{key}",
                args.devops_project_id,
                args.pipeline_names[key],
                f"\\{args.slug}",
                repository.id,
                yml_path,
                child,
            )
        scope = {"repository_id": repository.id, "repository_ref": naming.MAIN_REF, "match_type": "Exact"}
        azuredevops.BranchPolicyMinReviewers(
            f"{name}-reviewers",
            project_id=args.devops_project_id,
            enabled=True,
            blocking=True,
            settings=azuredevops.BranchPolicyMinReviewersSettingsArgs(
                reviewer_count=args.min_reviewers,
                submitter_can_vote=False,
                last_pusher_cannot_approve=True,
                on_push_reset_approved_votes=True,
                scopes=[azuredevops.BranchPolicyMinReviewersSettingsScopeArgs(**scope)],
            ),
            opts=child,
        )
        azuredevops.BranchPolicyBuildValidation(
            f"{name}-build-validation",
            project_id=args.devops_project_id,
            enabled=True,
            blocking=True,
            settings=azuredevops.BranchPolicyBuildValidationSettingsArgs(
                build_definition_id=self.pipeline_ids["main"],
                display_name=f"{args.slug}: lint, tests and sanity training",
                valid_duration=720,
                scopes=[azuredevops.BranchPolicyBuildValidationSettingsScopeArgs(**scope)],
            ),
            opts=child,
        )
        azuredevops.BranchPolicyAutoReviewers(
            f"{name}-owners",
            project_id=args.devops_project_id,
            enabled=True,
            blocking=True,
            settings=azuredevops.BranchPolicyAutoReviewersSettingsArgs(
                auto_reviewer_ids=list(args.owner_ids),
                submitter_can_vote=False,
                message=f"Owners of {args.slug} review every change to main.",
                scopes=[azuredevops.BranchPolicyAutoReviewersSettingsScopeArgs(**scope)],
            ),
            opts=child,
        )
        # Releases are pushes to deploy branches (one per environment, reconciled by Flux), never to main.
        # The build service may only read repositories by default ("this identity can read from the repo but
        # cannot push any changes back to it", azure-devops-docs pipelines/scripts/git-commands.md); people
        # may not push deploy branches at all, so a release is always a pipeline's.
        contributors = azuredevops.get_group_output(
            project_id=args.devops_project_id,
            name="Contributors",
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        for branch in args.deploy_branches:
            key = branch.replace("/", "-")
            azuredevops.GitPermissions(
                f"{name}-{key}-build-service",
                project_id=args.devops_project_id,
                repository_id=repository.id,
                branch_name=branch,
                principal=args.build_service,
                permissions={"GenericContribute": "Allow", "CreateBranch": "Allow"},
                replace=False,
                opts=child,
            )
            azuredevops.GitPermissions(
                f"{name}-{key}-contributors",
                project_id=args.devops_project_id,
                repository_id=repository.id,
                branch_name=branch,
                principal=contributors.descriptor,
                permissions={"GenericContribute": "Deny", "ForcePush": "Deny"},
                replace=False,
                opts=child,
            )
        # The drift pipeline queues retraining with the job's token: "Queue builds" on that definition.
        azuredevops.BuildDefinitionPermissions(
            f"{name}-retrain-queue",
            project_id=args.devops_project_id,
            build_definition_id=self.pipeline_ids["retrain"].apply(str),
            principal=args.build_service,
            permissions={"QueueBuilds": "Allow"},
            replace=False,
            opts=child,
        )
        self.register_outputs({"pipeline_ids": self.pipeline_ids})
