"""This repository in Azure DevOps: its four pipelines, the policies on its main branch, the environments its
deployments bind to (one per platform stack, with their checks) and what each pipeline may use.

The branch policies are also what makes the environments' branch control satisfiable: a check that verifies
branch protection fails the stage when the branch has no policy (azure-devops-docs, approvals.md, "Branch
control").
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azuredevops as azuredevops

from infra import naming
from infra.components import TYPE_PREFIX
from infra.components.environment_checks import environment_checks
from infra.components.project_pipelines import yaml_pipeline
from infra.platform_pipelines import FILES, TEMPLATE_PATHS
from infra.platform_pipelines import environment as platform_environment


@dataclass(frozen=True)
class PlatformPipelinesArgs:
    devops_project_id: pulumi.Input[str]
    repository_name: str
    min_reviewers: int
    approver_ids: Sequence[pulumi.Input[str]]
    # The project's build service: PR comments and template tags are written with the job's token.
    build_service: pulumi.Input[str]
    # Pipeline key -> the service connection ids it runs Pulumi with.
    connections: Mapping[str, Sequence[pulumi.Input[str]]]
    # Platform stack -> whether deploying it needs an approval.
    stacks: Mapping[str, bool]


class PlatformPipelines(pulumi.ComponentResource):
    pipeline_ids: dict[str, pulumi.Output[int]]

    def __init__(
        self, name: str, args: PlatformPipelinesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:PlatformPipelines", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project = args.devops_project_id
        repository = azuredevops.get_git_repository_output(
            project_id=project, name=args.repository_name, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        self.pipeline_ids = {}
        for key, yml_path in FILES.items():
            self.pipeline_ids[key] = yaml_pipeline(
                f"{name}-{key}", project, f"platform-{key}", "\\platform", repository.id, yml_path, child
            )

        scope = {"repository_id": repository.id, "repository_ref": naming.MAIN_REF, "match_type": "Exact"}
        azuredevops.BranchPolicyMinReviewers(
            f"{name}-reviewers",
            project_id=project,
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
        # Azure Repos ignores `pr:` in YAML: these policies are what runs the PR and template pipelines.
        for key, display_name, filters in (
            ("pr", "platform: tests, policies, plan diff and previews", None),
            ("template", "platform: the copier template matrix", list(TEMPLATE_PATHS)),
        ):
            azuredevops.BranchPolicyBuildValidation(
                f"{name}-{key}-validation",
                project_id=project,
                enabled=True,
                blocking=True,
                settings=azuredevops.BranchPolicyBuildValidationSettingsArgs(
                    build_definition_id=self.pipeline_ids[key],
                    display_name=display_name,
                    valid_duration=720,
                    filename_patterns=filters,
                    scopes=[azuredevops.BranchPolicyBuildValidationSettingsScopeArgs(**scope)],
                ),
                opts=child,
            )

        environments = {}
        for stack, protected in args.stacks.items():
            environment = azuredevops.Environment(
                f"{name}-{stack}-environment",
                project_id=project,
                name=platform_environment(stack),
                description=f"pulumi up of the platform's {stack} stack (managed by Pulumi, bootstrap stack)",
                opts=child,
            )
            environments[stack] = environment
            # Every stack deploys from main only, one run at a time; protected ones after an approval.
            environment_checks(
                f"{name}-{stack}",
                project,
                environment.id,
                f"platform {stack}",
                f"Approve pulumi up of the platform's {stack} stack." if protected else None,
                args.approver_ids,
                child,
            )
            azuredevops.PipelineAuthorization(
                f"{name}-deploy-{stack}-environment",
                project_id=project,
                resource_id=environment.id.apply(str),
                type="environment",
                pipeline_id=self.pipeline_ids["deploy"],
                opts=child,
            )

        for key, connection_ids in args.connections.items():
            for index, connection_id in enumerate(connection_ids):
                azuredevops.PipelineAuthorization(
                    f"{name}-{key}-endpoint-{index}",
                    project_id=project,
                    resource_id=connection_id,
                    type="endpoint",
                    pipeline_id=self.pipeline_ids[key],
                    opts=child,
                )
        # The job's token comments plan diffs on pull requests and tags template versions.
        azuredevops.GitPermissions(
            f"{name}-build-service",
            project_id=project,
            repository_id=repository.id,
            principal=args.build_service,
            permissions={"PullRequestContribute": "Allow", "CreateTag": "Allow"},
            replace=False,
            opts=child,
        )
        self.register_outputs({"pipeline_ids": self.pipeline_ids})
