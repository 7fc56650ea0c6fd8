import pytest

from infra import naming
from infra.stacks import ENVIRONMENTS

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000d1"


def longest_valid_prefix() -> str:
    prefix = "a"
    while True:
        try:
            naming.check_prefix(prefix + "a")
        except naming.NameRuleError:
            return prefix
        prefix += "a"


def test_every_name_of_every_environment_obeys_its_azure_rule() -> None:
    for environment in ENVIRONMENTS:
        names = naming.Names("mlops", environment, SUBSCRIPTION).all()
        assert names["resource_group"] == f"rg-mlops-{environment}"
        assert names["devops_environment"] == environment
        assert len(set(names.values())) == len(names), "two resources would share a name"


def test_longest_allowed_prefix_is_bounded_by_key_vault_and_fits_everywhere() -> None:
    prefix = longest_valid_prefix()
    # kv-<prefix>-prod-<4 hex> must fit Key Vault's 24 characters: 24 - len("kv--prod-xxxx") = 11.
    assert len(prefix) == 11
    for environment in ENVIRONMENTS:
        names = naming.Names(prefix, environment, SUBSCRIPTION)
        assert len(names.key_vault) <= 24
        assert len(names.storage_account) <= 24
        assert len(names.container_registry) <= 50
        assert len(names.ml_workspace) <= 33
    with pytest.raises(naming.NameRuleError, match=r"Key Vault name .* has 25 characters; Azure allows 3-24"):
        naming.check_prefix(prefix + "a")


@pytest.mark.parametrize("prefix", ["", "1abc", "ab-c", "Abc", "ab_c"])
def test_prefix_charset_is_enforced(prefix: str) -> None:
    with pytest.raises(naming.NameRuleError, match="lowercase letters and digits"):
        naming.check_prefix(prefix)


def test_globally_unique_names_differ_by_subscription_and_are_stable() -> None:
    one = naming.Names("mlops", "dev", SUBSCRIPTION)
    again = naming.Names("mlops", "dev", SUBSCRIPTION)
    other = naming.Names("mlops", "dev", "00000000-0000-0000-0000-0000000000ff")
    assert one.key_vault == again.key_vault
    assert one.key_vault != other.key_vault
    assert one.storage_account.isalnum() and one.storage_account.islower()
    assert one.container_registry.isalnum()
    # A Managed DevOps Pool's name is unique across Azure, and the GPU pool's differs from the environment's.
    assert one.agent_pool != other.agent_pool and one.gpu_agent_pool != other.gpu_agent_pool
    assert one.agent_pool != one.gpu_agent_pool


@pytest.mark.parametrize(
    ("rule", "name", "message"),
    [
        (naming.KEY_VAULT, "kv--double-hyphen", "no consecutive hyphens"),
        (naming.KEY_VAULT, "1kv-starts-with-digit", "starting with a letter"),
        (naming.KEY_VAULT, "kv", "has 2 characters"),
        (naming.STORAGE_ACCOUNT, "st-has-hyphen", "lowercase letters and digits"),
        (naming.CONTAINER_REGISTRY, "crUPPER", "lowercase letters and digits"),
        (naming.ML_COMPUTE, "a-name-far-too-long", "has 19 characters"),
        (naming.AKS_NODE_POOL, "gpupool12345x", "has 13 characters"),
        (naming.K8S_NAME, "Upper", "DNS-1123"),
        (naming.RESOURCE_GROUP, "rg-ends-with-dot.", "not ending in"),
        (naming.MANAGED_DEVOPS_POOL, "pool_with_underscore", "letters, digits, - and ."),
        (naming.MANAGED_DEVOPS_POOL, "p" * 45, "has 45 characters"),
        (naming.DEV_CENTER, "dc-" + "x" * 24, "has 27 characters"),
        (naming.DEV_CENTER_PROJECT, "-dcp", "letters, digits, -, _ and ."),
    ],
)
def test_each_rule_rejects_what_azure_rejects(rule: naming.NameRule, name: str, message: str) -> None:
    with pytest.raises(naming.NameRuleError, match=message):
        rule.check(name)


@pytest.mark.parametrize("slug", ["credit-scoring", "fraud2", "a" * naming.SLUG_MAX_LENGTH])
def test_valid_slugs(slug: str) -> None:
    naming.check_slug(slug)
    assert naming.project_namespace(slug) == slug


@pytest.mark.parametrize("slug", ["Credit", "credit--scoring", "-credit", "credit-", "a" * 25, "9lives"])
def test_invalid_slugs(slug: str) -> None:
    with pytest.raises(naming.NameRuleError):
        naming.check_slug(slug)


def test_a_new_key_vault_generation_gets_a_fresh_name_of_the_same_length() -> None:
    first = naming.Names("mlops", "prod", SUBSCRIPTION)
    generations = [
        naming.Names("mlops", "prod", SUBSCRIPTION, generation).key_vault for generation in range(1, 100)
    ]
    # Generation 1 is the name every existing stack already has.
    assert (
        generations[0]
        == first.key_vault
        == f"kv-mlops-prod-{naming.unique_suffix(SUBSCRIPTION, 'mlops', 'prod')}"
    )
    assert len(set(generations)) == len(generations), (
        "a recreated stack would meet a vault that purge protection keeps"
    )
    assert {len(name) for name in generations} == {len(first.key_vault)}
    # Only the vault moves: the other globally unique names keep theirs.
    second = naming.Names("mlops", "prod", SUBSCRIPTION, 2)
    assert (second.storage_account, second.container_registry) == (
        first.storage_account,
        first.container_registry,
    )


def test_private_endpoint_names_follow_the_network_rule() -> None:
    assert naming.private_endpoint("kv-mlops-prod-1a2b", "vault") == "pe-kv-mlops-prod-1a2b-vault"
    with pytest.raises(naming.NameRuleError, match="network resource name"):
        naming.private_endpoint("x" * 80, "blob")
