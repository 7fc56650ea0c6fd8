"""What each stack declares: the shared stack once per organisation, an environment stack per environment."""

import datetime

import pulumi
from pulumi_azure_native import authorization, resources

from infra import (
    address_plan,
    alerts,
    config,
    diagnostics,
    managed_devops_pools,
    naming,
    outputs,
    private_link,
    roles,
    telemetry,
)
from infra.bootstrap.program import bootstrap_stack
from infra.components.action_group import ActionGroup, ActionGroupArgs
from infra.components.agents import Agents, AgentsArgs, GpuPoolArgs
from infra.components.aks import Aks, AksArgs
from infra.components.alert_rules import AlertRules, AlertRulesArgs
from infra.components.budget import Budget, BudgetArgs, first_of_month
from infra.components.cluster_access import ClusterAccess, ClusterAccessArgs
from infra.components.cluster_gitops import ClusterGitOps, ClusterGitOpsArgs, FluxProject
from infra.components.defender import DefenderPlans, DefenderPlansArgs
from infra.components.devops_environment import DevOpsEnvironment, DevOpsEnvironmentArgs, PipelineIds
from infra.components.devops_project import DevOpsProject, DevOpsProjectArgs
from infra.components.diagnostic_settings import DiagnosticSettings, DiagnosticSettingsArgs, DiagnosticTarget
from infra.components.ml_workspace import ComputeClusterSpec, MlWorkspace, MlWorkspaceArgs
from infra.components.monitoring import Monitoring, MonitoringArgs
from infra.components.network import Network, NetworkArgs
from infra.components.pipeline_identity import PipelineIdentity, PipelineIdentityArgs
from infra.components.private_endpoints import PrivateEndpoints, PrivateEndpointsArgs, PrivateEndpointTarget
from infra.components.project_pipelines import ProjectPipelines, ProjectPipelinesArgs
from infra.components.registry import Registry, RegistryArgs
from infra.components.secrets import Secrets, SecretsArgs
from infra.components.workbook import Workbook, WorkbookArgs
from infra.components.workload_identities import (
    ProjectServiceAccount,
    WorkloadIdentities,
    WorkloadIdentitiesArgs,
)
from infra.devops_users import approver_ids, build_service, user_ids
from infra.pipeline_grants import GrantTargets, pipeline_grants, stack_references_needed
from infra.platform_pipelines import IN_CLUSTER
from infra.policies.azure import KEY_VAULT, MANAGED_CLUSTER, ML_WORKSPACE, REGISTRY, STORAGE_ACCOUNT
from infra.stacks import BOOTSTRAP, CLUSTERS, ENVIRONMENTS


def main() -> None:
    stack = pulumi.get_stack()
    if config.is_environment(stack):
        environment_stack(config.load_environment(stack))
    elif stack in CLUSTERS:
        cluster_stack(config.load_cluster(stack))
    elif stack == BOOTSTRAP:
        bootstrap_stack(config.load_bootstrap(stack))
    else:
        shared_stack(config.load_shared(stack))


def shared_stack(settings: config.SharedSettings) -> None:
    project = DevOpsProject(
        "devops", DevOpsProjectArgs(name=settings.devops.project, create=settings.devops.create_project)
    )
    service = build_service(settings.devops.organization_url, settings.devops.project)
    pipelines = {
        onboarded.slug: ProjectPipelines(
            f"project-{onboarded.slug}",
            ProjectPipelinesArgs(
                devops_project_id=project.project_id,
                slug=onboarded.slug,
                repository_name=onboarded.repository_name,
                pipeline_names=naming.project_pipeline_names(onboarded.slug),
                min_reviewers=settings.branch_min_reviewers,
                owner_ids=user_ids(onboarded.owners),
                build_service=service,
                deploy_branches=[naming.deploy_branch(environment) for environment in ENVIRONMENTS],
            ),
        ).pipeline_ids
        for onboarded in settings.projects
    }
    exported = {
        outputs.DEVOPS_ORGANIZATION_URL: settings.devops.organization_url,
        outputs.DEVOPS_PROJECT: project.project_name,
        outputs.DEVOPS_PROJECT_ID: project.project_id,
        outputs.PIPELINES: pipelines,
        outputs.DEVOPS_BUILD_SERVICE: service,
        outputs.TELEMETRY: telemetry.contract(),
    }
    for key, value in exported.items():
        pulumi.export(key, value)


def _pipeline_id(pipelines: pulumi.Output, slug: str, key: str) -> pulumi.Output[int]:
    def pick(published: dict) -> int:
        try:
            return int(published[slug][key])
        except (KeyError, TypeError):
            raise pulumi.RunError(
                f"the shared stack has no {key!r} pipeline for project {slug!r}: "
                "run `pulumi up -s shared` after onboarding a project, then the environment stacks"
            ) from None

    return pipelines.apply(pick)


def _for_environment(published: pulumi.Output, environment: str, what: str) -> pulumi.Output:
    """One environment's entry of a bootstrap output keyed by environment, or one clear line."""

    def pick(entries: dict) -> object:
        try:
            return entries[environment]
        except (KeyError, TypeError):
            raise pulumi.RunError(
                f"the bootstrap stack has no {what} for {environment!r}: set {environment}'s subscription in "
                f"Pulumi.{environment}.yaml, then run `pulumi up -s {BOOTSTRAP}` before this stack"
            ) from None

    return published.apply(pick)


def environment_stack(settings: config.EnvironmentSettings) -> None:
    names = settings.names
    tags = settings.tags
    tenant_id = authorization.get_client_config_output().tenant_id
    shared = pulumi.StackReference("shared", stack_name=settings.shared_stack)
    devops_project_id = shared.require_output(outputs.DEVOPS_PROJECT_ID)
    shared_pipelines = shared.require_output(outputs.PIPELINES)
    bootstrap = pulumi.StackReference(BOOTSTRAP, stack_name=settings.stack_name(BOOTSTRAP))
    flux_identity = _for_environment(
        bootstrap.require_output(outputs.FLUX_IDENTITIES), settings.environment, "Flux identity"
    )
    # Earlier environments this one reads from: the previous one (promotion) and the first one (data).
    needed = stack_references_needed(settings.environment)
    earlier = {
        stack: pulumi.StackReference(stack, stack_name=settings.stack_name(stack))
        for stack in dict.fromkeys(needed.values())
    }
    references = {role: earlier[stack] for role, stack in needed.items()}

    group = resources.ResourceGroup(
        "resource-group", resource_group_name=names.resource_group, location=settings.location, tags=tags
    )
    monitoring = Monitoring(
        "monitoring",
        MonitoringArgs(
            resource_group_name=group.name,
            location=settings.location,
            workspace_name=names.log_analytics,
            app_insights_name=names.app_insights,
            retention_days=settings.log_retention_days,
            tags=tags,
        ),
    )
    isolated = settings.network.isolated
    net = Network(
        "network",
        NetworkArgs(
            resource_group_name=group.name,
            location=settings.location,
            vnet_name=names.virtual_network,
            nat_gateway_name=names.nat_gateway,
            nat_public_ip_name=names.nat_public_ip,
            security_group_name=names.network_security_group,
            address_space=settings.network.address_space,
            isolated=isolated,
            private_dns_zones=private_link.zones() if isolated else (),
            tags=tags,
        ),
    )

    def subnet(name: str) -> pulumi.Output[str] | None:
        return net.subnet_ids.apply(lambda ids: ids[name]) if isolated else None

    # The environment's names, which are not secret: the vault holds them with the secrets, and a variable
    # group that cannot link the vault (network-isolated) carries them as plain values.
    plain_variables = {
        outputs.VARIABLE_RESOURCE_GROUP: group.name,
        outputs.VARIABLE_WORKSPACE: names.ml_workspace,
        outputs.VARIABLE_LOCATION: settings.location,
    }
    secrets = Secrets(
        "secrets",
        SecretsArgs(
            resource_group_name=group.name,
            location=settings.location,
            vault_name=names.key_vault,
            tenant_id=tenant_id,
            soft_delete_retention_days=settings.key_vault_retention_days,
            private=isolated,
            secrets={
                **plain_variables,
                outputs.VARIABLE_APP_INSIGHTS_CONNECTION: monitoring.app_insights_connection_string,
            },
            tags=tags,
        ),
    )
    registry = Registry(
        "registry",
        RegistryArgs(
            resource_group_name=group.name,
            location=settings.location,
            registry_name=names.container_registry,
            sku=settings.acr_sku,
            tasks_subnet_id=subnet(address_plan.ACR_TASKS),
            tags=tags,
        ),
    )
    ml = MlWorkspace(
        "ml",
        MlWorkspaceArgs(
            resource_group_name=group.name,
            location=settings.location,
            workspace_name=names.ml_workspace,
            storage_account_name=names.storage_account,
            dvc_container_name=naming.DVC_CONTAINER,
            key_vault_id=secrets.vault_id,
            registry_id=registry.registry_id,
            app_insights_id=monitoring.app_insights_id,
            clusters=(
                ComputeClusterSpec(naming.CPU_COMPUTE_CLUSTER, settings.ml.cpu_vm_size, settings.ml.cpu_max),
                ComputeClusterSpec(naming.GPU_COMPUTE_CLUSTER, settings.ml.gpu_vm_size, settings.ml.gpu_max),
            ),
            subscription_id=settings.subscription_id,
            compute_identity_name=names.ml_compute_identity,
            private=isolated,
            tags=tags,
        ),
    )
    aks = Aks(
        "aks",
        AksArgs(
            resource_group_name=group.name,
            location=settings.location,
            environment=settings.environment,
            cluster_name=names.aks_cluster,
            node_resource_group=names.aks_node_resource_group,
            kubernetes_version=settings.aks.kubernetes_version,
            system_vm_size=settings.aks.system_vm_size,
            system_min=settings.aks.system_min,
            system_max=settings.aks.system_max,
            gpu_vm_size=settings.aks.gpu_vm_size,
            gpu_max=settings.aks.gpu_max,
            tenant_id=tenant_id,
            subscription_id=settings.subscription_id,
            registry_id=registry.registry_id,
            log_analytics_workspace_id=monitoring.workspace_id,
            flux_client_id=flux_identity.apply(lambda identity: identity[outputs.FLUX_IDENTITY_CLIENT_ID]),
            node_subnet_id=subnet(address_plan.AKS_NODES),
            control_plane_identity_name=names.aks_identity,
            tags=tags,
        ),
    )
    # Its in-cluster stack creates the objects; what they need of Azure Resource Manager is created here.
    ClusterAccess(
        "gitops",
        ClusterAccessArgs(
            environment=settings.environment,
            subscription_id=settings.subscription_id,
            cluster_id=aks.cluster_id,
            oidc_issuer_url=aks.oidc_issuer_url,
            flux_identity=flux_identity,
            kube_role_guids=bootstrap.require_output(outputs.PLATFORM_KUBE_ROLES),
            deploy_principal_id=_for_environment(
                bootstrap.require_output(outputs.DEPLOY_PRINCIPAL_IDS),
                settings.environment,
                "deploy identity",
            ),
            preview_principal_id=_for_environment(
                bootstrap.require_output(outputs.PREVIEW_PRINCIPAL_IDS),
                settings.environment,
                "preview identity",
            ),
            namespaces={p.slug: naming.project_namespace(p.slug) for p in settings.projects},
        ),
    )
    workloads = WorkloadIdentities(
        "workloads",
        WorkloadIdentitiesArgs(
            resource_group_name=group.name,
            location=settings.location,
            subscription_id=settings.subscription_id,
            oidc_issuer_url=aks.oidc_issuer_url,
            app_insights_id=monitoring.app_insights_id,
            inference_data_container_id=ml.dvc_container_id,
            registry_id=registry.registry_id,
            workspace_storage_id=ml.storage_account_id,
            projects=[
                ProjectServiceAccount(
                    slug=p.slug,
                    identity_name=names.workload_identity(p.slug),
                    namespace=naming.project_namespace(p.slug),
                    service_account=naming.project_service_account(p.slug),
                    online_endpoint=names.online_endpoint(p.slug),
                )
                for p in settings.projects
            ],
            tags=tags,
        ),
    )

    pipeline = PipelineIdentity(
        "pipeline",
        PipelineIdentityArgs(
            resource_group_name=group.name,
            resource_group=names.resource_group,
            location=settings.location,
            identity_name=names.pipeline_identity,
            service_connection_name=names.service_connection,
            devops_project_id=devops_project_id,
            subscription_id=settings.subscription_id,
            tenant_id=tenant_id,
            grants=pipeline_grants(
                settings.environment,
                GrantTargets(
                    subscription_id=settings.subscription_id,
                    registry_id=registry.registry_id,
                    app_insights_id=monitoring.app_insights_id,
                    workspace_id=ml.workspace_id,
                    storage_account_id=ml.storage_account_id,
                    dvc_container_id=ml.dvc_container_id,
                    vault_id=secrets.vault_id,
                    cluster_id=aks.cluster_id,
                    namespaces=[naming.project_namespace(p.slug) for p in settings.projects],
                    service_identity_ids=workloads.identity_ids,
                    kube_role_guid=bootstrap.require_output(outputs.PIPELINE_KUBE_ROLE),
                    serving_identity_role_guid=bootstrap.require_output(outputs.SERVING_IDENTITY_ROLE),
                    vault_linked=not isolated,
                    previous_registry_id=(
                        references["previous"].require_output(outputs.ACR_ID)
                        if "previous" in references
                        else None
                    ),
                    first_dvc_container_id=(
                        references["first"].require_output(outputs.DVC_CONTAINER_ID)
                        if "first" in references
                        else None
                    ),
                ),
            ),
            tags=tags,
        ),
    )
    gpu = settings.agents.gpu
    agents = Agents(
        "agents",
        AgentsArgs(
            resource_group_name=group.name,
            location=settings.location,
            subscription_id=settings.subscription_id,
            dev_center_name=names.dev_center,
            dev_center_project_name=names.dev_center_project,
            pool_name=names.agent_pool,
            vm_size=settings.agents.vm_size,
            max_concurrency=settings.agents.max_concurrency,
            subnet_id=net.subnet_ids.apply(lambda ids: ids[address_plan.AGENTS]),
            vnet_id=net.vnet_id,
            gpu=(
                GpuPoolArgs(names.gpu_agent_pool, gpu.vm_size, gpu.max_concurrency, gpu.image_id)
                if gpu
                else None
            ),
            devops_organization_url=settings.devops.organization_url,
            devops_project_name=settings.devops.project,
            devops_project_id=devops_project_id,
            devops_infrastructure_principal_id=settings.agents.devops_infrastructure_principal_id,
            network_role_definition_id=bootstrap.require_output(outputs.AGENT_NETWORK_ROLE).apply(
                lambda guid: roles.definition_id_of(settings.subscription_id, guid)
            ),
            tags=tags,
        ),
    )
    devops = DevOpsEnvironment(
        "devops",
        DevOpsEnvironmentArgs(
            devops_project_id=devops_project_id,
            environment_name=names.devops_environment,
            variable_group_name=names.variable_group,
            key_vault_name=None if isolated else secrets.vault_name,
            secret_names=outputs.VARIABLE_GROUP_VARIABLES,
            plain_variables=plain_variables,
            service_endpoint_id=pipeline.authorized_service_endpoint_id,
            agent_queue_id=agents.queue_id,
            gpu_agent_queue_id=agents.gpu_queue_id,
            protected=settings.protected,
            approver_ids=approver_ids(devops_project_id, settings.approvers),
            # The platform's own pipelines run the in-cluster stack on this pool when the cluster's API
            # server is private (infra/platform_pipelines.py).
            platform_pipeline_ids={
                key: bootstrap.require_output(outputs.PLATFORM_PIPELINES).apply(
                    lambda ids, key=key: int(ids[key])
                )
                for key in IN_CLUSTER
            },
            pipelines=[
                PipelineIds(
                    slug=p.slug,
                    deploying=[
                        _pipeline_id(shared_pipelines, p.slug, key) for key in naming.DEPLOYING_PIPELINES
                    ],
                    scheduled=[
                        _pipeline_id(shared_pipelines, p.slug, key)
                        for key in naming.PROJECT_PIPELINE_FILES
                        if key not in naming.DEPLOYING_PIPELINES
                    ],
                    gpu=[_pipeline_id(shared_pipelines, p.slug, key) for key in naming.GPU_PIPELINES],
                )
                for p in settings.projects
            ],
        ),
    )

    if isolated:
        PrivateEndpoints(
            "private-endpoints",
            PrivateEndpointsArgs(
                resource_group_name=group.name,
                location=settings.location,
                subnet_id=subnet(address_plan.PRIVATE_ENDPOINTS),
                zone_ids=net.zone_ids,
                targets=[
                    PrivateEndpointTarget(resource_name, resource_id, link)
                    for resource_type, resource_name, resource_id in (
                        (KEY_VAULT, names.key_vault, secrets.vault_id),
                        (REGISTRY, names.container_registry, registry.registry_id),
                        (STORAGE_ACCOUNT, names.storage_account, ml.storage_account_id),
                        (ML_WORKSPACE, names.ml_workspace, ml.workspace_id),
                    )
                    for link in private_link.PRIVATE_LINK_GROUPS[resource_type]
                ],
                tags=tags,
            ),
        )
    DiagnosticSettings(
        "diagnostics",
        DiagnosticSettingsArgs(
            workspace_id=monitoring.workspace_id,
            targets=[
                DiagnosticTarget("vault", KEY_VAULT, secrets.vault_id),
                DiagnosticTarget("registry", REGISTRY, registry.registry_id),
                DiagnosticTarget("storage", STORAGE_ACCOUNT, ml.storage_account_id),
                DiagnosticTarget("workspace", ML_WORKSPACE, ml.workspace_id),
                DiagnosticTarget("aks", MANAGED_CLUSTER, aks.cluster_id),
                DiagnosticTarget("logs", diagnostics.LOG_ANALYTICS, monitoring.workspace_id),
                DiagnosticTarget("nsg", diagnostics.NETWORK_SECURITY_GROUP, net.security_group_id),
                DiagnosticTarget("nat-ip", diagnostics.PUBLIC_IP, net.nat_public_ip_id),
                DiagnosticTarget("vnet", private_link.VIRTUAL_NETWORK, net.vnet_id),
                *(
                    DiagnosticTarget(key, managed_devops_pools.POOL, pool_id)
                    for key, pool_id in agents.pool_ids.items()
                ),
            ],
        ),
    )
    action_group = ActionGroup(
        "alerts",
        ActionGroupArgs(
            resource_group_name=group.name,
            group_name=names.action_group,
            short_name=names.action_group_short_name,
            emails=settings.alerts.emails,
            teams_webhook_url=settings.alerts.teams_webhook_url,
            tags=tags,
        ),
    )
    AlertRules(
        "alert-rules",
        AlertRulesArgs(
            resource_group_name=group.name,
            location=settings.location,
            subscription_id=settings.subscription_id,
            identity_name=names.alerts_identity,
            workspace_id=monitoring.workspace_id,
            action_group_id=action_group.action_group_id,
            rules=alerts.environment_rules([p.slug for p in settings.projects]),
            tags=tags,
        ),
    )
    dashboard = Workbook(
        "workbook",
        WorkbookArgs(
            resource_group_name=group.name,
            location=settings.location,
            prefix=names.prefix,
            environment=settings.environment,
            slugs=[p.slug for p in settings.projects],
            workspace_id=monitoring.workspace_id,
            training_workspace_id=(
                references["first"].require_output(outputs.LOG_ANALYTICS_ID)
                if "first" in references
                else monitoring.workspace_id
            ),
            app_insights_id=monitoring.app_insights_id,
            tags=tags,
        ),
    )
    Budget(
        "budget",
        BudgetArgs(
            subscription_id=settings.subscription_id,
            budget_name=names.budget,
            amount=settings.budget.monthly_amount,
            resource_group_names=[names.resource_group, names.aks_node_resource_group],
            start_date=first_of_month(datetime.datetime.now(datetime.UTC).date()),
            actual_thresholds=settings.budget.thresholds,
            action_group_id=action_group.action_group_id,
            emails=settings.alerts.emails,
        ),
    )
    if settings.defender_plans:
        DefenderPlans("defender", DefenderPlansArgs(subscription_id=settings.subscription_id))

    # Everything this stack tells the others and platform.json: one mapping, exported as it is.
    exported = {
        outputs.ENVIRONMENT: settings.environment,
        outputs.PROTECTED: settings.protected,
        outputs.LOCATION: settings.location,
        outputs.SUBSCRIPTION_ID: settings.subscription_id,
        outputs.TENANT_ID: tenant_id,
        outputs.RESOURCE_GROUP: group.name,
        outputs.ML_WORKSPACE: ml.workspace_name,
        outputs.CPU_COMPUTE_CLUSTER: naming.CPU_COMPUTE_CLUSTER,
        outputs.GPU_COMPUTE_CLUSTER: naming.GPU_COMPUTE_CLUSTER,
        outputs.KEY_VAULT: secrets.vault_name,
        outputs.ACR_NAME: registry.registry_name,
        outputs.ACR_LOGIN_SERVER: registry.login_server,
        outputs.ACR_ID: registry.registry_id,
        outputs.AKS_CLUSTER: aks.cluster_name,
        outputs.AKS_OIDC_ISSUER_URL: aks.oidc_issuer_url,
        outputs.AKS_CLUSTER_ID: aks.cluster_id,
        outputs.AKS_KUBERNETES_VERSION: settings.aks.kubernetes_version,
        outputs.GITOPS: {
            outputs.GITOPS_REPOSITORY: settings.gitops.repository_url,
            outputs.GITOPS_BRANCH: settings.gitops.branch,
        },
        outputs.STORAGE_ACCOUNT: ml.storage_account_name,
        outputs.DVC_CONTAINER: ml.dvc_container_name,
        outputs.DVC_CONTAINER_ID: ml.dvc_container_id,
        outputs.APP_INSIGHTS_ID: monitoring.app_insights_id,
        outputs.VARIABLE_GROUP: devops.variable_group_name,
        outputs.SERVICE_CONNECTION: pipeline.service_endpoint_name,
        outputs.DEVOPS_ENVIRONMENT: devops.environment_name,
        outputs.AGENT_POOL: agents.pool_name,
        outputs.GPU_AGENT_POOL: agents.gpu_pool_name,
        outputs.GPU_NODE_SELECTOR: dict([naming.GPU_NODE_LABEL]),
        outputs.GPU_TOLERATION: naming.gpu_toleration(),
        outputs.DEPLOY_BRANCH: naming.deploy_branch(settings.environment),
        outputs.PROJECTS: {
            p.slug: {
                outputs.PROJECT_NAMESPACE: naming.project_namespace(p.slug),
                outputs.PROJECT_SERVICE_ACCOUNT: naming.project_service_account(p.slug),
                outputs.PROJECT_WORKLOAD_IDENTITY_CLIENT_ID: workloads.client_ids[p.slug],
                outputs.PROJECT_WORKLOAD_IDENTITY_ID: workloads.identity_ids[p.slug],
                outputs.PROJECT_ONLINE_ENDPOINT: names.online_endpoint(p.slug),
                outputs.PROJECT_REPOSITORY: p.repository_url,
            }
            for p in settings.projects
        },
        outputs.NETWORK: {
            outputs.NETWORK_ISOLATED: isolated,
            outputs.NETWORK_ACR_BUILD_POOL: registry.tasks_pool_name,
        },
        outputs.ACTION_GROUP_ID: action_group.action_group_id,
        # Not a secret (infra/outputs.py): the projects' services and pipelines send telemetry to it.
        outputs.APP_INSIGHTS_CONNECTION_STRING: pulumi.Output.unsecret(
            monitoring.app_insights_connection_string
        ),
        outputs.LOG_ANALYTICS_ID: monitoring.workspace_id,
        outputs.WORKBOOK_ID: dashboard.workbook_id,
    }
    for key, value in exported.items():
        pulumi.export(key, value)


def cluster_stack(settings: config.ClusterSettings) -> None:
    """What Flux needs in the environment's cluster before its first reconciliation, from the environment
    stack's outputs: this stack runs where the cluster's API server is reachable (infra/stacks.py)."""
    environment = pulumi.StackReference(
        settings.environment, stack_name=settings.stack_name(settings.environment)
    )

    def read(key: str) -> pulumi.Output:
        return environment.require_output(key)

    branch = read(outputs.DEPLOY_BRANCH)
    ClusterGitOps(
        "gitops",
        ClusterGitOpsArgs(
            environment=settings.environment,
            subscription_id=read(outputs.SUBSCRIPTION_ID),
            resource_group_name=read(outputs.RESOURCE_GROUP),
            cluster_name=read(outputs.AKS_CLUSTER),
            cluster_id=read(outputs.AKS_CLUSTER_ID),
            kubernetes_version=read(outputs.AKS_KUBERNETES_VERSION),
            repository_url=read(outputs.GITOPS).apply(lambda gitops: gitops[outputs.GITOPS_REPOSITORY]),
            branch=read(outputs.GITOPS).apply(lambda gitops: gitops[outputs.GITOPS_BRANCH]),
            projects=pulumi.Output.all(read(outputs.PROJECTS), branch).apply(
                lambda resolved: [
                    FluxProject(
                        slug,
                        project[outputs.PROJECT_NAMESPACE],
                        project[outputs.PROJECT_REPOSITORY],
                        resolved[1],
                    )
                    for slug, project in sorted(resolved[0].items())
                ]
            ),
        ),
    )
