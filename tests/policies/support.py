"""Run the pack's policies on synthetic wire inputs, the way the policy server calls them."""

import contextvars
import copy
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi.runtime
from pulumi_policy import (
    Policy,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.policies.policies import POLICIES
from infra.tools.policy_check import policy_options

TAGS = {"environment": "dev", "project": "mlops-platform", "owner": "ml@contoso.com", "cost-center": "cc-1"}


def urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:dev::mlops-platform::{resource_type}::{name}"


def policy(name: str) -> Policy:
    return next(p for p in POLICIES if p.name == name)


def resource_violations(policy: Policy, resource_type: str, props: Mapping[str, Any], name: str) -> list[str]:
    assert isinstance(policy, ResourceValidationPolicy)
    messages: list[str] = []
    args = ResourceValidationArgs(
        resource_type, props, urn(resource_type, name), name, policy_options(), None
    )
    assert policy.validate(args, lambda message, _urn=None: messages.append(message)) is None
    return messages


def all_violations(resource_type: str, props: Mapping[str, Any], name: str) -> dict[str, list[str]]:
    """Messages of every resource policy of the pack, by policy name; only policies that fired."""
    found = {
        p.name: resource_violations(p, resource_type, props, name)
        for p in POLICIES
        if isinstance(p, ResourceValidationPolicy)
    }
    return {name: messages for name, messages in found.items() if messages}


def stack_resource(
    resource_type: str, name: str, props: Mapping[str, Any], depends_on: Sequence[PolicyResource] = ()
) -> PolicyResource:
    return PolicyResource(
        resource_type,
        props,
        urn(resource_type, name),
        name,
        policy_options(),
        None,
        None,
        list(depends_on),
        {},
    )


def stack_violations(
    policy: Policy, resources: Sequence[PolicyResource], config: Mapping[str, str] | None = None
) -> list[tuple[str, str | None]]:
    """The stack policy's messages with `config` as the stack's config, which the engine gives a stack
    policy; set in a copied context, so it is gone afterwards, as between two runs of the pack."""
    return contextvars.copy_context().run(_stack_violations, policy, resources, config or {})


def _stack_violations(
    policy: Policy, resources: Sequence[PolicyResource], config: Mapping[str, str]
) -> list[tuple[str, str | None]]:
    assert isinstance(policy, StackValidationPolicy)
    pulumi.runtime.set_all_config(dict(config))
    found: list[tuple[str, str | None]] = []
    assert (
        policy.validate(StackValidationArgs(list(resources)), lambda m, u=None: found.append((m, u))) is None
    )
    return found


def replaced(props: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `props` with the dotted `path` set to `value` (or removed when value is ...)."""
    result = copy.deepcopy(dict(props))
    *parents, last = path.split(".")
    node: Any = result
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return result
