"""This repository's own pipelines (pipelines/), walked like the projects' ones.

What `pulumi preview` and `pulumi up` of a stack do is read off that stack's mock run: a preview reads every
resource the stack declares, an update writes each of them (a role assignment is an authorization write that
the deploying identity's delegation condition must allow for that role), and both read (`up` also writes) the
stack's state and use the secrets provider's key. Azure DevOps objects are managed through the identity's
membership of the project's groups (the bootstrap stack's DevOpsMember).

A Kubernetes object is managed in the cluster its provider names (`clusterIdentifier`), which another stack
may declare (an in-cluster stack's cluster is its environment stack's): the provider fetches the cluster's
user credential (listClusterUserCredential), signs in with kubelogin, which the agent must have, and reaches
the API server, which only an agent with a network path to it can (infra/preflight/reach.py, the rule the
projects' steps follow too). Then each object is the AKS data action infra/kube_rbac.py names, at the cluster
or its namespace: `write` for `pulumi up`, `read` for a preview (pulumi-kubernetes falls back to a client-side
diff when the server refuses the dry run).

Creating a Managed DevOps Pool also checks, as the deploying identity: "join" on the subnet its agents go to
(Azure Resource Manager's linked access check, LinkedAuthorizationFailed otherwise), and in Azure DevOps the
right to create an organisation agent pool: "the account you use to sign in to the Azure subscription ... is
used to create a corresponding agent pool in your Azure DevOps organization ... Organization-level Agent pools
administrator" (managed-devops-pools/prerequisites.md; PoolProvisioningFailed "does not have Manage
permissions", MicrosoftDocs/azure-devops-docs#14299). That role is granted by hand (README): the provider's
organisation-level security role assignment assigns Reader instead (microsoft/terraform-provider-azuredevops
#1592, open). The preflight holds the identity to being a user of the organisation, which that role needs.

A job runs where its `pool:` says, after the jobs it depends on; one whose condition reads their output
variables runs only when the values those steps set make it true. Those values are computed the way the step
computes them (STEP_OUTPUTS): the in-cluster stacks' jobs pick their agent by `make cluster-network`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import kube_rbac, managed_devops_pools, naming, outputs
from infra.platform_pipelines import FILES, PREVIEWING
from infra.preflight import conditions, devops, makefile, reach
from infra.preflight.azure_pipelines import expand, job_steps, script_text, stages
from infra.preflight.checks import Entry, Grant
from infra.preflight.platform import ROLE_ASSIGNMENT, Located, Platform, ServiceConnection
from infra.preflight.rbac import Assignment, narrowest_grant, normalise_scope, within
from infra.preflight.walk import CLOUD_TASKS, StepContext, Walk, azure_cli_entry, tool_entries
from infra.stacks import BOOTSTRAP, SHARED
from infra.tools import cluster_network
from infra.tools.mock_run import REPO_ROOT, DeclaredResource, StackRun

PULUMI_TASK = "Pulumi@1"
ROLE_WRITE = "Microsoft.Authorization/roleAssignments/write"
BLOB_READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
BLOB_WRITE = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
KEY_DECRYPT = "Microsoft.KeyVault/vaults/keys/decrypt/action"
KEY_ENCRYPT = "Microsoft.KeyVault/vaults/keys/encrypt/action"
LIST_USER_CREDENTIAL = "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
KUBELOGIN = "kubelogin"
SUBNET_JOIN = "Microsoft.Network/virtualNetworks/subnets/join/action"
AGENT_POOL_ADMINISTRATOR = "organisation Agent pools Administrator (granted by hand, README)"
PROJECT_ADMINISTRATORS = "Project Administrators"
READERS = "Readers"
_GUID_LIST = re.compile(r"GuidEquals\s*\{([^}]*)\}")
# How each build reason compiles these pipelines (`${{ if eq(variables['Build.Reason'], ...) }}`).
BUILD_REASONS = {
    "pr": "PullRequest",
    "deploy": "IndividualCI",
    "drift": "Schedule",
    "template": "IndividualCI",
}
# Make targets whose output variables later jobs' conditions read: target -> the variables it sets, from the
# variables the step passes it.
STEP_OUTPUTS: Mapping[str, Callable[[Mapping[str, str]], dict[str, str]]] = {
    "cluster-network": lambda variables: cluster_network.variables(variables["ENVIRONMENT"]),
}


def operation_of(resource_id: str, verb: str) -> str:
    """The ARM operation of `verb` (read, write) on a resource id:
    /subscriptions/s/resourceGroups/g/providers/Microsoft.X/a/n/b/m -> Microsoft.X/a/b/<verb>."""
    parts = resource_id.strip("/").split("/")
    if "providers" not in parts:
        return f"Microsoft.Resources/subscriptions/resourceGroups/{verb}"
    start = len(parts) - 1 - parts[::-1].index("providers")
    namespace, *rest = parts[start + 1 :]
    types = rest[0::2]
    return "/".join([namespace, *types, verb])


def delegation_allows(assignment: Assignment, role_guid: str) -> bool:
    """Whether an ABAC delegation condition on the assigning role lets it assign this role."""
    condition = assignment.condition
    if not condition:
        return True
    wanted = role_guid.replace("-", "").lower()
    lists = [
        {guid.strip().lower() for guid in match.group(1).split(",")}
        for match in _GUID_LIST.finditer(condition)
    ]
    return bool(lists) and all(wanted in guids for guids in lists)


@dataclass(frozen=True)
class PulumiStep:
    pipeline: str
    stage: str
    step: str
    stack: str
    command: str
    connection: ServiceConnection | None
    # Tools the job's earlier steps installed (`#@ installs`); the agent the job runs on.
    installed: frozenset[str] = frozenset()
    agent: reach.Agent = reach.HOSTED


SERVICE_PRINCIPAL_ENTITLEMENT = "azuredevops:index/servicePrincipalEntitlement:ServicePrincipalEntitlement"


def organisation_users(platform: Platform) -> set[str]:
    """Principals the stacks make users of the Azure DevOps organisation (a service principal entitlement)."""
    return {
        str(resource.inputs.get("originId"))
        for _stack, resource in platform.of_type(SERVICE_PRINCIPAL_ENTITLEMENT)
    }


def memberships(platform: Platform) -> dict[str, set[str]]:
    """Principal -> the Azure DevOps project groups it is a member of (bootstrap DevOpsMember)."""
    by_descriptor: dict[str, str] = {}
    for _stack, resource in platform.of_type(SERVICE_PRINCIPAL_ENTITLEMENT):
        by_descriptor[f"aad.{resource.inputs.get('originId')}"] = str(resource.inputs.get("originId"))
    groups: dict[str, set[str]] = {}
    for _stack, resource in platform.of_type("azuredevops:index/groupMembership:GroupMembership"):
        group = str(resource.inputs.get("group", "")).removeprefix("descriptor:")
        for member in resource.inputs.get("members") or []:
            principal = by_descriptor.get(str(member))
            if principal:
                groups.setdefault(principal, set()).add(group)
    return groups


def _base(step: PulumiStep, identity: str, operation: str, resource: str) -> dict[str, Any]:
    return dict(
        stack=step.stack,
        pipeline=step.pipeline,
        stage=step.stage,
        step=step.step,
        identity=identity,
        operation=operation,
        resource=resource,
    )


def _azure(
    walk: Walk, step: PulumiStep, operation: str, resource: str, data: bool = False
) -> Assignment | None:
    connection = step.connection
    identity = f"{connection.name} ({connection.identity_name})" if connection else "no identity"
    if connection is None:
        walk.add(
            Entry(
                **_base(step, identity, operation, resource), granted_by=None, problem="no service connection"
            )
        )
        return None
    assignment = narrowest_grant(walk.platform.assignments, connection.principal, operation, resource, data)
    if assignment is None:
        walk.add(
            Entry(
                **_base(step, identity, operation, resource),
                granted_by=None,
                problem="no role assignment grants it",
            )
        )
        return None
    walk.add(
        Entry(
            **_base(step, identity, operation, resource),
            granted_by=Grant(assignment.role.name, assignment.scope),
        ),
        assignment,
    )
    return assignment


def _role_assignment(walk: Walk, step: PulumiStep, resource: Mapping[str, Any]) -> None:
    connection = step.connection
    identity = f"{connection.name} ({connection.identity_name})" if connection else "no identity"
    scope = str(resource["scope"])
    role = walk.platform.roles.by_definition_id(str(resource["roleDefinitionId"]))
    operation = f"{ROLE_WRITE} ({role.name})"
    candidates = [
        a
        for a in walk.platform.assignments
        if connection is not None
        and a.principal == connection.principal
        and within(scope, a.scope)
        and narrowest_grant([a], a.principal, ROLE_WRITE, scope, False) is not None
    ]
    allowed = [a for a in candidates if delegation_allows(a, role.id)]
    if allowed:
        best = min(allowed, key=lambda a: -len(normalise_scope(a.scope)))
        walk.add(
            Entry(**_base(step, identity, operation, scope), granted_by=Grant(best.role.name, best.scope)),
            best,
        )
        return
    problem = (
        "the delegation condition of the identity's role assignment rights does not allow this role"
        if candidates
        else "no role assignment grants it"
    )
    walk.add(Entry(**_base(step, identity, operation, scope), granted_by=None, problem=problem))


def _devops(
    walk: Walk, step: PulumiStep, groups: Mapping[str, set[str]], resource_type: str, write: bool
) -> None:
    connection = step.connection
    identity = f"{connection.name} ({connection.identity_name})" if connection else "no identity"
    kind = resource_type.rpartition(":")[2]
    operation = f"devops {'manage' if write else 'read'} {kind}"
    member_of = groups.get(connection.principal, set()) if connection else set()
    needed = {PROJECT_ADMINISTRATORS} if write else {PROJECT_ADMINISTRATORS, READERS}
    granted = sorted(member_of & needed)
    base = _base(step, identity, operation, "Azure DevOps project")
    if granted:
        walk.add(Entry(**base, granted_by=Grant(f"member of {granted[0]}", "Azure DevOps project")))
    else:
        walk.add(Entry(**base, granted_by=None, problem=f"not a member of {' or '.join(sorted(needed))}"))


def _cluster_of(platform: Platform, provider: DeclaredResource) -> Located | None:
    """The cluster a Kubernetes provider names, in whichever stack declares it."""
    found = platform.find_id(str(provider.inputs.get("clusterIdentifier", "")))
    return found if found is not None and found.resource.type == MANAGED_CLUSTER else None


def _kubernetes(walk: Walk, step: PulumiStep, run: StackRun, write: bool) -> None:
    providers = {resource.urn: resource for resource in run.of_type(KUBERNETES_PROVIDER)}
    identity = (
        f"{step.connection.name} ({step.connection.identity_name})" if step.connection else "no identity"
    )
    for provider in providers.values():
        cluster = _cluster_of(walk.platform, provider)
        if cluster is None:
            walk.add(
                Entry(
                    **_base(step, identity, "reach a Kubernetes cluster", provider.name),
                    granted_by=None,
                    problem="the provider's clusterIdentifier names no cluster a stack declares",
                )
            )
            continue
        _azure(walk, step, LIST_USER_CREDENTIAL, cluster.id)
        installed = KUBELOGIN in step.installed
        _rule(
            walk,
            step.stack,
            step.pipeline,
            step.stage,
            step.step,
            f"run {KUBELOGIN} (the Kubernetes provider signs in with it)",
            Grant("installed earlier in the job", "the job's agent") if installed else None,
            ""
            if installed
            else f"{KUBELOGIN} is not on the agent and no earlier step of the job installs it",
        )
        path, problem = reach.network_path(walk.platform, step.agent, cluster)
        _rule(
            walk,
            step.stack,
            step.pipeline,
            step.stage,
            step.step,
            "reach the cluster's API server",
            Grant(path, cluster.id) if path else None,
            problem,
        )
    for resource in run.kubernetes_objects():
        provider = providers.get(resource.provider.rpartition("::")[0])
        cluster = _cluster_of(walk.platform, provider) if provider else None
        if cluster is None:
            continue
        manifest = resource.inputs
        try:
            kind = kube_rbac.kind_of(str(manifest.get("apiVersion")), str(manifest.get("kind")))
        except kube_rbac.UnknownKind as error:
            walk.add(
                Entry(
                    **_base(step, identity, "Kubernetes data action", resource.id),
                    granted_by=None,
                    problem=str(error.args[0]),
                )
            )
            continue
        namespace = (manifest.get("metadata") or {}).get("namespace") if kind.namespaced else None
        scope = kube_rbac.scope(cluster.id, namespace)
        _azure(walk, step, kind.data_action(kube_rbac.WRITE if write else kube_rbac.READ), scope, data=True)
        if (
            write
            and kind is kube_rbac.ROLE_BINDING
            and manifest.get("roleRef", {}).get("kind") == "ClusterRole"
        ):
            _azure(walk, step, kube_rbac.BIND_CLUSTER_ROLES, scope, data=True)


def walk_pulumi(walk: Walk, step: PulumiStep, run: StackRun, state: Mapping[str, str]) -> None:
    write = step.command == "up"
    groups = memberships(walk.platform)
    _azure(walk, step, BLOB_READ, state["container"], data=True)
    _azure(walk, step, KEY_DECRYPT, state["key"], data=True)
    if write:
        _azure(walk, step, BLOB_WRITE, state["container"], data=True)
        _azure(walk, step, KEY_ENCRYPT, state["key"], data=True)
    devops_types = sorted({r.type for r in run.resources if r.custom and r.type.startswith("azuredevops:")})
    for resource_type in devops_types:
        _devops(walk, step, groups, resource_type, write)
    for resource in run.resources:
        if not resource.custom or not resource.type.startswith("azure-native:") or not resource.id:
            continue
        if write and resource.type == ROLE_ASSIGNMENT:
            _role_assignment(walk, step, resource.inputs)
        else:
            _azure(walk, step, operation_of(resource.id, "write" if write else "read"), resource.id)
        if write and resource.type == managed_devops_pools.POOL:
            _managed_pool(walk, step, resource.inputs)
    _kubernetes(walk, step, run, write)


def _managed_pool(walk: Walk, step: PulumiStep, inputs: Mapping[str, Any]) -> None:
    subnet = (inputs.get("fabricProfile", {}).get("networkProfile") or {}).get("subnetId")
    if subnet:
        _azure(walk, step, SUBNET_JOIN, str(subnet))
    connection = step.connection
    identity = f"{connection.name} ({connection.identity_name})" if connection else "no identity"
    member = connection is not None and connection.principal in organisation_users(walk.platform)
    walk.add(
        Entry(
            **_base(step, identity, "devops create organisation agent pool", str(inputs.get("poolName"))),
            granted_by=Grant(AGENT_POOL_ADMINISTRATOR, "Azure DevOps organisation") if member else None,
            problem=""
            if member
            else "the identity is no user of the Azure DevOps organisation, so it cannot hold Agent pools "
            "Administrator: Managed DevOps Pools creates the agent pool as the identity creating the pool",
        )
    )


def _connection(platform: Platform, step: Mapping[str, Any]) -> ServiceConnection | None:
    name = step.get("inputs", {}).get("azureSubscription")
    return platform.connections.get(name) if name else None


def _rule(
    walk: Walk, stack: str, pipeline: str, stage: str, step: str, rule: str, grant: Grant | None, problem: str
) -> None:
    walk.add(
        Entry(
            stack=stack,
            pipeline=pipeline,
            stage=stage,
            step=step,
            identity="pipeline rule",
            operation=rule,
            resource=step,
            granted_by=grant,
            problem=problem,
        )
    )


def _pipeline_entry(
    walk: Walk,
    stack: str,
    pipeline: str,
    stage: str,
    step: str,
    operation: str,
    resource: str,
    outcome: Grant | devops.Refusal,
) -> None:
    walk.add(
        Entry(
            stack=stack,
            pipeline=pipeline,
            stage=stage,
            step=step,
            identity="the pipeline",
            operation=operation,
            resource=resource,
            granted_by=outcome if isinstance(outcome, Grant) else None,
            problem=outcome.problem if isinstance(outcome, devops.Refusal) else "",
        )
    )


@dataclass(frozen=True)
class _Repository:
    """What every step of this repository's pipelines is checked against."""

    runs: Mapping[str, StackRun]
    state: Mapping[str, str]
    build_service: str
    makefile: makefile.Makefile


@dataclass
class _Job:
    key: str
    pipeline: str
    stage: str
    name: str
    pipeline_id: str
    agent: reach.Agent
    persisted: bool
    installed: set[str] = field(default_factory=set)
    # The output variables its steps set: "<step>.<variable>" -> value.
    outputs: dict[str, str] = field(default_factory=dict)


def walk_platform_pipelines(walk: Walk, runs: Mapping[str, StackRun], root: Path = REPO_ROOT) -> None:
    bootstrap = runs[BOOTSTRAP].outputs
    repository = _Repository(
        runs=runs,
        state={"container": bootstrap[outputs.STATE_CONTAINER_ID], "key": bootstrap[outputs.STATE_KEY_ID]},
        build_service=str(runs[SHARED].outputs[outputs.DEVOPS_BUILD_SERVICE]),
        makefile=makefile.parse(root / "Makefile"),
    )
    pipeline_ids = {key: str(int(value)) for key, value in bootstrap[outputs.PLATFORM_PIPELINES].items()}
    repository_id = devops.platform_repository_id(walk.platform) or ""
    for key, path in FILES.items():
        pipeline = expand(root / path, root=root, variables={"Build.Reason": BUILD_REASONS[key]})
        for stage in stages(pipeline):
            earlier: dict[str, dict[str, str]] = {}
            for job in stage["jobs"]:
                name = str(job.get("job") or job.get("deployment") or "job")
                if conditions.runs_after_success(job.get("condition"), earlier) is False:
                    # The values its dependencies' steps set make its condition false: it never runs here.
                    continue
                steps = job_steps(job)
                current = _Job(
                    key=key,
                    pipeline=path,
                    stage=stage["stage"],
                    name=name,
                    pipeline_id=pipeline_ids[key],
                    agent=reach.agent_of(walk.platform, job.get("pool") or pipeline.get("pool") or {}),
                    persisted=any(
                        "checkout" in step and str(step.get("persistCredentials", "false")).lower() == "true"
                        for step in steps
                    ),
                )
                if "deployment" in job:
                    _platform_environment(
                        walk,
                        path,
                        current.stage,
                        f"(job {name})",
                        current.pipeline_id,
                        str(job["environment"]),
                        repository_id,
                    )
                _pool_entries(walk, current, job.get("pool") or pipeline.get("pool") or {})
                for step in steps:
                    if "checkout" not in step:
                        _platform_step(walk, repository, current, step)
                earlier[name] = current.outputs


def _pool_entries(walk: Walk, job: _Job, pool: Mapping[str, Any] | str) -> None:
    """A self-hosted pool: the pipeline's authorization on its queue, and a machine no other job shares."""
    name = pool if isinstance(pool, str) else pool.get("name")
    if not name:
        return
    step = f"(job {job.name})"
    stack_of_pool = walk.platform.agent_pool(str(name))
    _rule(
        walk,
        stack_of_pool[0] if stack_of_pool else BOOTSTRAP,
        job.pipeline,
        job.stage,
        step,
        "get an agent",
        None if job.agent.problem else Grant("the pool's image", job.agent.label),
        job.agent.problem,
    )
    found = devops.queue_for_pool(walk.platform, str(name))
    outcome = (
        devops.authorized(walk.platform, job.pipeline_id, "queue", found[1])
        if found
        else devops.Refusal(f"no stack declares agent pool {name}")
    )
    stack = found[0] if found else BOOTSTRAP
    _pipeline_entry(walk, stack, job.pipeline, job.stage, step, "use agent queue", str(name), outcome)
    _rule(
        walk,
        stack,
        job.pipeline,
        job.stage,
        step,
        "run on a machine no other job shares",
        Grant("a fresh VM for every job", job.agent.label) if job.agent.fresh else None,
        ""
        if job.agent.fresh
        else f"{job.agent.label} keeps its VMs between jobs: what one job leaves behind runs in the next "
        "(give the pool a stateless agent profile)",
    )


def _platform_environment(
    walk: Walk, pipeline: str, stage: str, step: str, pipeline_id: str, name: str, repository: str
) -> None:
    found = devops.environment(walk.platform, name)
    if found is None:
        refusal = devops.Refusal(
            "no stack declares this environment: Azure DevOps would create it without checks"
        )
        _pipeline_entry(walk, BOOTSTRAP, pipeline, stage, step, "deploy to environment", name, refusal)
        return
    stack, environment_id = found
    outcome = devops.authorized(walk.platform, pipeline_id, "environment", environment_id)
    _pipeline_entry(walk, stack, pipeline, stage, step, "deploy to environment", name, outcome)
    for kind, inputs in devops.environment_checks(walk.platform, environment_id):
        check = devops.check_satisfiable(walk.platform, kind, inputs, repository, naming.MAIN_REF)
        _pipeline_entry(walk, stack, pipeline, stage, step, f"pass {kind}", name, check)


def _platform_step(walk: Walk, repository: _Repository, job: _Job, step: Mapping[str, Any]) -> None:
    pipeline, stage = job.pipeline, job.stage
    name = step.get("displayName") or step.get("task") or "script"
    connection = _connection(walk.platform, step)
    subscription = step.get("inputs", {}).get("azureSubscription")
    if connection is not None:
        outcome = devops.authorized(walk.platform, job.pipeline_id, "endpoint", connection.id)
        _pipeline_entry(
            walk, connection.stack, pipeline, stage, name, "use service connection", connection.name, outcome
        )
        if job.key in PREVIEWING:
            preview = connection.name.endswith(naming.PREVIEW_SUFFIX)
            _rule(
                walk,
                connection.stack,
                pipeline,
                stage,
                name,
                "run with a read-only preview identity",
                Grant("preview connection", connection.name) if preview else None,
                ""
                if preview
                else "a pull request or drift check runs its own program: never a deploy connection",
            )
    elif subscription:
        refusal = devops.Refusal("no stack declares this service connection")
        _pipeline_entry(
            walk, BOOTSTRAP, pipeline, stage, name, "use service connection", str(subscription), refusal
        )
    context = StepContext(
        connection.stack if connection else BOOTSTRAP, pipeline, stage, name, connection, None, job.agent
    )
    if step.get("task") in CLOUD_TASKS:
        azure_cli_entry(walk, context, job.agent)
    env = {str(k): str(v) for k, v in (step.get("env") or {}).items()}
    if step.get("task") == PULUMI_TASK:
        inputs = step["inputs"]
        stack = str(inputs["stack"])
        pat = env.get("AZDO_PERSONAL_ACCESS_TOKEN", "")
        _rule(
            walk,
            stack,
            pipeline,
            stage,
            name,
            "sign in to Azure DevOps as the stack's own identity",
            None
            if "System.AccessToken" in pat
            else Grant("OIDC", "ARM_USE_OIDC with the connection's token"),
            "the job's token is the project's build service, which cannot create organisation-level objects, "
            "look users up or manage service connections and checks"
            if "System.AccessToken" in pat
            else "",
        )
        walk_pulumi(
            walk,
            PulumiStep(
                pipeline,
                stage,
                name,
                stack,
                str(inputs["command"]),
                connection,
                frozenset(job.installed),
                job.agent,
            ),
            repository.runs[stack],
            repository.state,
        )
        return
    script = script_text(step)
    if script is None:
        return
    has_token = job.persisted or any("$(System.AccessToken)" in value for value in env.values())
    for targets, variables in makefile.make_invocations(script):
        reached = makefile.declared_targets(repository.makefile, targets)
        tool_entries(walk, context, reached, job.agent, job.installed)
        for target in reached:
            walk_declared(
                walk,
                pipeline,
                stage,
                name,
                target,
                connection,
                repository.build_service,
                repository.state,
                step,
                has_token,
            )
            if target.name in STEP_OUTPUTS and step.get("name"):
                for variable, value in STEP_OUTPUTS[target.name](variables).items():
                    job.outputs[f"{step['name']}.{variable}"] = value


def walk_declared(
    walk: Walk,
    pipeline: str,
    stage: str,
    step_name: str,
    target: makefile.Target,
    connection: ServiceConnection | None,
    build_service: str,
    state: Mapping[str, str],
    step: Mapping[str, Any],
    has_token: bool,
) -> None:
    base = dict(stack=BOOTSTRAP, pipeline=pipeline, stage=stage, step=step_name)
    if not target.declared:
        walk.add(
            Entry(
                **base,
                identity="pipeline rule",
                operation="declared operations",
                resource=f"make {target.name}",
                granted_by=None,
                problem="the target declares no `#@` operations",
            )
        )
        return
    after_failure = conditions.may_run_after_failure(step.get("condition"))
    for declaration in target.declarations:
        if declaration.plane == "data" and declaration.kind == "state-container":
            pulumi_step = PulumiStep(pipeline, stage, step_name, BOOTSTRAP, "read", connection)
            _azure(walk, pulumi_step, declaration.operation, state["container"], data=True)
        elif declaration.plane == "devops":
            outcome: Grant | devops.Refusal
            if not has_token:
                outcome = devops.Refusal("the step has no access to the job's token")
            else:
                permission = {"pr-comment": "PullRequestContribute", "tag": "CreateTag"}.get(
                    declaration.operation
                )
                repository = devops.platform_repository_id(walk.platform)
                grant = (
                    devops.git_permission(walk.platform, build_service, repository, "", permission)
                    if permission and repository
                    else None
                )
                outcome = grant or devops.Refusal(f"no {permission} for the build service on this repository")
            walk.add(
                Entry(
                    **base,
                    identity="the project's build service",
                    operation=f"devops {declaration.operation}",
                    resource="this repository",
                    granted_by=outcome if isinstance(outcome, Grant) else None,
                    problem=outcome.problem if isinstance(outcome, devops.Refusal) else "",
                )
            )
        elif (
            declaration.plane in ("action", "data")
            and after_failure
            and not declaration.operation.endswith("/read")
        ):
            walk.add(
                Entry(
                    **base,
                    identity="pipeline rule",
                    operation=f"{declaration.operation} only after success",
                    resource=f"make {target.name}",
                    granted_by=None,
                    problem="the step can run after a failure",
                )
            )
