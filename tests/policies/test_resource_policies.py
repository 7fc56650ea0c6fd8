"""Every resource policy: a compliant case per resource kind, and one weakened setting at a time."""

import pytest
from pulumi_policy import ResourceValidationPolicy

from infra.policies.policies import POLICIES
from infra.pulumi_internals import UNKNOWN_STRING_VALUE, unknown_checking_proxy
from tests.policies.cases import COMPLIANT, WEAKENED
from tests.policies.support import all_violations, policy, replaced, resource_violations

POLICY = policy("service-connection-workload-identity")


@pytest.mark.parametrize("case", COMPLIANT)
def test_compliant_resource_passes_every_policy(case: str) -> None:
    resource_type, props = COMPLIANT[case]
    assert all_violations(resource_type, props, f"{case}-ok") == {}


@pytest.mark.parametrize(
    ("policy_name", "case", "path", "value", "rule"),
    WEAKENED,
    ids=[f"{policy}:{path}={value!r}" for policy, _, path, value, _ in WEAKENED],
)
def test_one_weakened_setting_breaks_exactly_its_policy(
    policy_name: str, case: str, path: str, value: object, rule: str
) -> None:
    resource_type, props = COMPLIANT[case]
    found = all_violations(resource_type, replaced(props, path, value), "weakened")
    assert list(found) == [policy_name]
    (message,) = found[policy_name]
    assert "'weakened'" in message, "the message names the resource"
    assert rule in message, "the message names the rule"


def test_every_resource_policy_has_a_weakened_case() -> None:
    resource_policies = {p.name for p in POLICIES if isinstance(p, ResourceValidationPolicy)}
    assert resource_policies == {policy for policy, *_ in WEAKENED}


def test_undeclared_settings_are_not_proven() -> None:
    # Azure's default is off for purge protection: silence must not pass.
    resource_type, props = COMPLIANT["key-vault"]
    found = all_violations(resource_type, {"tags": props["tags"]}, "bare")
    assert [len(found["key-vault-rbac-purge-protection"])] == [3]


def test_service_connection_rule_runs_in_a_preview_with_unknown_inputs() -> None:
    # In a first preview the identity's client id is unknown; a key that is unknown is still a key.
    resource_type, props = COMPLIANT["service-connection"]
    unknown = {**props, "credentials": {"serviceprincipalid": UNKNOWN_STRING_VALUE}}
    assert resource_violations(POLICY, resource_type, unknown_checking_proxy(unknown), "sc") == []
    secret = {
        **props,
        "credentials": {"serviceprincipalid": "id", "serviceprincipalkey": UNKNOWN_STRING_VALUE},
    }
    [message] = resource_violations(POLICY, resource_type, unknown_checking_proxy(secret), "sc")
    assert "'sc'" in message and "credentials.serviceprincipalkey is set" in message
