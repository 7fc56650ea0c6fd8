"""The only caller of pulumi.Config(): typed, validated, frozen settings.

Keys, types and defaults are declared once in Pulumi.yaml; this module adds the rules a type cannot
express. Bad config stops the program with one line naming the stack file, the key, the value and
the rule: a pulumi.RunError, which the engine prints without a traceback.
"""

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import pulumi
import yaml

from infra import address_plan, naming
from infra.stacks import BOOTSTRAP, CLUSTERS, ENVIRONMENTS, IDENTITY_STACKS, SHARED, environment_of

PROJECT: Final = "mlops-platform"
AZURE: Final = "azure-native"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# An Azure DevOps group as its settings page names it, "[<project>]\<group>": approvals accept groups, and a
# group is one approver of whom any member approves (azure-devops-docs, pipelines/process/approvals.md).
DEVOPS_GROUP: Final = re.compile(r"^\[(?P<project>[^\]]+)\]\\(?P<group>[^\\]+)$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DEVOPS_ORG_URL = re.compile(r"^https://dev\.azure\.com/[A-Za-z0-9][-A-Za-z0-9]*$")
_AZURE_REPOS_URL = re.compile(
    r"^https://dev\.azure\.com/(?P<org>[^/\s]+)/(?P<project>[^/\s]+)/_git/(?P<repo>[^/\s]+)$"
)
_HTTPS_URL = re.compile(r"^https://[^\s/]+(/\S*)?$")
_K8S_VERSION = re.compile(r"^1\.(2[89]|3[0-9])$")
# N-series (NC, ND, NV, ...) are Azure's GPU sizes; ARM reads size names case-insensitively. The
# guardrails recognise GPU pools with the same pattern.
GPU_VM_SIZE: Final = re.compile(r"^Standard_N[A-Za-z0-9_]+$", re.IGNORECASE)
_VM_SIZE = re.compile(r"^Standard_[A-Za-z0-9_]+$")
# A gallery image definition, or one of its versions (the image a Managed DevOps Pool takes by resource id).
_GALLERY_IMAGE = re.compile(
    r"^/subscriptions/(?P<subscription>[0-9a-fA-F-]{36})/resourceGroups/[-\w.()]+/providers/"
    r"Microsoft\.Compute/galleries/[\w.]+/images/[-\w.]+(/versions/[\w.]+)?$",
    re.IGNORECASE,
)
# The most agents one pool may run at once: the guardrail's bound on what an environment's pools may cost.
AGENT_MAX_CONCURRENCY: Final = 20
_ACR_SKUS: Final = ("Basic", "Standard", "Premium")
# Only Premium registries take private endpoints
# (learn.microsoft.com/azure/container-registry/container-registry-skus).
PRIVATE_LINK_ACR_SKU: Final = "Premium"
# A budget has at most five notifications (consumption Budget API); one is the 100 % forecast.
_MAX_ACTUAL_THRESHOLDS: Final = 4
# Every taggable Azure resource carries these; the guardrails require them.
TAG_KEYS: Final = ("environment", "project", "owner", "cost-center")


class ConfigError(pulumi.RunError):
    """Invalid stack configuration; the message is the whole report."""


@dataclass(frozen=True)
class Project:
    """An onboarded ML project: its repository in Azure Repos and its owners."""

    slug: str
    repository_url: str
    owners: tuple[str, ...]

    @property
    def repository_name(self) -> str:
        match = _AZURE_REPOS_URL.match(self.repository_url)
        assert match, "validated in _parse_project"
        return match["repo"]


@dataclass(frozen=True)
class DevOps:
    organization_url: str
    project: str
    create_project: bool
    platform_repository: str


@dataclass(frozen=True)
class Tags:
    owner: str
    cost_center: str

    def for_environment(self, environment: str) -> dict[str, str]:
        return dict(zip(TAG_KEYS, (environment, PROJECT, self.owner, self.cost_center), strict=True))


@dataclass(frozen=True)
class SharedSettings:
    stack_file: str
    devops: DevOps
    projects: tuple[Project, ...]
    branch_min_reviewers: int


@dataclass(frozen=True)
class AksSettings:
    kubernetes_version: str
    system_vm_size: str
    system_min: int
    system_max: int
    gpu_vm_size: str
    gpu_max: int


@dataclass(frozen=True)
class MlComputeSettings:
    cpu_vm_size: str
    cpu_max: int
    gpu_vm_size: str
    gpu_max: int


@dataclass(frozen=True)
class GpuAgentSettings:
    # An Azure Compute Gallery image with the NVIDIA driver and CUDA: Managed DevOps Pools' Azure Pipelines
    # images have neither, and its marketplace images are a curated few (configure-images.md).
    image_id: str
    vm_size: str
    max_concurrency: int


@dataclass(frozen=True)
class AgentSettings:
    vm_size: str
    max_concurrency: int
    # The GPU pool where the stack names an image for it; None: no GPU pool.
    gpu: GpuAgentSettings | None
    # Object id of the DevOpsInfrastructure service principal in the environment's tenant (one per tenant).
    devops_infrastructure_principal_id: str


@dataclass(frozen=True)
class GitOps:
    repository_url: str
    branch: str


@dataclass(frozen=True)
class Network:
    isolated: bool
    address_space: str


@dataclass(frozen=True)
class Alerts:
    emails: tuple[str, ...]
    # Plain here, wrapped as a Pulumi secret where it becomes an input; "" when Teams is not notified.
    teams_webhook_url: str


@dataclass(frozen=True)
class Budget:
    monthly_amount: int
    # Percent of the monthly amount at which actual cost alerts, rising.
    thresholds: tuple[int, ...]


@dataclass(frozen=True)
class EnvironmentSettings:
    stack_file: str
    environment: str
    location: str
    subscription_id: str
    names: naming.Names
    tags: dict[str, str]
    protected: bool
    approvers: tuple[str, ...]
    devops: DevOps
    projects: tuple[Project, ...]
    shared_stack: str
    gitops: GitOps
    acr_sku: str
    log_retention_days: int
    key_vault_retention_days: int
    aks: AksSettings
    ml: MlComputeSettings
    agents: AgentSettings
    network: Network
    alerts: Alerts
    budget: Budget
    defender_plans: bool

    def stack_name(self, stack: str) -> str:
        return qualified_stack_name(self.shared_stack, stack)


def qualified_stack_name(shared_stack: str, stack: str) -> str:
    """The fully qualified name of another stack of this project (same organisation as `sharedStack`)."""
    return f"{shared_stack.rpartition('/')[0]}/{stack}"


@dataclass(frozen=True)
class ClusterSettings:
    """An in-cluster stack reads everything from its environment stack; its own file names nothing else."""

    stack_file: str
    environment: str
    shared_stack: str

    def stack_name(self, stack: str) -> str:
        return qualified_stack_name(self.shared_stack, stack)


@dataclass(frozen=True)
class EnvironmentTarget:
    """Where an environment stack deploys, as its own stack file says (the bootstrap stack reads them)."""

    subscription_id: str
    location: str
    protected: bool


@dataclass(frozen=True)
class BootstrapSettings:
    stack_file: str
    subscription_id: str
    location: str
    prefix: str
    tags: dict[str, str]
    devops: DevOps
    # Who approves deployments of the shared stack (the `shared` environment).
    approvers: tuple[str, ...]
    branch_min_reviewers: int
    environments: dict[str, EnvironmentTarget]
    # The platform's own resource group holds identities only (no charge); its budget alerts these addresses
    # if anything billable ever lands there.
    budget: Budget
    alert_emails: tuple[str, ...]

    @property
    def protected(self) -> dict[str, bool]:
        """Environment -> whether its deployments need an approval, as its stack file says."""
        return {name: target.protected for name, target in self.environments.items()}

    @property
    def deploy_approvals(self) -> dict[str, bool]:
        return deploy_approvals(self.environments)

    @property
    def names(self) -> naming.PlatformNames:
        return naming.PlatformNames(self.prefix, self.subscription_id)


T = TypeVar("T")


class _Reader:
    """Reads one namespace of the stack's config and turns every failure into a one-line ConfigError."""

    def __init__(self, namespace: str, stack_file: str) -> None:
        self._config = pulumi.Config(namespace)
        self._namespace = namespace
        self.stack_file = stack_file

    def fail(self, key: str, value: object, rule: str) -> ConfigError:
        return ConfigError(f"{self.stack_file}: {self._namespace}:{key} = {value!r}: {rule}")

    def _raw(self, key: str) -> str:
        raw = self._config.get(key)
        if raw is None:
            raise ConfigError(
                f"{self.stack_file}: {self._namespace}:{key} is missing: set it with "
                f"`pulumi config set {self._namespace}:{key} <value>`"
            )
        return raw

    def string(self, key: str, pattern: re.Pattern[str] | None = None, rule: str = "") -> str:
        value = self._raw(key)
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(key, value, rule)
        return value

    def choice(self, key: str, choices: Sequence[str]) -> str:
        value = self._raw(key)
        if value not in choices:
            raise self.fail(key, value, f"must be one of {', '.join(choices)}")
        return value

    def integer(self, key: str, low: int, high: int) -> int:
        raw = self._raw(key)
        try:
            value = int(raw)
        except ValueError:
            raise self.fail(key, raw, "must be an integer") from None
        if not low <= value <= high:
            raise self.fail(key, value, f"must be from {low} to {high}")
        return value

    def secret_string(self, key: str, pattern: re.Pattern[str], rule: str) -> str:
        """A value that must be a Pulumi secret (encrypted in the stack file, hidden in logs and state)."""
        value = self._raw(key)
        if not value:
            return value
        if not pulumi.runtime.is_config_secret(f"{self._namespace}:{key}"):
            raise ConfigError(
                f"{self.stack_file}: {self._namespace}:{key} is plain text: it must be a secret, set it with "
                f"`pulumi config set --secret {self._namespace}:{key} <value>`"
            )
        if not pattern.fullmatch(value):
            # The value itself never appears in the message.
            raise ConfigError(f"{self.stack_file}: {self._namespace}:{key} (secret): {rule}")
        return value

    def boolean(self, key: str) -> bool:
        raw = self._raw(key)
        if raw not in ("true", "false"):
            raise self.fail(key, raw, "must be true or false")
        return raw == "true"

    def structured(self, key: str, kind: type[T]) -> T:
        raw = self._raw(key)
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise self.fail(key, raw, f"must be a {kind.__name__}") from None
        if not isinstance(value, kind):
            raise self.fail(key, value, f"must be a {kind.__name__}")
        return value

    def strings(self, key: str, item: Callable[[str], bool], rule: str) -> tuple[str, ...]:
        values = self.structured(key, list)
        for value in values:
            if not isinstance(value, str) or not item(value):
                raise self.fail(key, values, rule)
        if len(set(values)) != len(values):
            raise self.fail(key, values, "must not repeat an entry")
        return tuple(values)


def _parse_project(reader: _Reader, entry: Any, index: int) -> Project:
    key = f"projects[{index}]"
    if not isinstance(entry, dict) or set(entry) != {"slug", "repository", "owners"}:
        raise reader.fail(key, entry, "must be a mapping with exactly slug, repository and owners")
    slug, repository, owners = entry["slug"], entry["repository"], entry["owners"]
    try:
        naming.check_slug(slug if isinstance(slug, str) else "")
    except naming.NameRuleError as error:
        raise reader.fail(f"{key}.slug", slug, str(error)) from None
    if not isinstance(repository, str) or not _AZURE_REPOS_URL.fullmatch(repository):
        raise reader.fail(
            f"{key}.repository", repository, "must be https://dev.azure.com/<org>/<project>/_git/<repo>"
        )
    if (
        not isinstance(owners, list)
        or not owners
        or not all(isinstance(owner, str) and _EMAIL.fullmatch(owner) for owner in owners)
    ):
        raise reader.fail(f"{key}.owners", owners, "must be a non-empty list of e-mail addresses")
    return Project(slug, repository, tuple(owners))


def _network(reader: _Reader, acr_sku: str) -> Network:
    isolated = reader.boolean("networkIsolation")
    if isolated and acr_sku != PRIVATE_LINK_ACR_SKU:
        raise reader.fail(
            "acrSku",
            acr_sku,
            f"networkIsolation needs {PRIVATE_LINK_ACR_SKU}, the only SKU with private endpoints",
        )
    raw = reader.string("networkAddressSpace")
    try:
        address_plan.check(raw)
    except address_plan.AddressPlanError as error:
        raise reader.fail("networkAddressSpace", raw, str(error)) from None
    return Network(isolated=isolated, address_space=raw)


def _agents(reader: _Reader, subscription_id: str, network: Network, gpu_rule: str) -> AgentSettings:
    vm_size = reader.string("agentVmSize", _VM_SIZE, "must be an Azure VM size")
    if GPU_VM_SIZE.match(vm_size):
        raise reader.fail(
            "agentVmSize",
            vm_size,
            "the environment's pool runs deploy and drift jobs, which need no GPU: choose a CPU size such as "
            "Standard_D2ads_v5 (agentGpuVmSize sizes the GPU pool)",
        )
    image = reader.string("agentGpuImage")
    gpu = None
    if image:
        found = _GALLERY_IMAGE.match(image)
        if not found:
            raise reader.fail(
                "agentGpuImage",
                image,
                "must be empty or an Azure Compute Gallery image id (/subscriptions/<id>/resourceGroups/"
                "<group>/providers/Microsoft.Compute/galleries/<gallery>/images/<image>[/versions/<version>])",
            )
        if found["subscription"].lower() != subscription_id.lower():
            raise reader.fail(
                "agentGpuImage",
                image,
                f"must be in the environment's subscription {subscription_id}: the stack grants the "
                "DevOpsInfrastructure service principal Reader on it, as its deploy identity may only there",
            )
        if network.isolated:
            raise reader.fail(
                "agentGpuImage",
                image,
                "a network-isolated environment takes no GPU pool: its agents subnet serves the "
                "environment's pool alone (a subnet delegated to Managed DevOps Pools serves one pool), and "
                "the sanity training that needs a GPU runs in the first environment",
            )
        gpu = GpuAgentSettings(
            image_id=image,
            vm_size=reader.string("agentGpuVmSize", GPU_VM_SIZE, gpu_rule),
            max_concurrency=reader.integer("agentGpuMaxConcurrency", 1, AGENT_MAX_CONCURRENCY),
        )
    return AgentSettings(
        vm_size=vm_size,
        max_concurrency=reader.integer("agentMaxConcurrency", 1, AGENT_MAX_CONCURRENCY),
        gpu=gpu,
        devops_infrastructure_principal_id=reader.string(
            "devopsInfrastructurePrincipalId",
            _GUID,
            "must be the object id of the DevOpsInfrastructure service principal in the environment's "
            "tenant: `az ad sp list --display-name DevOpsInfrastructure --query [0].id -o tsv` once the "
            "bootstrap has registered Microsoft.DevOpsInfrastructure",
        ),
    )


def _alerts(reader: _Reader) -> Alerts:
    emails = reader.strings("alertEmails", _EMAIL.fullmatch, "must be a list of e-mail addresses")
    webhook = reader.secret_string("teamsWebhookUrl", _HTTPS_URL, "must be an https:// URL")
    if not emails and not webhook:
        raise reader.fail(
            "alertEmails", [], "an environment needs an alert receiver: an e-mail or teamsWebhookUrl"
        )
    return Alerts(emails=emails, teams_webhook_url=webhook)


def _budget(reader: _Reader) -> Budget:
    amount = reader.integer("monthlyBudget", 1, 1_000_000)
    thresholds = reader.structured("budgetAlertThresholds", list)
    rule = f"must be 1 to {_MAX_ACTUAL_THRESHOLDS} rising percentages from 1 to 1000"
    if (
        not 1 <= len(thresholds) <= _MAX_ACTUAL_THRESHOLDS
        or not all(isinstance(value, int) and not isinstance(value, bool) for value in thresholds)
        or not all(1 <= value <= 1000 for value in thresholds)
        or sorted(set(thresholds)) != thresholds
    ):
        raise reader.fail("budgetAlertThresholds", thresholds, rule)
    return Budget(monthly_amount=amount, thresholds=tuple(thresholds))


def _projects(reader: _Reader) -> tuple[Project, ...]:
    projects = tuple(
        _parse_project(reader, entry, index)
        for index, entry in enumerate(reader.structured("projects", list))
    )
    slugs = [project.slug for project in projects]
    duplicates = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if duplicates:
        raise reader.fail("projects", duplicates, "each project slug must be unique")
    return projects


def _devops(reader: _Reader) -> DevOps:
    return DevOps(
        organization_url=reader.string(
            "devopsOrganizationUrl", _DEVOPS_ORG_URL, "must be https://dev.azure.com/<organisation>"
        ),
        project=reader.string("devopsProject", re.compile(r"[^/\\:*?\"<>|]{1,64}"), "must be a project name"),
        create_project=reader.boolean("devopsProjectCreate"),
        platform_repository=reader.string(
            "platformRepository", re.compile(r"[A-Za-z0-9][-.\w]{0,63}"), "must be a repository name"
        ),
    )


def load_shared(stack: str) -> SharedSettings:
    reader = _Reader(PROJECT, f"Pulumi.{stack}.yaml")
    return SharedSettings(
        stack_file=reader.stack_file,
        devops=_devops(reader),
        projects=_projects(reader),
        branch_min_reviewers=reader.integer("branchPolicyMinReviewers", 1, 10),
    )


# The repository root: where the stack files are, for the bootstrap stack that reads the environments' files.
REPO_ROOT: Final = Path(__file__).resolve().parents[1]


def environment_targets(root: Path = REPO_ROOT) -> dict[str, EnvironmentTarget]:
    """Each environment's subscription and region, read from its stack file: one place for each."""
    targets = {}
    for environment in ENVIRONMENTS:
        stack_file = f"Pulumi.{environment}.yaml"
        path = root / stack_file
        values = (yaml.safe_load(path.read_text()) or {}).get("config") or {} if path.exists() else {}
        subscription = str(values.get(f"{AZURE}:subscriptionId", ""))
        location = str(values.get(f"{AZURE}:location", ""))
        if not _GUID.fullmatch(subscription) or not location:
            raise ConfigError(
                f"{stack_file}: {AZURE}:subscriptionId and {AZURE}:location must be set: the bootstrap stack "
                "creates each environment's deploy identity in that subscription"
            )
        targets[environment] = EnvironmentTarget(
            subscription, location, values.get(f"{PROJECT}:protected") is True
        )
    return targets


def deploy_approvals(environments: dict[str, EnvironmentTarget]) -> dict[str, bool]:
    """Platform stack -> whether `pulumi up` of it waits for an approval (its `platform-<stack>` environment):
    the shared stack always, as it changes every environment's Azure DevOps side; an environment stack as its
    own `protected` setting says. An in-cluster stack deploys through its environment's (infra/stacks.py
    identity_stack), so it has none of its own."""
    return {
        stack: environments[stack].protected if stack in environments else True for stack in IDENTITY_STACKS
    }


def _approvers(reader: _Reader, devops: DevOps) -> tuple[str, ...]:
    return reader.strings(
        "approvers",
        lambda entry: (
            bool(_EMAIL.fullmatch(entry))
            or bool((group := DEVOPS_GROUP.fullmatch(entry)) and group["project"] == devops.project)
        ),
        f"must be e-mail addresses of users or Azure DevOps groups named [{devops.project}]\\<group>",
    )


def _tags(reader: _Reader, environment: str) -> dict[str, str]:
    return Tags(
        owner=reader.string("owner", _EMAIL, "must be an e-mail address"),
        cost_center=reader.string("costCenter", re.compile(r"[-\w]{1,64}"), "must be a cost-center code"),
    ).for_environment(environment)


def load_bootstrap(stack: str, root: Path = REPO_ROOT) -> BootstrapSettings:
    reader = _Reader(PROJECT, f"Pulumi.{stack}.yaml")
    azure = _Reader(AZURE, reader.stack_file)
    prefix = reader.string("prefix")
    try:
        naming.check_prefix(prefix)
    except naming.NameRuleError as error:
        raise reader.fail("prefix", prefix, str(error)) from None
    devops = _devops(reader)
    approvers = _approvers(reader, devops)
    if not approvers:
        raise reader.fail("approvers", [], "the shared stack's deployments need at least one approver")
    return BootstrapSettings(
        stack_file=reader.stack_file,
        subscription_id=azure.string("subscriptionId", _GUID, "must be a subscription GUID"),
        location=azure.string("location", re.compile(r"[a-z][a-z0-9]+"), "must be an Azure region name"),
        prefix=prefix,
        tags=_tags(reader, stack),
        devops=devops,
        approvers=approvers,
        branch_min_reviewers=reader.integer("branchPolicyMinReviewers", 1, 10),
        environments=environment_targets(root),
        budget=_budget(reader),
        alert_emails=_bootstrap_emails(reader),
    )


def _bootstrap_emails(reader: _Reader) -> tuple[str, ...]:
    emails = reader.strings("alertEmails", _EMAIL.fullmatch, "must be a list of e-mail addresses")
    if not emails:
        raise reader.fail("alertEmails", [], "the platform's budget needs an e-mail address to alert")
    return emails


def load_environment(stack: str) -> EnvironmentSettings:
    reader = _Reader(PROJECT, f"Pulumi.{stack}.yaml")
    azure = _Reader(AZURE, reader.stack_file)
    subscription_id = azure.string("subscriptionId", _GUID, "must be a subscription GUID")
    location = azure.string("location", re.compile(r"[a-z][a-z0-9]+"), "must be an Azure region name")

    prefix = reader.string("prefix")
    names = naming.Names(prefix, stack, subscription_id, reader.integer("keyVaultGeneration", 1, 99))
    try:
        naming.check_prefix(prefix)
    except naming.NameRuleError as error:
        raise reader.fail("prefix", prefix, str(error)) from None

    protected = reader.boolean("protected")
    devops = _devops(reader)
    approvers = _approvers(reader, devops)
    if protected and not approvers:
        raise reader.fail("approvers", [], "a protected environment needs at least one approver")
    if approvers and not protected:
        raise reader.fail("approvers", list(approvers), "only a protected environment has approvers")

    system_min = reader.integer("aksSystemNodeMin", 1, 10)
    system_max = reader.integer("aksSystemNodeMax", 1, 50)
    if system_max < system_min:
        raise reader.fail("aksSystemNodeMax", system_max, f"must be at least aksSystemNodeMin ({system_min})")
    gpu_rule = "must be an N-series GPU size such as Standard_NC4as_T4_v3"
    acr_sku = reader.choice("acrSku", _ACR_SKUS)
    network = _network(reader, acr_sku)
    return EnvironmentSettings(
        stack_file=reader.stack_file,
        environment=stack,
        location=location,
        subscription_id=subscription_id,
        names=names,
        tags=_tags(reader, stack),
        protected=protected,
        approvers=approvers,
        devops=devops,
        projects=_projects(reader),
        shared_stack=_shared_stack(reader),
        gitops=GitOps(
            repository_url=f"{devops.organization_url}/{devops.project}/_git/{devops.platform_repository}",
            branch=reader.string("gitopsBranch", re.compile(r"[-\w./]+"), "must be a branch name"),
        ),
        acr_sku=acr_sku,
        log_retention_days=reader.integer("logRetentionDays", 30, 730),
        key_vault_retention_days=reader.integer("keyVaultRetentionDays", 7, 90),
        aks=AksSettings(
            kubernetes_version=reader.string("aksKubernetesVersion", _K8S_VERSION, "must be 1.28 to 1.39"),
            system_vm_size=reader.string("aksSystemVmSize", _VM_SIZE, "must be an Azure VM size"),
            system_min=system_min,
            system_max=system_max,
            gpu_vm_size=reader.string("aksGpuVmSize", GPU_VM_SIZE, gpu_rule),
            gpu_max=reader.integer("aksGpuNodeMax", 1, 100),
        ),
        ml=MlComputeSettings(
            cpu_vm_size=reader.string("amlCpuVmSize", _VM_SIZE, "must be an Azure VM size"),
            cpu_max=reader.integer("amlCpuMaxNodes", 1, 100),
            gpu_vm_size=reader.string("amlGpuVmSize", GPU_VM_SIZE, gpu_rule),
            gpu_max=reader.integer("amlGpuMaxNodes", 1, 100),
        ),
        agents=_agents(reader, subscription_id, network, gpu_rule),
        network=network,
        alerts=_alerts(reader),
        budget=_budget(reader),
        defender_plans=reader.boolean("defenderPlans"),
    )


def _shared_stack(reader: _Reader) -> str:
    return reader.string(
        "sharedStack", re.compile(r"[-\w.]+/[-\w.]+/[-\w.]+"), "must be <organization>/<project>/<stack>"
    )


def load_cluster(stack: str) -> ClusterSettings:
    environment = environment_of(stack)
    if environment is None:
        raise ConfigError(f"stack {stack!r} is not one of {', '.join(CLUSTERS)}")
    reader = _Reader(PROJECT, f"Pulumi.{stack}.yaml")
    return ClusterSettings(
        stack_file=reader.stack_file, environment=environment, shared_stack=_shared_stack(reader)
    )


def network_isolated(stack: str) -> bool:
    """An environment's `networkIsolation`, read alone: the platform's pipelines choose the agent of its
    in-cluster stack by it (infra/platform_pipelines.py), without the decrypted secrets the whole
    environment's settings need."""
    return _Reader(PROJECT, f"Pulumi.{stack}.yaml").boolean("networkIsolation")


def is_environment(stack: str) -> bool:
    if stack in (SHARED, BOOTSTRAP, *CLUSTERS):
        return False
    if stack in ENVIRONMENTS:
        return True
    known = ", ".join((BOOTSTRAP, SHARED, *ENVIRONMENTS, *CLUSTERS))
    raise ConfigError(f"stack {stack!r} is not one of {known}")
