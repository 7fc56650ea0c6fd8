"""Stack policy: deployment gates on Azure DevOps environments follow the protection of what deploys there.

The projects' environments follow the stack's `protected` setting. The platform's own `platform-<stack>`
environments (the bootstrap stack's) follow the stack deployed through each (`config.deploy_approvals`, read
from the stack files as the bootstrap program reads them) and all take branch control: the platform deploys
from main only.

Which environments must be gated is the stack's own config key `protected` (declared in Pulumi.yaml,
set in each Pulumi.<stack>.yaml), the same value the program reads to create the gates. The engine
hands the stack's config to a policy pack (PULUMI_CONFIG, loaded by pulumi_policy into the runtime
config), and the offline check runs after the mock run has set the same config, so the policy reads
the value from the runtime config in both cases rather than trusting the program that made the gates.

A gate belongs to the environment its targetResourceId depends on (the engine's property
dependencies; offline, the resource's dependencies).
"""

from typing import Final

import pulumi.runtime
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra import config, platform_pipelines
from infra.config import PROJECT
from infra.policies.props import at, short_type

ENVIRONMENT: Final = "azuredevops:index/environment:Environment"
APPROVAL: Final = "azuredevops:index/checkApproval:CheckApproval"
BRANCH_CONTROL: Final = "azuredevops:index/checkBranchControl:CheckBranchControl"
GATES: Final = frozenset({APPROVAL, BRANCH_CONTROL})
# Declared in Pulumi.yaml; infra/config.py reads it for the program.
PROTECTED_KEY: Final = f"{PROJECT}:protected"


def stack_is_protected() -> bool | None:
    """The stack's `protected` setting, None when the stack does not set it."""
    raw = pulumi.runtime.get_config(PROTECTED_KEY)
    return None if raw is None else str(raw).lower() == "true"


def _targets(gate: PolicyResource, environment: PolicyResource) -> bool:
    sources = [*gate.property_dependencies.get("targetResourceId", []), *gate.dependencies]
    return any(source.urn == environment.urn for source in sources)


def _name(resource: PolicyResource) -> str:
    return f"{short_type(resource.resource_type)} '{resource.name}'"


def _platform_environment(
    environment: PolicyResource, present: set[str], protected: bool, report_violation: ReportViolation
) -> None:
    expected = {BRANCH_CONTROL, APPROVAL} if protected else {BRANCH_CONTROL}
    if present != expected:
        listed = ", ".join(sorted(short_type(kind) for kind in expected))
        found = ", ".join(sorted(short_type(kind) for kind in present)) or "none"
        report_violation(
            f"{_name(environment)}: deploying a {'protected' if protected else 'unprotected'} platform stack "
            f"takes exactly {listed} (found: {found})",
            environment.urn,
        )


def _validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    every = [r for r in args.resources if r.resource_type == ENVIRONMENT]
    gates = [
        r
        for r in args.resources
        if r.resource_type in GATES and at(r.props, "targetResourceType") == "environment"
    ]
    platform = {
        platform_pipelines.environment(stack): approval
        for stack, approval in config.deploy_approvals(config.environment_targets()).items()
    }
    environments = []
    for environment in every:
        present = {gate.resource_type for gate in gates if _targets(gate, environment)}
        name = at(environment.props, "name")
        if name in platform:
            _platform_environment(environment, present, platform[name], report_violation)
        else:
            environments.append((environment, present))
    protected = stack_is_protected()
    if protected is None:
        if environments:
            report_violation(
                f"config {PROTECTED_KEY} is not set: cannot tell whether {len(environments)} environment(s) "
                "must be gated",
                None,
            )
        return
    if protected and not environments:
        report_violation(
            f"the stack is protected ({PROTECTED_KEY}) but declares no environment to gate", None
        )
    for environment, present in environments:
        if protected and present != GATES:
            missing = ", ".join(sorted(short_type(kind) for kind in GATES - present))
            report_violation(
                f"{_name(environment)}: a protected environment has an approval and a branch control check "
                f"(missing: {missing})",
                environment.urn,
            )
        if not protected and present:
            found = ", ".join(sorted(short_type(kind) for kind in present))
            report_violation(
                f"{_name(environment)}: an unprotected environment has no approval or branch control check "
                f"(found: {found})",
                environment.urn,
            )
    for gate in gates:
        if not any(_targets(gate, environment) for environment in every):
            report_violation(f"{_name(gate)}: the check targets no environment of this stack", gate.urn)


PROTECTED_ENVIRONMENTS_POLICY: Final = StackValidationPolicy(
    name="protected-environment-gates",
    description=(
        "A protected environment has an approval and a branch control check; an unprotected one has neither."
    ),
    validate=_validate,
    enforcement_level=EnforcementLevel.MANDATORY,
)
