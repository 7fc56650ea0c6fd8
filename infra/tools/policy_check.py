"""Offline policy check: the policy pack over every resource a stack declares under the mock runtime.

`python -m infra.tools.policy_check [--stack dev ...]` runs the program for each stack (all committed
stacks by default) with its real stack file, feeds the declared resources to the same policy objects
`pulumi preview --policy-pack infra/policies` runs, prints one line per violation (resource, policy,
message) and exits 1 on any mandatory violation.
"""

import argparse
import contextvars
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi.runtime
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.policies.policies import POLICIES
from infra.policies.props import short_type
from infra.stacks import EVERY
from infra.tools import stack_config
from infra.tools.mock_run import REPO_ROOT, StackRun, Transformation, run_stack, run_stacks


@dataclass(frozen=True)
class Violation:
    stack: str
    resource: str
    policy: str
    message: str
    mandatory: bool

    def __str__(self) -> str:
        level = "mandatory" if self.mandatory else "advisory"
        return f"{self.stack} | {self.resource} | {self.policy} ({level}) | {self.message}"


def policy_options(parent_urn: str | None = None) -> PolicyResourceOptions:
    """Resource options as the engine hands them to a policy (none of the program's options matter)."""
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=parent_urn,
    )


def policy_resources(run: StackRun) -> list[PolicyResource]:
    """The stack's resources as the engine hands them to a stack policy, parents and dependencies linked."""
    by_urn = {
        resource.urn: PolicyResource(
            resource.type,
            resource.inputs,
            resource.urn,
            resource.name,
            policy_options(resource.parent_urn),
            None,
            None,
            [],
            {},
        )
        for resource in run.resources
    }
    for resource in run.resources:
        linked = by_urn[resource.urn]
        linked.parent = by_urn.get(resource.parent_urn or "")
        linked.dependencies = [by_urn[urn] for urn in resource.dependencies if urn in by_urn]
    return list(by_urn.values())


def evaluate(
    run: StackRun, config: Mapping[str, str], policies: Sequence[Policy] = POLICIES
) -> list[Violation]:
    """Every violation of `policies` in `run`; stack policies see `config` as the engine's PULUMI_CONFIG."""
    resources = policy_resources(run)
    # Components have no provider and no inputs of their own: the engine checks custom resources.
    custom_urns = {resource.urn for resource in run.resources if resource.custom}
    custom = [resource for resource in resources if resource.urn in custom_urns]
    names = {
        resource.urn: f"{short_type(resource.resource_type)} '{resource.name}'" for resource in resources
    }
    found: list[Violation] = []

    def reporter(policy: Policy, default_urn: str | None) -> Callable[[str, str | None], None]:
        def report(message: str, urn: str | None = None) -> None:
            subject = names.get(urn or default_urn or "", f"stack {run.stack}")
            mandatory = policy.enforcement_level == EnforcementLevel.MANDATORY
            found.append(Violation(run.stack, subject, policy.name, message, mandatory))

        return report

    for policy in policies:
        if isinstance(policy, ResourceValidationPolicy):
            for resource in custom:
                args = ResourceValidationArgs(
                    resource.resource_type, resource.props, resource.urn, resource.name, resource.opts, None
                )
                policy.validate(args, reporter(policy, resource.urn))
        elif isinstance(policy, StackValidationPolicy):
            contextvars.copy_context().run(_validate_stack, policy, resources, config, reporter(policy, None))
    return found


def _validate_stack(
    policy: StackValidationPolicy,
    resources: list[PolicyResource],
    config: Mapping[str, str],
    report: Callable[[str, str | None], None],
) -> None:
    # Runs in a copied context: the stack's config is visible to this policy only, as in its own process.
    pulumi.runtime.set_all_config(dict(config))
    policy.validate(StackValidationArgs(resources), report)


def check_stack(
    stack: str, root: Path = REPO_ROOT, transformations: Sequence[Transformation] = ()
) -> list[Violation]:
    run = run_stack(stack, root, transformations)
    return evaluate(run, stack_config.load(stack, root))


def _report(stacks: Sequence[str]) -> Iterator[str | Violation]:
    for stack, run in run_stacks(stacks).items():
        violations = evaluate(run, stack_config.load(stack, REPO_ROOT))
        yield from violations
        yield f"{stack}: {len(violations)} violation(s)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stack", action="append", choices=EVERY, help="a stack to check (default: every stack)"
    )
    args = parser.parse_args(argv)
    failed = False
    try:
        for line in _report(args.stack or EVERY):
            failed = failed or (isinstance(line, Violation) and line.mandatory)
            print(line)
    except pulumi.RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
