"""Bad config stops the program with one line naming the stack file, the key, the value and the rule."""

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from infra import config
from infra.stacks import BOOTSTRAP
from infra.tools import stack_config
from infra.tools.mock_run import REPO_ROOT, copy_program

Edit = Callable[[dict[str, Any]], None]


def checkout(tmp_path: Path, stack: str, edit: Edit, project_edit: Edit | None = None) -> Path:
    """A copy of the committed project and stack files with one stack's config edited."""
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    data = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
    edit(data["config"])
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(data))
    if project_edit is not None:
        project = yaml.safe_load((tmp_path / "Pulumi.yaml").read_text())
        project_edit(project["config"])
        (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    return tmp_path


def load(
    root: Path, stack: str, secret_keys: list[str] | None = None
) -> config.EnvironmentSettings | config.SharedSettings | config.BootstrapSettings:
    # Secret keys are reset on every load: they outlive a test in the runtime's context otherwise.
    pulumi.runtime.set_all_config(stack_config.load(stack, root), secret_keys or [])
    if stack == BOOTSTRAP:
        return config.load_bootstrap(stack, root)
    return config.load_environment(stack) if config.is_environment(stack) else config.load_shared(stack)


def setter(key: str, value: Any) -> Edit:
    return lambda values: values.__setitem__(key, value)


def deleter(key: str) -> Edit:
    return lambda values: values.pop(key)


P = "mlops-platform"
BAD_CONFIG = [
    # (what is wrong, stack, edit of the stack file, edit of Pulumi.yaml, expected message parts)
    ("missing key", "dev", deleter(f"{P}:owner"), None, ["mlops-platform:owner is missing"]),
    (
        "missing provider key",
        "dev",
        deleter("azure-native:subscriptionId"),
        None,
        ["subscriptionId is missing"],
    ),
    ("wrong type", "dev", setter(f"{P}:aksGpuNodeMax", "many"), None, ["aksGpuNodeMax = 'many'", "integer"]),
    ("count out of range", "prod", setter(f"{P}:aksGpuNodeMax", 500), None, ["= 500", "from 1 to 100"]),
    ("bool expected", "dev", setter(f"{P}:protected", "yes"), None, ["protected = 'yes'", "true or false"]),
    (
        "protected without approvers",
        "qa",
        deleter(f"{P}:approvers"),
        None,
        ["approvers = []", "protected environment needs at least one approver"],
    ),
    (
        "approvers on an unprotected environment",
        "dev",
        setter(f"{P}:approvers", ["lead@contoso.com"]),
        None,
        ["only a protected environment has approvers"],
    ),
    (
        "duplicate project slug",
        "dev",
        setter(
            f"{P}:projects",
            [
                {
                    "slug": "fraud",
                    "repository": "https://dev.azure.com/c/p/_git/fraud",
                    "owners": ["a@c.com"],
                },
                {
                    "slug": "fraud",
                    "repository": "https://dev.azure.com/c/p/_git/fraud2",
                    "owners": ["a@c.com"],
                },
            ],
        ),
        None,
        ["projects = ['fraud']", "slug must be unique"],
    ),
    (
        "bad repository URL",
        "shared",
        setter(
            f"{P}:projects",
            [{"slug": "fraud", "repository": "git@github.com:c/fraud.git", "owners": ["a@c.com"]}],
        ),
        None,
        ["projects[0].repository", "https://dev.azure.com/<org>/<project>/_git/<repo>"],
    ),
    (
        "project without owners",
        "dev",
        setter(
            f"{P}:projects",
            [{"slug": "fraud", "repository": "https://dev.azure.com/c/p/_git/f", "owners": []}],
        ),
        None,
        ["projects[0].owners", "non-empty list of e-mail addresses"],
    ),
    (
        "bad project slug",
        "dev",
        setter(
            f"{P}:projects",
            [{"slug": "Fraud_Team", "repository": "https://dev.azure.com/c/p/_git/f", "owners": ["a@c.com"]}],
        ),
        None,
        ["projects[0].slug = 'Fraud_Team'", "lowercase letters"],
    ),
    (
        "name too long for Azure",
        "prod",
        setter(f"{P}:prefix", "platformteam"),
        None,
        ["prefix = 'platformteam'", "Key Vault name", "Azure allows 3-24"],
    ),
    ("bad prefix charset", "dev", setter(f"{P}:prefix", "ML-Ops"), None, ["prefix = 'ML-Ops'", "lowercase"]),
    (
        "not a GPU size",
        "dev",
        setter(f"{P}:aksGpuVmSize", "Standard_D4s_v5"),
        None,
        ["aksGpuVmSize", "N-series"],
    ),
    (
        "unknown ACR SKU",
        "dev",
        setter(f"{P}:acrSku", "Gold"),
        None,
        ["acrSku = 'Gold'", "Basic, Standard, Premium"],
    ),
    (
        "system pool max below min",
        "dev",
        lambda values: values.update({f"{P}:aksSystemNodeMin": 3, f"{P}:aksSystemNodeMax": 2}),
        None,
        ["aksSystemNodeMax = 2", "at least aksSystemNodeMin (3)"],
    ),
    (
        "a GPU size for the deploy agents",
        "dev",
        setter(f"{P}:agentVmSize", "Standard_NC4as_T4_v3"),
        None,
        ["agentVmSize = 'Standard_NC4as_T4_v3'", "need no GPU"],
    ),
    (
        "more agents than the guardrail allows",
        "dev",
        setter(f"{P}:agentMaxConcurrency", 50),
        None,
        ["agentMaxConcurrency = 50", "from 1 to 20"],
    ),
    (
        "a GPU image that is no gallery image",
        "dev",
        setter(f"{P}:agentGpuImage", "ubuntu-24.04/latest"),
        None,
        ["agentGpuImage = 'ubuntu-24.04/latest'", "Azure Compute Gallery image id"],
    ),
    (
        "a GPU image in another subscription",
        "dev",
        setter(
            f"{P}:agentGpuImage",
            "/subscriptions/00000000-0000-0000-0000-0000000000a2/resourceGroups/rg/providers/"
            "Microsoft.Compute/galleries/g/images/cuda",
        ),
        None,
        ["agentGpuImage", "environment's subscription 00000000-0000-0000-0000-0000000000d1"],
    ),
    (
        "a GPU pool in an isolated environment",
        "qa",
        setter(
            f"{P}:agentGpuImage",
            "/subscriptions/00000000-0000-0000-0000-0000000000a2/resourceGroups/rg/providers/"
            "Microsoft.Compute/galleries/g/images/cuda/versions/1.0.0",
        ),
        None,
        ["agentGpuImage", "network-isolated environment takes no GPU pool"],
    ),
    (
        "no DevOpsInfrastructure principal",
        "prod",
        deleter(f"{P}:devopsInfrastructurePrincipalId"),
        None,
        ["devopsInfrastructurePrincipalId = ''", "az ad sp list --display-name DevOpsInfrastructure"],
    ),
    ("undeclared key", "dev", setter(f"{P}:gpuCount", 2), None, ["mlops-platform:gpuCount is not declared"]),
    (
        "bad organisation URL",
        "shared",
        setter(f"{P}:devopsOrganizationUrl", "contoso"),
        None,
        ["dev.azure.com"],
    ),
    (
        "bootstrap subscription not a GUID",
        "bootstrap",
        setter("azure-native:subscriptionId", "contoso-prod"),
        None,
        ["subscriptionId = 'contoso-prod'", "subscription GUID"],
    ),
    (
        "bootstrap without an administrator to approve the shared stack",
        "bootstrap",
        deleter(f"{P}:approvers"),
        None,
        ["approvers = []", "at least one approver"],
    ),
    (
        "bootstrap approver named twice",
        "bootstrap",
        setter(f"{P}:approvers", ["[ml-platform]\\Admins", "[ml-platform]\\Admins"]),
        None,
        ["approvers", "must not repeat an entry"],
    ),
    (
        "approver group of another project",
        "qa",
        setter(f"{P}:approvers", ["[payments]\\Leads"]),
        None,
        ["approvers", "[ml-platform]\\<group>"],
    ),
    (
        "projects not a list",
        "dev",
        setter(f"{P}:projects", "credit-scoring"),
        None,
        ["projects", "must be a list"],
    ),
    (
        "isolation without a registry that takes private endpoints",
        "dev",
        setter(f"{P}:networkIsolation", True),
        None,
        ["acrSku = 'Standard'", "networkIsolation needs Premium"],
    ),
    (
        "address space too small for the subnets",
        "prod",
        setter(f"{P}:networkAddressSpace", "10.60.0.0/24"),
        None,
        ["networkAddressSpace = '10.60.0.0/24'", "/22 or larger"],
    ),
    (
        "address space over AKS's service range",
        "qa",
        setter(f"{P}:networkAddressSpace", "10.0.0.0/16"),
        None,
        ["overlaps AKS's range 10.0.0.0/16"],
    ),
    (
        "public address space",
        "dev",
        setter(f"{P}:networkAddressSpace", "20.1.0.0/16"),
        None,
        ["private IPv4"],
    ),
    (
        "nobody to alert",
        "dev",
        setter(f"{P}:alertEmails", []),
        None,
        ["alertEmails = []", "needs an alert receiver"],
    ),
    (
        "alert address not an address",
        "qa",
        setter(f"{P}:alertEmails", ["oncall"]),
        None,
        ["e-mail addresses"],
    ),
    (
        "webhook in plain text",
        "prod",
        setter(f"{P}:teamsWebhookUrl", "https://prod-01.westeurope.logic.azure.com/workflows/x?sig=abc"),
        None,
        ["teamsWebhookUrl is plain text", "pulumi config set --secret"],
    ),
    ("budget of nothing", "dev", setter(f"{P}:monthlyBudget", 0), None, ["monthlyBudget = 0", "from 1 to"]),
    (
        "thresholds not rising",
        "dev",
        setter(f"{P}:budgetAlertThresholds", [80, 50]),
        None,
        ["budgetAlertThresholds = [80, 50]", "rising percentages"],
    ),
    (
        "more thresholds than a budget has notifications",
        "qa",
        setter(f"{P}:budgetAlertThresholds", [10, 20, 30, 40, 50]),
        None,
        ["1 to 4 rising"],
    ),
    (
        "key vault generation out of range",
        "prod",
        setter(f"{P}:keyVaultGeneration", 0),
        None,
        ["keyVaultGeneration = 0", "from 1 to 99"],
    ),
]


@pytest.mark.parametrize(
    ("stack", "edit", "project_edit", "expected"),
    [case[1:] for case in BAD_CONFIG],
    ids=[case[0] for case in BAD_CONFIG],
)
def test_bad_config_is_one_line_naming_file_key_value_and_rule(
    tmp_path: Path, stack: str, edit: Edit, project_edit: Edit | None, expected: list[str]
) -> None:
    root = checkout(tmp_path, stack, edit, project_edit)
    with pytest.raises(config.ConfigError) as raised:
        load(root, stack)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"Pulumi.{stack}.yaml: ")
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_config_errors_are_run_errors_so_pulumi_prints_no_traceback() -> None:
    assert issubclass(config.ConfigError, pulumi.RunError)


@pytest.mark.parametrize("stack", ["shared", "dev", "qa", "prod"])
def test_committed_stack_files_load(stack: str) -> None:
    settings = load(REPO_ROOT, stack)
    assert settings.projects and settings.projects[0].slug == "credit-scoring"


def test_settings_are_frozen() -> None:
    settings = load(REPO_ROOT, "dev")
    with pytest.raises(AttributeError):
        settings.protected = True  # type: ignore[misc]


def test_protection_follows_the_stack_files() -> None:
    dev, qa, prod = (load(REPO_ROOT, stack) for stack in ("dev", "qa", "prod"))
    assert not dev.protected and not dev.approvers
    assert qa.protected and qa.approvers
    assert prod.protected and len(prod.approvers) >= 2


def test_every_declared_key_is_read_and_every_read_key_is_declared() -> None:
    declared = set(yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())["config"])
    source = (REPO_ROOT / "infra" / "config.py").read_text()
    read = {key for key in declared if f'"{key}"' in source}
    assert read == declared, f"declared but never read: {sorted(declared - read)}"


def test_stack_files_differ_only_in_decisions() -> None:
    decisions = {
        "azure-native:subscriptionId",
        *(
            f"{P}:{key}"
            for key in (
                "protected",
                "approvers",
                "acrSku",
                "aksSystemNodeMin",
                "aksSystemNodeMax",
                "aksGpuNodeMax",
                "amlCpuMaxNodes",
                "amlGpuMaxNodes",
                "agentMaxConcurrency",
                "agentGpuImage",
                "networkIsolation",
                "defenderPlans",
                "monthlyBudget",
            )
        ),
    }
    files = {
        stack: yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        for stack in ("dev", "qa", "prod")
    }
    keys = set().union(*files.values())
    differing = {key for key in keys if len({repr(f.get(key)) for f in files.values()}) > 1}
    assert differing <= decisions, f"stack files differ in non-decisions: {sorted(differing - decisions)}"


WEBHOOK_KEY = f"{P}:teamsWebhookUrl"


def test_a_secret_webhook_is_taken(tmp_path: Path) -> None:
    url = "https://prod-01.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=abc"
    root = checkout(tmp_path, "prod", setter(WEBHOOK_KEY, url))
    settings = load(root, "prod", secret_keys=[WEBHOOK_KEY])
    assert isinstance(settings, config.EnvironmentSettings)
    assert settings.alerts.teams_webhook_url == url


def test_a_bad_secret_is_reported_without_its_value(tmp_path: Path) -> None:
    root = checkout(tmp_path, "prod", setter(WEBHOOK_KEY, "http://hooks.contoso.com/sig=hunter2"))
    with pytest.raises(config.ConfigError) as raised:
        load(root, "prod", secret_keys=[WEBHOOK_KEY])
    assert str(raised.value) == f"Pulumi.prod.yaml: {WEBHOOK_KEY} (secret): must be an https:// URL"


def test_isolation_follows_the_stack_files() -> None:
    dev, qa, prod = (load(REPO_ROOT, stack) for stack in ("dev", "qa", "prod"))
    assert isinstance(dev, config.EnvironmentSettings) and not dev.network.isolated
    assert isinstance(qa, config.EnvironmentSettings) and qa.network.isolated and qa.acr_sku == "Premium"
    assert isinstance(prod, config.EnvironmentSettings) and prod.network.isolated


def test_program_reports_bad_config_in_one_line_without_traceback(tmp_path: Path) -> None:
    copy_program(tmp_path)
    root = checkout(tmp_path, "dev", setter(f"{P}:aksGpuNodeMax", 0))
    completed = subprocess.run(
        [sys.executable, "-m", "infra.tools.mock_run", "--stack", "dev"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert completed.stderr.strip() == (
        "error: Pulumi.dev.yaml: mlops-platform:aksGpuNodeMax = 0: must be from 1 to 100"
    )


def test_bootstrap_refuses_an_environment_stack_file_without_its_subscription(tmp_path: Path) -> None:
    root = checkout(tmp_path, "bootstrap", lambda values: None)
    for environment in ("dev", "qa", "prod"):
        shutil.copy(REPO_ROOT / f"Pulumi.{environment}.yaml", tmp_path / f"Pulumi.{environment}.yaml")
    checkout(tmp_path, "qa", deleter("azure-native:subscriptionId"))
    with pytest.raises(config.ConfigError) as raised:
        load(root, "bootstrap")
    assert str(raised.value).startswith(
        "Pulumi.qa.yaml: azure-native:subscriptionId and azure-native:location"
    )


def test_bootstrap_reads_each_environments_subscription_from_its_stack_file() -> None:
    settings = load(REPO_ROOT, "bootstrap")
    for environment in ("dev", "qa", "prod"):
        stack_file = yaml.safe_load((REPO_ROOT / f"Pulumi.{environment}.yaml").read_text())["config"]
        assert settings.environments[environment].subscription_id == stack_file["azure-native:subscriptionId"]


def test_a_recreated_stack_takes_a_fresh_vault_name_from_its_stack_file(tmp_path: Path) -> None:
    committed = load(REPO_ROOT, "prod")
    root = checkout(tmp_path, "prod", setter(f"{P}:keyVaultGeneration", 2))
    recreated = load(root, "prod")
    assert isinstance(committed, config.EnvironmentSettings) and isinstance(
        recreated, config.EnvironmentSettings
    )
    assert recreated.names.key_vault != committed.names.key_vault
    assert recreated.names.storage_account == committed.names.storage_account
