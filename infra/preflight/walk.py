"""Walk every stage, job and step of a pipeline and state, per operation, who performs it, on what, and what
grants it (or that nothing does).

A step's Azure identity is the one behind the service connection its task names (`azureSubscription`); its
Azure DevOps identity is the job's access token, which belongs to the project's build service, when the step
can use it (a mapped `$(System.AccessToken)`, or credentials persisted by the checkout). What a step does is
what the make targets it runs declare (`makefile.py`); the pipeline itself adds the resources the run must be
authorised for (service connections, variable groups, agent queues, environments) and its environments'
checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.preflight import conditions, devops, makefile
from infra.preflight.azure_pipelines import job_steps, script_text, stages
from infra.preflight.checks import Entry, Grant
from infra.preflight.platform import Located, Platform, ServiceConnection
from infra.preflight.rbac import Assignment, narrowest_grant
from infra.preflight.reach import Agent, agent_of, unreachable

TOKEN = "$(System.AccessToken)"
# Tasks that only act on the agent or on the run's own artifacts.
LOCAL_TASKS = frozenset({"PublishPipelineArtifact@1", "DownloadPipelineArtifact@2", "UsePythonVersion@0"})
CLOUD_TASKS = frozenset({"AzureCLI@2"})
# Commands a script may not run outside a make target: what they do could not be declared. A command word
# starts a line or follows a shell operator or `$(` (a value such as `CONTAINER=dvc` is not a command).
_UNDECLARED = ("az", "kubectl", "git push", "dvc", "curl", "pulumi")
_COMMAND_START = r"(?:^|[;&|(]|\$\()\s*"


def undeclared_commands(script: str) -> list[str]:
    """The commands of `_UNDECLARED` the script runs itself, outside a make invocation."""
    return [
        command
        for command in _UNDECLARED
        if re.search(_COMMAND_START + re.escape(command) + r"\b", script, re.MULTILINE)
    ]


GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
# What a failure notifier (`#@ notifies`) may still do after a failure: send telemetry to Application
# Insights, which an alert rule turns into a notification. Nothing else it declares is allowed then.
NOTIFIER_OPERATIONS = frozenset({"Microsoft.Insights/Telemetry/Write"})


def _writes_after_failure(target: makefile.Target, declaration: makefile.Declaration) -> bool:
    """Whether running this declared operation after a failure is refused."""
    if declaration.plane not in ("action", "data", "devops") or declaration.operation.endswith("/read"):
        return False
    return not (
        target.notifier and declaration.plane == "data" and declaration.operation in NOTIFIER_OPERATIONS
    )


@dataclass(frozen=True)
class Project:
    """A rendered project: where it is and what the platform knows about it."""

    slug: str
    root: Any  # Path
    repository_id: str
    main_ref: str
    pipeline_ids: Mapping[str, str]
    build_service: str  # the principal (subject descriptor) of the project's build service
    build_service_name: str


@dataclass
class Walk:
    platform: Platform
    entries: list[Entry] = field(default_factory=list)
    used: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, entry: Entry, assignment: Assignment | None = None) -> None:
        self.entries.append(entry)
        if assignment is not None:
            self.used.add(assignment.key)


@dataclass(frozen=True)
class StepContext:
    stack: str
    pipeline: str
    stage: str
    step: str
    connection: ServiceConnection | None
    devops_identity: str | None
    agent: Agent | None = None


def resolve(platform: Platform, kind: str, arguments: Sequence[str]) -> tuple[Located | None, str, str]:
    """(the located resource, its id, a problem) for an `on <kind> <arguments>` clause."""
    unbound = [argument for argument in arguments if "$(" in argument or not argument]
    if unbound or not arguments:
        missing = ", ".join(unbound) or "an argument"
        return None, f"{kind} {' '.join(arguments)}", f"the step does not set {missing}"
    if kind in ("registry-id", "identity-id"):
        located = platform.find_id(arguments[0])
        return located, arguments[0], "" if located else f"no stack declares {arguments[0]}"
    if kind == "workspace-storage":
        workspace = platform.find("workspace", arguments[0])
        account_id = str(workspace.resource.inputs.get("storageAccount", "")) if workspace else ""
        located = platform.find_id(account_id) if account_id else None
        problem = "" if located else f"no stack declares workspace {arguments[0]} with a storage account"
        return located, account_id or f"storage of workspace {arguments[0]}", problem
    parent_kinds = {
        "registry-image": "registry",
        "online-endpoint": "workspace",
        "aks-namespace": "aks",
        "storage-container": "storage-account",
    }
    base_kind = parent_kinds.get(kind, kind)
    name = arguments[0]
    if kind == "registry-image":
        login_server = name.split("/")[0]
        name = login_server.removesuffix(".azurecr.io")
    located = platform.find(base_kind, name)
    if located is None:
        return None, f"{kind} {' '.join(arguments)}", f"no stack declares {base_kind} {name}"
    suffix = {
        "online-endpoint": "/onlineEndpoints/{0}",
        "aks-namespace": "/namespaces/{0}",
        "storage-container": "/blobServices/default/containers/{0}",
    }.get(kind, "")
    resource_id = located.id + suffix.format(*arguments[1:])
    return located, resource_id, ""


def azure_entry(walk: Walk, context: StepContext, declaration: makefile.Declaration) -> None:
    located, resource_id, problem = resolve(walk.platform, declaration.kind, declaration.arguments)
    identity = (
        f"{context.connection.name} ({context.connection.identity_name})"
        if context.connection
        else "no identity"
    )
    stack = located.stack if located else context.stack
    base = dict(
        stack=stack,
        pipeline=context.pipeline,
        stage=context.stage,
        step=context.step,
        identity=identity,
        operation=declaration.operation,
        resource=resource_id,
    )
    if context.connection is None:
        walk.add(Entry(**base, granted_by=None, problem="the step runs without a service connection"))
        return
    if problem:
        walk.add(Entry(**base, granted_by=None, problem=problem))
        return
    assignment = narrowest_grant(
        walk.platform.assignments,
        context.connection.principal,
        declaration.operation,
        resource_id,
        data=declaration.plane == "data",
    )
    if assignment is None:
        walk.add(Entry(**base, granted_by=None, problem="no role assignment grants it"))
        return
    if context.agent is not None and located is not None:
        path = unreachable(walk.platform, context.agent, located, declaration.operation, declaration.plane)
        if path:
            walk.add(Entry(**base, granted_by=None, problem=path), assignment)
            return
    walk.add(Entry(**base, granted_by=Grant(assignment.role.name, assignment.scope)), assignment)


def devops_entry(
    walk: Walk, context: StepContext, project: Project, declaration: makefile.Declaration
) -> None:
    identity = context.devops_identity or "no Azure DevOps token"
    arguments = declaration.arguments
    base = dict(
        stack=context.stack,
        pipeline=context.pipeline,
        stage=context.stage,
        step=context.step,
        identity=identity,
        operation=f"devops {declaration.operation}",
        resource=f"{declaration.kind} {' '.join(arguments)}",
    )
    if context.devops_identity is None:
        walk.add(Entry(**base, granted_by=None, problem="the step has no access to the job's token"))
        return
    if any("$(" in argument for argument in arguments) or not arguments:
        walk.add(Entry(**base, granted_by=None, problem="the step does not set the target"))
        return
    if declaration.operation == "push" and declaration.kind == "branch":
        ref = f"refs/heads/{arguments[0].removeprefix('refs/heads/')}"
        base["resource"] = f"{project.slug} {ref}"
        outcome = devops.push(walk.platform, project.build_service, project.repository_id, ref)
    elif declaration.operation == "queue" and declaration.kind == "pipeline":
        outcome = devops.queue_builds(walk.platform, project.build_service, arguments[0])
    else:
        outcome = devops.Refusal(f"the preflight knows no Azure DevOps operation {declaration.operation}")
    if isinstance(outcome, devops.Refusal):
        walk.add(Entry(**base, granted_by=None, problem=outcome.problem))
    else:
        walk.add(Entry(**base, granted_by=outcome))


def rule_entry(
    walk: Walk, context: StepContext, rule: str, subject: str, grant: Grant | None, problem: str
) -> None:
    walk.add(
        Entry(
            stack=context.stack,
            pipeline=context.pipeline,
            stage=context.stage,
            step=context.step,
            identity="pipeline rule",
            operation=rule,
            resource=subject,
            granted_by=grant,
            problem=problem,
        )
    )


def tool_entries(
    walk: Walk,
    context: StepContext,
    targets: Sequence[makefile.Target],
    agent: Agent,
    installed: set[str],
) -> None:
    for target in targets:
        for declaration in target.declarations:
            if declaration.plane == "installs":
                installed.add(declaration.operation)
            elif declaration.plane == "tool":
                tool = declaration.operation
                if tool in installed:
                    grant: Grant | None = Grant(f"installed by make {target.name}", "the job's agent")
                elif tool in agent.tools:
                    grant = Grant("preinstalled", agent.label)
                else:
                    grant = None
                rule_entry(
                    walk,
                    context,
                    f"run {tool}",
                    "the agent",
                    grant,
                    "" if grant else f"{tool} is not on {agent.label} and no earlier target installs it",
                )


def azure_cli_entry(walk: Walk, context: StepContext, agent: Agent) -> None:
    """AzureCLI@2 signs in with the Azure CLI on the agent before the script runs."""
    rule_entry(
        walk,
        context,
        "run az",
        "the agent",
        Grant("preinstalled", agent.label) if "az" in agent.tools else None,
        "" if "az" in agent.tools else f"AzureCLI@2 needs az, which is not on {agent.label}",
    )


def walk_step(
    walk: Walk,
    context: StepContext,
    step: Mapping[str, Any],
    project: Project,
    project_makefile: makefile.Makefile,
    agent: Agent,
    installed: set[str],
    after_failure: bool,
) -> None:
    task = step.get("task")
    script = script_text(step)
    if task is not None and task not in LOCAL_TASKS | CLOUD_TASKS:
        rule_entry(
            walk,
            context,
            "declared operations",
            f"task {task}",
            None,
            "the preflight cannot tell what this task does",
        )
        return
    if script is None:
        return
    if task in CLOUD_TASKS:
        azure_cli_entry(walk, context, agent)
    invocations = list(makefile.make_invocations(script))
    for command in undeclared_commands(script):
        rule_entry(
            walk,
            context,
            "declared operations",
            "inline script",
            None,
            f"runs `{command}` outside a make target",
        )
    for targets, variables in invocations:
        reached = makefile.declared_targets(project_makefile, targets)
        bound_variables = {**project_makefile.variables, **variables}
        for target in reached:
            if not target.declared:
                rule_entry(
                    walk,
                    context,
                    "declared operations",
                    f"make {target.name}",
                    None,
                    "the target declares no `#@` operations",
                )
        tool_entries(walk, context, reached, agent, installed)
        for target in reached:
            for declaration in target.declarations:
                bound = declaration.bind(bound_variables)
                if after_failure and _writes_after_failure(target, bound):
                    rule_entry(
                        walk,
                        context,
                        f"{bound.operation} only after success",
                        f"make {target.name}",
                        None,
                        "the step can run after a failure (its condition names failed(), always() or no "
                        "status), "
                        "so an error would trigger it",
                    )
                if bound.plane in ("action", "data"):
                    azure_entry(walk, context, bound)
                elif bound.plane == "devops":
                    devops_entry(walk, context, project, bound)


def _connection(platform: Platform, step: Mapping[str, Any]) -> ServiceConnection | None:
    name = step.get("inputs", {}).get("azureSubscription")
    return platform.connections.get(name) if name else None


def _maps_token(step: Mapping[str, Any]) -> bool:
    return any(TOKEN in str(value) for value in (step.get("env") or {}).values())


def _stack_of_connection(connection: ServiceConnection | None, default: str) -> str:
    return connection.stack if connection else default


def _groups(node: Mapping[str, Any]) -> Iterator[str]:
    variables = node.get("variables") or []
    if isinstance(variables, list):
        for variable in variables:
            if isinstance(variable, Mapping) and "group" in variable:
                yield str(variable["group"])


def _depends_on(stage: Mapping[str, Any]) -> list[str]:
    depends_on = stage.get("dependsOn")
    if depends_on is None or depends_on == "":
        return []
    return [str(name) for name in ([depends_on] if isinstance(depends_on, str) else depends_on)]


def _dependency_entries(
    walk: Walk, context: StepContext, stage: Mapping[str, Any], stage_names: set[str]
) -> None:
    """Azure Pipelines refuses to load a pipeline whose stage depends on a stage it does not have, and a
    status function reads only the stage's own dependencies: a notification stage that names a stage the
    variant lacks would break the whole pipeline, one that names a non-dependency would never fire."""
    depends_on = _depends_on(stage)
    for name in depends_on:
        if name not in stage_names:
            rule_entry(
                walk, context, "depend on stages of the pipeline", f"stage {name}", None, "no such stage"
            )
    for name in sorted(conditions.named_dependencies(stage.get("condition")) - set(depends_on)):
        rule_entry(
            walk,
            context,
            "name only its dependencies in status functions",
            f"stage {name}",
            None,
            "not in its dependsOn, so its result is not there to read",
        )


def walk_pipeline(
    walk: Walk,
    project: Project,
    key: str,
    pipeline: Mapping[str, Any],
    label: str,
    project_makefile: makefile.Makefile,
) -> None:
    pipeline_id = project.pipeline_ids[key]
    default_stack = "shared"
    top_groups = list(_groups(pipeline))
    stage_names = {stage["stage"] for stage in stages(pipeline)}
    for stage in stages(pipeline):
        stage_name = stage["stage"]
        stage_context = StepContext(default_stack, label, stage_name, "(stage)", None, None)
        condition = stage.get("condition")
        _dependency_entries(walk, stage_context, stage, stage_names)
        if not conditions.names_status(condition):
            rule_entry(
                walk,
                stage_context,
                "run only after its dependencies succeeded",
                f"stage {stage_name}",
                None,
                f"condition `{condition}` names no status function, so it replaces succeeded()",
            )
        stage_after_failure = conditions.may_run_after_failure(condition) and conditions.names_status(
            condition
        )
        for group in [*top_groups, *_groups(stage)]:
            _variable_group_entries(walk, stage_context, pipeline_id, group)
        for job in stage["jobs"]:
            job_name = job.get("job") or job.get("deployment")
            job_condition = job.get("condition")
            job_context = StepContext(default_stack, label, stage_name, f"(job {job_name})", None, None)
            if not conditions.names_status(job_condition):
                rule_entry(
                    walk,
                    job_context,
                    "run only after its dependencies succeeded",
                    f"job {job_name}",
                    None,
                    f"condition `{job_condition}` names no status function, so it replaces succeeded()",
                )
            job_after_failure = conditions.may_run_after_failure(job_condition) and conditions.names_status(
                job_condition
            )
            pool = job.get("pool") or pipeline.get("pool") or {}
            agent = agent_of(walk.platform, pool)
            if isinstance(pool, Mapping) and pool.get("name"):
                rule_entry(
                    walk,
                    job_context,
                    "get an agent",
                    agent.label,
                    None if agent.problem else Grant("the pool's image", agent.label),
                    agent.problem,
                )
                found = devops.queue_for_pool(walk.platform, str(pool["name"]))
                outcome = (
                    devops.authorized(walk.platform, pipeline_id, "queue", found[1])
                    if found
                    else devops.Refusal(f"no stack declares agent pool {pool['name']}")
                )
                _authorization_entry(
                    walk,
                    job_context,
                    found[0] if found else default_stack,
                    "use agent queue",
                    str(pool["name"]),
                    outcome,
                )
            for group in _groups(job):
                _variable_group_entries(walk, job_context, pipeline_id, group)
            if "deployment" in job:
                _environment_entries(walk, job_context, project, pipeline_id, str(job["environment"]))
            steps = job_steps(job)
            persisted = any(
                step.get("checkout") and str(step.get("persistCredentials", "false")).lower() == "true"
                for step in steps
            )
            installed: set[str] = set()
            for step in steps:
                if "checkout" in step:
                    continue
                connection = _connection(walk.platform, step)
                name = step.get("displayName") or step.get("task") or "script"
                context = StepContext(
                    _stack_of_connection(connection, default_stack),
                    label,
                    stage_name,
                    name,
                    connection,
                    project.build_service_name if (_maps_token(step) or persisted) else None,
                    agent,
                )
                if connection is not None:
                    outcome = devops.authorized(walk.platform, pipeline_id, "endpoint", connection.id)
                    _authorization_entry(
                        walk, context, connection.stack, "use service connection", connection.name, outcome
                    )
                elif step.get("inputs", {}).get("azureSubscription"):
                    rule_entry(
                        walk,
                        context,
                        "use service connection",
                        step["inputs"]["azureSubscription"],
                        None,
                        "no stack declares this service connection",
                    )
                step_condition = step.get("condition")
                if not conditions.names_status(step_condition):
                    rule_entry(
                        walk,
                        context,
                        "run only after the steps before it succeeded",
                        f"step {name}",
                        None,
                        f"condition `{step_condition}` names no status function, so it replaces succeeded()",
                    )
                after_failure = (
                    stage_after_failure
                    or job_after_failure
                    or conditions.may_run_after_failure(step_condition)
                )
                walk_step(walk, context, step, project, project_makefile, agent, installed, after_failure)


def _authorization_entry(
    walk: Walk,
    context: StepContext,
    stack: str,
    operation: str,
    subject: str,
    outcome: Grant | devops.Refusal,
) -> None:
    walk.add(
        Entry(
            stack=stack,
            pipeline=context.pipeline,
            stage=context.stage,
            step=context.step,
            identity="the pipeline",
            operation=operation,
            resource=subject,
            granted_by=outcome if isinstance(outcome, Grant) else None,
            problem=outcome.problem if isinstance(outcome, devops.Refusal) else "",
        )
    )


def _variable_group_entries(walk: Walk, context: StepContext, pipeline_id: str, name: str) -> None:
    """The run's authorization for the group, and the secret reads of a Key Vault-linked group: Azure DevOps
    fetches them with the group's service connection when a job starts (variable-groups-link-secrets.md)."""
    found = devops.variable_group(walk.platform, name)
    if found is None:
        refusal = devops.Refusal(f"no stack declares variable group {name}")
        _authorization_entry(walk, context, "shared", "use variable group", name, refusal)
        return
    stack, group_id = found
    outcome = devops.authorized(walk.platform, pipeline_id, "variablegroup", group_id)
    _authorization_entry(walk, context, stack, "use variable group", name, outcome)
    vault = devops.linked_vault(walk.platform, group_id)
    if vault is None:
        return
    vault_name, endpoint_id = vault
    connection = next((c for c in walk.platform.connections.values() if c.id == endpoint_id), None)
    reader = StepContext(stack, context.pipeline, context.stage, f"variable group {name}", connection, None)
    read = makefile.Declaration("data", GET_SECRET, "key-vault", (vault_name,))
    azure_entry(walk, reader, read)


def _environment_entries(
    walk: Walk, context: StepContext, project: Project, pipeline_id: str, name: str
) -> None:
    found = devops.environment(walk.platform, name)
    if found is None:
        _authorization_entry(
            walk,
            context,
            "shared",
            "deploy to environment",
            name,
            devops.Refusal("no stack declares this environment: Azure DevOps would create it without checks"),
        )
        return
    stack, environment_id = found
    _authorization_entry(
        walk,
        context,
        stack,
        "deploy to environment",
        name,
        devops.authorized(walk.platform, pipeline_id, "environment", environment_id),
    )
    for kind, inputs in devops.environment_checks(walk.platform, environment_id):
        outcome = devops.check_satisfiable(
            walk.platform, kind, inputs, project.repository_id, project.main_ref
        )
        _authorization_entry(walk, context, stack, f"pass {kind}", name, outcome)
