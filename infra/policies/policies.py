"""POLICIES: every policy of the pack, importable without the policy server (tests, offline check)."""

from typing import Final

from pulumi_policy import Policy

from infra.policies.azure import AZURE_POLICIES
from infra.policies.devops import DEVOPS_RESOURCE_POLICIES
from infra.policies.environments import PROTECTED_ENVIRONMENTS_POLICY
from infra.policies.tags import REQUIRED_TAGS_POLICY

POLICIES: Final[list[Policy]] = [
    *AZURE_POLICIES,
    REQUIRED_TAGS_POLICY,
    *DEVOPS_RESOURCE_POLICIES,
    PROTECTED_ENVIRONMENTS_POLICY,
]
