"""Azure DevOps side of one environment: the variable group linked to Key Vault, the environment
with its checks, the authorizations of the onboarded projects' pipelines, and the platform's own pipelines'
authorization on the environment's agent queue."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azuredevops as azuredevops

from infra.components import TYPE_PREFIX
from infra.components.environment_checks import environment_checks


@dataclass(frozen=True)
class PipelineIds:
    """Pipeline definition ids of one onboarded project, from the shared stack: those whose delivery stages
    deploy here (main and retraining), and those that only run on schedule (the drift check)."""

    slug: str
    deploying: Sequence[pulumi.Input[int]]
    scheduled: Sequence[pulumi.Input[int]]
    # Those that run jobs on the environment's GPU pool, where it has one.
    gpu: Sequence[pulumi.Input[int]] = ()


@dataclass(frozen=True)
class DevOpsEnvironmentArgs:
    devops_project_id: pulumi.Input[str]
    environment_name: str
    variable_group_name: str
    # The vault the variable group links to, with the secret names it exposes as pipeline variables; None in
    # a network-isolated environment, whose vault Azure DevOps cannot reach: it lists a linked vault's secrets
    # from its own public addresses (microsoft/terraform-provider-azuredevops, resource_variable_group.go,
    # searchAzureKVSecrets; "RBAC key vaults behind private endpoints are not supported",
    # variable-groups-link-secrets.md). Then `plain_variables` are the group's values, none of them secret.
    key_vault_name: pulumi.Input[str] | None
    secret_names: Sequence[str]
    plain_variables: Mapping[str, pulumi.Input[str]]
    service_endpoint_id: pulumi.Input[str]
    agent_queue_id: pulumi.Input[int]
    # The GPU pool's queue; None where the environment has no GPU pool.
    gpu_agent_queue_id: pulumi.Input[int] | None
    protected: bool
    approver_ids: Sequence[pulumi.Input[str]]
    # This repository's pipelines that may run jobs on the environment's pool (its in-cluster stack). A queue
    # exists only once this stack created it, so the bootstrap stack cannot authorise them on it.
    # {pipeline key (infra/platform_pipelines.py): definition id}
    platform_pipeline_ids: Mapping[str, pulumi.Input[int]]
    pipelines: Sequence[PipelineIds]


class DevOpsEnvironment(pulumi.ComponentResource):
    environment_id: pulumi.Output[int]
    environment_name: pulumi.Output[str]
    variable_group_id: pulumi.Output[int]
    variable_group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: DevOpsEnvironmentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:DevOpsEnvironment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        linked = args.key_vault_name is not None
        variable_group = azuredevops.VariableGroup(
            f"{name}-variables",
            project_id=args.devops_project_id,
            name=args.variable_group_name,
            description=(
                "Linked to the environment's Key Vault (managed by Pulumi); values live only there."
                if linked
                else "The environment's names (managed by Pulumi); its vault is private: steps on the "
                "environment's Managed DevOps Pool read secrets with AzureKeyVault@2."
            ),
            # Only pipelines authorised below may use the group.
            allow_access=False,
            key_vault=(
                azuredevops.VariableGroupKeyVaultArgs(
                    name=args.key_vault_name, service_endpoint_id=args.service_endpoint_id
                )
                if linked
                else None
            ),
            variables=(
                [azuredevops.VariableGroupVariableArgs(name=secret) for secret in args.secret_names]
                if linked
                else [
                    azuredevops.VariableGroupVariableArgs(name=key, value=value)
                    for key, value in args.plain_variables.items()
                ]
            ),
            opts=child,
        )
        environment = azuredevops.Environment(
            f"{name}-environment",
            project_id=args.devops_project_id,
            name=args.environment_name,
            description=f"Deployments to {args.environment_name} (managed by Pulumi)",
            opts=child,
        )
        if args.protected:
            environment_checks(
                name,
                args.devops_project_id,
                environment.id,
                args.environment_name,
                f"Approve the deployment to {args.environment_name}.",
                args.approver_ids,
                child,
            )

        def authorise(
            logical: str, resource_type: str, resource_id: pulumi.Input, pipeline_id: pulumi.Input[int]
        ):
            azuredevops.PipelineAuthorization(
                f"{name}-{logical}-{resource_type}",
                project_id=args.devops_project_id,
                resource_id=pulumi.Output.from_input(resource_id).apply(str),
                type=resource_type,
                pipeline_id=pipeline_id,
                opts=child,
            )

        for pipelines in args.pipelines:
            authorized = {
                "endpoint": args.service_endpoint_id,
                "variablegroup": variable_group.id,
                "queue": args.agent_queue_id,
            }
            keyed = [
                *(
                    (f"deploying{index}", pipeline_id, True)
                    for index, pipeline_id in enumerate(pipelines.deploying)
                ),
                *(
                    (f"scheduled{index}", pipeline_id, False)
                    for index, pipeline_id in enumerate(pipelines.scheduled)
                ),
            ]
            for pipeline_key, pipeline_id, deploys in keyed:
                resources = dict(authorized)
                # Only pipelines with delivery stages may target the environment.
                if deploys:
                    resources["environment"] = environment.id
                for resource_type, resource_id in resources.items():
                    authorise(f"{pipelines.slug}-{pipeline_key}", resource_type, resource_id, pipeline_id)
            if args.gpu_agent_queue_id is not None:
                for index, pipeline_id in enumerate(pipelines.gpu):
                    authorise(f"{pipelines.slug}-gpu{index}", "queue", args.gpu_agent_queue_id, pipeline_id)
        # A YAML job on a self-hosted pool runs only once its pipeline is authorised on the project's queue
        # of that pool (type "queue", the queue's id: pulumi registry, azuredevops PipelineAuthorization).
        for key, pipeline_id in args.platform_pipeline_ids.items():
            authorise(f"platform-{key}", "queue", args.agent_queue_id, pipeline_id)
        self.environment_id = environment.id.apply(int)
        self.environment_name = environment.name
        self.variable_group_id = variable_group.id.apply(int)
        self.variable_group_name = variable_group.name
        self.register_outputs(
            {
                "environment_id": self.environment_id,
                "environment_name": self.environment_name,
                "variable_group_id": self.variable_group_id,
                "variable_group_name": self.variable_group_name,
            }
        )
