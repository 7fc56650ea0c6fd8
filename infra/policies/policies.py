"""POLICIES: every policy of the pack, importable without the policy server (tests, offline check)."""

from typing import Final

from pulumi_policy import Policy

from infra.policies.azure import AZURE_POLICIES
from infra.policies.costs import BUDGET_POLICY
from infra.policies.devops import DEVOPS_RESOURCE_POLICIES
from infra.policies.diagnostic_settings import DIAGNOSTIC_SETTINGS_POLICY
from infra.policies.environments import PROTECTED_ENVIRONMENTS_POLICY
from infra.policies.network import (
    AGENTS_IN_VNET_POLICY,
    PRIVATE_ENDPOINTS_POLICY,
    PUBLIC_NETWORK_ACCESS_POLICY,
)
from infra.policies.tags import REQUIRED_TAGS_POLICY

POLICIES: Final[list[Policy]] = [
    *AZURE_POLICIES,
    REQUIRED_TAGS_POLICY,
    *DEVOPS_RESOURCE_POLICIES,
    PROTECTED_ENVIRONMENTS_POLICY,
    PUBLIC_NETWORK_ACCESS_POLICY,
    PRIVATE_ENDPOINTS_POLICY,
    AGENTS_IN_VNET_POLICY,
    DIAGNOSTIC_SETTINGS_POLICY,
    BUDGET_POLICY,
]
