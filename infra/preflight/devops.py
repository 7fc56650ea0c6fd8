"""Azure DevOps rules, evaluated against what the stacks declare.

- A push to a branch that blocking branch policies cover is refused (TF402455) unless the pusher has
  "Bypass policies when pushing" (Git permission PolicyExempt); any push needs "Contribute"
  (GenericContribute), which the build service does not have by default: "By default, this identity can read
  from the repo but cannot push any changes back to it" (azure-devops-docs, pipelines/scripts/git-commands.md;
  branch-policies.md for PolicyExempt).
- Queuing another pipeline needs "Queue builds" on that definition (Build security namespace, QueueBuilds).
- A YAML pipeline may use a service connection, variable group, agent queue or environment only once it is
  authorised for it; otherwise the run stops for a one-time permit ("This pipeline needs permission to access
  a resource"). The platform authorises each onboarded pipeline explicitly. A Managed DevOps Pool's queue is
  the one the service creates in each project the pool lists (managed-devops-pools/prerequisites.md); a pool
  that does not list the project has no queue there.
- Environment checks must be satisfiable: approvals need at least one approver; a branch control check that
  verifies protection fails the stage when the branch has no policy ("If any one of the branches do not match
  the criteria, the check fails", azure-devops-docs pipelines/process/approvals.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from infra import naming, outputs
from infra.preflight.checks import Grant
from infra.preflight.platform import (
    BRANCH_POLICIES,
    BUILD_DEFINITION,
    BUILD_DEFINITION_PERMISSIONS,
    CHECKS,
    ENVIRONMENT,
    GIT_PERMISSIONS,
    PIPELINE_AUTHORIZATION,
    VARIABLE_GROUP,
    Platform,
)
from infra.stacks import SHARED
from infra.tools.mock_run import agent_queue_id, devops_project_id

POLICY_EXEMPT = "PolicyExempt"
CONTRIBUTE = "GenericContribute"
QUEUE_BUILDS = "QueueBuilds"


@dataclass(frozen=True)
class Refusal:
    problem: str


def _number(value: Any) -> str:
    """Azure DevOps ids as text: the mocks carry numbers as floats."""
    return str(int(value)) if isinstance(value, float) else str(value)


def _ref_matches(scope: Mapping[str, Any], repository_id: str, ref: str) -> bool:
    if scope.get("repositoryId") not in (None, repository_id):
        return False
    pattern = scope.get("repositoryRef", "")
    if scope.get("matchType", "Exact") == "Prefix":
        return ref.startswith(pattern)
    if scope.get("matchType") == "DefaultBranch":
        return ref == naming.MAIN_REF
    return ref == pattern


def blocking_policies(platform: Platform, repository_id: str, ref: str) -> list[str]:
    found = []
    for type_ in BRANCH_POLICIES:
        for _stack, policy in platform.of_type(type_):
            if not policy.inputs.get("blocking") or not policy.inputs.get("enabled", True):
                continue
            scopes = policy.inputs.get("settings", {}).get("scopes", [])
            if any(_ref_matches(scope, repository_id, ref) for scope in scopes):
                found.append(f"{type_.rpartition(':')[2]} {policy.name}")
    return found


def _branch_of(ref: str) -> str:
    return ref.removeprefix("refs/heads/")


def git_permission(
    platform: Platform, principal: str, repository_id: str, ref: str, permission: str
) -> Grant | None:
    """An Allow of `permission` for the principal on the repository, or on the branch of `ref`."""
    for _stack, resource in platform.of_type(GIT_PERMISSIONS):
        inputs = resource.inputs
        if inputs.get("principal") != principal or inputs.get("repositoryId") not in (None, repository_id):
            continue
        branch = inputs.get("branchName")
        if branch is not None and _branch_of(str(branch)) != _branch_of(ref):
            continue
        if inputs.get("permissions", {}).get(permission) == "Allow":
            where = f"repository {repository_id}" + (f" branch {branch}" if branch else "")
            return Grant(permission, where)
    return None


def push(platform: Platform, principal: str, repository_id: str, ref: str) -> Grant | Refusal:
    policies = blocking_policies(platform, repository_id, ref)
    exempt = git_permission(platform, principal, repository_id, ref, POLICY_EXEMPT) if policies else None
    if policies and exempt is None:
        protection = ", ".join(policies)
        return Refusal(f"TF402455: {ref} is protected by {protection} and nothing exempts the pusher")
    contribute = git_permission(platform, principal, repository_id, ref, CONTRIBUTE)
    if contribute is None:
        return Refusal(f"no {CONTRIBUTE} on {ref}: the build service may only read repositories by default")
    return exempt or contribute


def queue_builds(platform: Platform, principal: str, definition_id: str) -> Grant | Refusal:
    for _stack, resource in platform.of_type(BUILD_DEFINITION_PERMISSIONS):
        inputs = resource.inputs
        if (
            inputs.get("principal") == principal
            and _number(inputs.get("buildDefinitionId")) == definition_id
            and inputs.get("permissions", {}).get(QUEUE_BUILDS) == "Allow"
        ):
            return Grant(QUEUE_BUILDS, f"pipeline {definition_id}")
    return Refusal(f"no {QUEUE_BUILDS} on pipeline {definition_id}")


def authorized(platform: Platform, pipeline_id: str, kind: str, resource_id: str) -> Grant | Refusal:
    for stack, resource in platform.of_type(PIPELINE_AUTHORIZATION):
        inputs = resource.inputs
        if (
            _number(inputs.get("pipelineId")) == pipeline_id
            and inputs.get("type") == kind
            and _number(inputs.get("resourceId")) == resource_id
        ):
            return Grant("PipelineAuthorization", f"{stack}: {kind} {resource_id}")
    return Refusal(
        f"pipeline {pipeline_id} is not authorised for {kind} {resource_id}: the run waits for a permit"
    )


def find_named(platform: Platform, type_: str, name: str) -> tuple[str, str] | None:
    """(stack, id) of the Azure DevOps object of this type with this name."""
    for stack, resource in platform.of_type(type_):
        if resource.inputs.get("name") == name:
            return stack, resource.id
    return None


def platform_repository_id(platform: Platform) -> str | None:
    """The repository this repository's pipeline definitions point at (bootstrap stack)."""
    for _stack, definition in platform.of_type(BUILD_DEFINITION):
        if definition.inputs.get("path") == "\\platform":
            return str(definition.inputs["repository"]["repoId"])
    return None


def linked_vault(platform: Platform, group_id: str) -> tuple[str, str] | None:
    """(vault name, service endpoint id) of a Key Vault-linked variable group."""
    for _stack, resource in platform.of_type(VARIABLE_GROUP):
        vault = resource.inputs.get("keyVault")
        if resource.id == group_id and vault:
            return str(vault["name"]), str(vault["serviceEndpointId"])
    return None


def environment(platform: Platform, name: str) -> tuple[str, str] | None:
    return find_named(platform, ENVIRONMENT, name)


def variable_group(platform: Platform, name: str) -> tuple[str, str] | None:
    return find_named(platform, VARIABLE_GROUP, name)


def queue_for_pool(platform: Platform, pool_name: str) -> tuple[str, str] | None:
    """(stack, queue id) of the agent pool's queue in the platform's Azure DevOps project, the one its
    pipelines run in."""
    found = platform.agent_pool(pool_name)
    if found is None:
        return None
    stack, pool = found
    project_id = str(platform.outputs(SHARED)[outputs.DEVOPS_PROJECT_ID])
    listed = {
        devops_project_id(str(project))
        for organization in pool.inputs.get("organizationProfile", {}).get("organizations", [])
        for project in organization.get("projects") or []
    }
    if project_id not in listed:
        return None
    return stack, agent_queue_id(project_id, pool_name)


def environment_checks(platform: Platform, environment_id: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for type_ in CHECKS:
        for _stack, check in platform.of_type(type_):
            if _number(check.inputs.get("targetResourceId")) == environment_id:
                yield type_.rpartition(":")[2], check.inputs


def check_satisfiable(
    platform: Platform, kind: str, inputs: Mapping[str, Any], repository_id: str, ref: str
) -> Grant | Refusal:
    if kind == "CheckApproval":
        approvers = inputs.get("approvers") or []
        if not approvers:
            return Refusal("the approval check has no approver")
        return Grant("CheckApproval", f"{len(approvers)} approver(s)")
    if kind == "CheckBranchControl":
        allowed = [branch.strip() for branch in str(inputs.get("allowedBranches", "")).split(",")]
        if ref not in allowed and "*" not in allowed:
            return Refusal(f"branch control allows {', '.join(allowed)}, the pipeline runs from {ref}")
        if inputs.get("verifyBranchProtection") and not blocking_policies(platform, repository_id, ref):
            return Refusal(
                f"branch control verifies protection and {ref} has no branch policy: the check fails"
            )
        return Grant("CheckBranchControl", ", ".join(allowed))
    return Grant(kind, "no condition to meet")
