"""Azure and Azure DevOps names: pure functions and the rules Azure enforces on them.

Every name comes from (prefix, environment) and, for globally unique names, a short suffix derived
from the subscription so that two organisations using the same prefix do not collide.
"""

import hashlib
import itertools
import re
from dataclasses import dataclass
from typing import ClassVar, Final

from infra import gitops
from infra.stacks import ENVIRONMENTS

PREFIX_PATTERN: Final = re.compile(r"^[a-z][a-z0-9]*$")
SLUG_PATTERN: Final = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
SLUG_MAX_LENGTH: Final = 24


class NameRuleError(ValueError):
    """A generated name breaks an Azure naming rule."""


@dataclass(frozen=True)
class NameRule:
    kind: str
    min_length: int
    max_length: int
    pattern: re.Pattern[str]
    description: str

    def check(self, name: str) -> str:
        if not self.min_length <= len(name) <= self.max_length:
            raise NameRuleError(
                f"{self.kind} name {name!r} has {len(name)} characters; Azure allows "
                f"{self.min_length}-{self.max_length}"
            )
        if not self.pattern.fullmatch(name):
            raise NameRuleError(f"{self.kind} name {name!r} breaks the rule: {self.description}")
        return name


_ALNUM_HYPHEN = "letters, digits and hyphens, starting with a letter and ending with a letter or digit"

RESOURCE_GROUP = NameRule(
    "resource group", 1, 90, re.compile(r"[-\w._()]*[-\w_()]"), "letters, digits, -_.() not ending in ."
)
LOG_ANALYTICS = NameRule(
    "Log Analytics workspace", 4, 63, re.compile(r"[A-Za-z0-9][-A-Za-z0-9]*[A-Za-z0-9]"), _ALNUM_HYPHEN
)
APP_INSIGHTS = NameRule("Application Insights", 1, 255, re.compile(r"[-\w.()]*[-\w()]"), "no trailing dot")
KEY_VAULT = NameRule(
    "Key Vault",
    3,
    24,
    re.compile(r"[A-Za-z](?!.*--)[-A-Za-z0-9]*[A-Za-z0-9]"),
    f"{_ALNUM_HYPHEN}, no consecutive hyphens",
)
CONTAINER_REGISTRY = NameRule(
    "container registry", 5, 50, re.compile(r"[a-z0-9]+"), "lowercase letters and digits"
)
STORAGE_ACCOUNT = NameRule("storage account", 3, 24, re.compile(r"[a-z0-9]+"), "lowercase letters and digits")
ML_WORKSPACE = NameRule(
    "Azure ML workspace",
    3,
    33,
    re.compile(r"[A-Za-z0-9][-\w]*"),
    "letters, digits, - and _, starting alphanumeric",
)
ML_COMPUTE = NameRule(
    "Azure ML compute", 2, 16, re.compile(r"[A-Za-z][-A-Za-z0-9]*[A-Za-z0-9]"), _ALNUM_HYPHEN
)
AKS_CLUSTER = NameRule(
    "AKS cluster", 1, 63, re.compile(r"[A-Za-z0-9][-\w]*[A-Za-z0-9]"), "letters, digits, - and _"
)
AKS_NODE_POOL = NameRule(
    "AKS node pool",
    1,
    12,
    re.compile(r"[a-z][a-z0-9]*"),
    "lowercase letters and digits, starting with a letter",
)
MANAGED_IDENTITY = NameRule(
    "managed identity", 3, 128, re.compile(r"[A-Za-z0-9][-\w]*"), "letters, digits, - and _"
)
# A Managed DevOps Pool's name is also its Azure DevOps agent pool's name, and unique across Azure: "3 and
# 44 characters ... globally unique" (azure-devops-docs managed-devops-pools/quickstart-arm-template.md); the
# 2025-01-21 API's pattern is ^[a-zA-Z0-9][a-zA-Z0-9-.]*$ (Azure/bicep-types-az, devopsinfrastructure
# types.md).
MANAGED_DEVOPS_POOL = NameRule(
    "Managed DevOps Pool", 3, 44, re.compile(r"[A-Za-z0-9][-A-Za-z0-9.]*"), "letters, digits, - and ."
)
# Microsoft.DevCenter names (Azure/bicep-types-az, generated/devcenter types.md): devcenters 3-26
# ^[a-zA-Z0-9][a-zA-Z0-9-]{2,25}$, projects 3-63 ^[a-zA-Z0-9][a-zA-Z0-9-_.]{2,62}$.
DEV_CENTER = NameRule("Dev Center", 3, 26, re.compile(r"[A-Za-z0-9][-A-Za-z0-9]*"), "letters, digits and -")
DEV_CENTER_PROJECT = NameRule(
    "Dev Center project", 3, 63, re.compile(r"[A-Za-z0-9][-\w.]*"), "letters, digits, -, _ and ."
)
K8S_NAME = NameRule(
    "Kubernetes namespace", 1, 63, re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"), "a DNS-1123 label"
)
# Managed online endpoint names are unique per Azure region, across all customers ("Endpoint names must be
# unique within an Azure region"); the SDK checks 3-32 characters (azure-ai-ml constants/_endpoint.py).
ONLINE_ENDPOINT = NameRule(
    "online endpoint",
    3,
    32,
    re.compile(r"[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?"),
    "letters, digits and hyphens, starting with a letter",
)
_NETWORK_NAME = re.compile(r"[A-Za-z0-9][-\w.]*\w")
VIRTUAL_NETWORK = NameRule(
    "virtual network", 2, 64, _NETWORK_NAME, "letters, digits, -_. ending in a letter, digit or _"
)
NETWORK_RESOURCE = NameRule(
    "network resource", 1, 80, _NETWORK_NAME, "letters, digits, -_. ending in a letter, digit or _"
)
ACTION_GROUP_SHORT_NAME = NameRule(
    "action group short name", 1, 12, re.compile(r"[-\w]+"), "letters, digits, - and _"
)
BUDGET = NameRule("budget", 1, 63, re.compile(r"[-\w]+"), "letters, digits, - and _")
ACR_AGENT_POOL = NameRule(
    "ACR Tasks agent pool", 3, 20, re.compile(r"[A-Za-z0-9-]+"), "letters, digits and hyphens"
)

# Azure ML compute clusters are named within the workspace, so fixed names are unique.
CPU_COMPUTE_CLUSTER: Final = ML_COMPUTE.check("cpu-cluster")
GPU_COMPUTE_CLUSTER: Final = ML_COMPUTE.check("gpu-cluster")
AKS_SYSTEM_POOL: Final = AKS_NODE_POOL.check("system")
AKS_GPU_POOL: Final = AKS_NODE_POOL.check("gpu")
DVC_CONTAINER: Final = "dvc"
# Builds run inside the VNet on this pool of the registry (`az acr build --agent-pool`) when it takes no
# public traffic; named within the registry, so a fixed name is unique.
ACR_TASKS_POOL: Final = ACR_AGENT_POOL.check("vnet-builds")
# Each resource has one diagnostic setting to the environment's Log Analytics workspace, named alike.
DIAGNOSTIC_SETTING: Final = "to-log-analytics"
# The taint and label every GPU workload tolerates and selects; gitops/ and the template use the same.
GPU_TAINT: Final = "sku=gpu:NoSchedule"
GPU_NODE_LABEL: Final = ("accelerator", "nvidia")


def gpu_toleration() -> dict[str, str]:
    """GPU_TAINT as the toleration a pod spec carries."""
    key, rest = GPU_TAINT.split("=", 1)
    value, effect = rest.split(":", 1)
    return {"key": key, "operator": "Equal", "value": value, "effect": effect}


def unique_suffix(*seeds: str, length: int = 4) -> str:
    """A stable suffix for globally unique names (like ARM's uniqueString)."""
    return hashlib.sha256("/".join(seeds).encode()).hexdigest()[:length]


@dataclass(frozen=True)
class Names:
    """Every name of one environment stack."""

    prefix: str
    environment: str
    subscription_id: str
    # Purge protection reserves a deleted vault's name for its retention period; the next generation
    # gets a fresh name of the same length (README, "Key Vault lifecycle").
    key_vault_generation: int = 1

    @property
    def _suffix(self) -> str:
        return unique_suffix(self.subscription_id, self.prefix, self.environment)

    @property
    def _key_vault_suffix(self) -> str:
        """Generation 1 keeps the stack's suffix; each later one hashes in its number, skipping any suffix
        an earlier generation had (four hex characters collide among a hundred generations)."""
        taken = [self._suffix]
        for generation in range(2, self.key_vault_generation + 1):
            candidates = (
                unique_suffix(
                    self.subscription_id, self.prefix, self.environment, f"key-vault-{generation}-{n}"
                )
                for n in itertools.count()
            )
            taken.append(next(suffix for suffix in candidates if suffix not in taken))
        return taken[-1]

    @property
    def _base(self) -> str:
        return f"{self.prefix}-{self.environment}"

    @property
    def resource_group(self) -> str:
        return RESOURCE_GROUP.check(f"rg-{self._base}")

    @property
    def log_analytics(self) -> str:
        return LOG_ANALYTICS.check(f"log-{self._base}")

    @property
    def app_insights(self) -> str:
        return APP_INSIGHTS.check(f"appi-{self._base}")

    @property
    def key_vault(self) -> str:
        return KEY_VAULT.check(f"kv-{self._base}-{self._key_vault_suffix}")

    @property
    def container_registry(self) -> str:
        return CONTAINER_REGISTRY.check(f"cr{self.prefix}{self.environment}{self._suffix}")

    @property
    def storage_account(self) -> str:
        return STORAGE_ACCOUNT.check(f"st{self.prefix}{self.environment}{self._suffix}")

    @property
    def ml_workspace(self) -> str:
        return ML_WORKSPACE.check(f"mlw-{self._base}")

    @property
    def aks_cluster(self) -> str:
        return AKS_CLUSTER.check(f"aks-{self._base}")

    @property
    def aks_node_resource_group(self) -> str:
        return RESOURCE_GROUP.check(f"rg-{self._base}-aks-nodes")

    @property
    def pipeline_identity(self) -> str:
        return MANAGED_IDENTITY.check(f"id-{self._base}-pipelines")

    @property
    def dev_center(self) -> str:
        return DEV_CENTER.check(f"dc-{self._base}")

    @property
    def dev_center_project(self) -> str:
        return DEV_CENTER_PROJECT.check(f"dcp-{self._base}-agents")

    @property
    def aks_identity(self) -> str:
        """The AKS control plane's identity: it holds its rights on the subnet before the cluster exists."""
        return MANAGED_IDENTITY.check(f"id-{self._base}-aks")

    @property
    def ml_compute_identity(self) -> str:
        return MANAGED_IDENTITY.check(f"id-{self._base}-ml-compute")

    @property
    def virtual_network(self) -> str:
        return VIRTUAL_NETWORK.check(f"vnet-{self._base}")

    @property
    def nat_gateway(self) -> str:
        return NETWORK_RESOURCE.check(f"ng-{self._base}")

    @property
    def nat_public_ip(self) -> str:
        return NETWORK_RESOURCE.check(f"pip-{self._base}-nat")

    @property
    def network_security_group(self) -> str:
        return NETWORK_RESOURCE.check(f"nsg-{self._base}")

    @property
    def action_group(self) -> str:
        return NETWORK_RESOURCE.check(f"ag-{self._base}")

    @property
    def action_group_short_name(self) -> str:
        """What SMS and e-mail subjects show; 12 characters at most, so the prefix may be cut."""
        return ACTION_GROUP_SHORT_NAME.check(f"{self.prefix}{self.environment}"[:12])

    @property
    def budget(self) -> str:
        return BUDGET.check(f"budget-{self._base}")

    def workload_identity(self, slug: str) -> str:
        return MANAGED_IDENTITY.check(f"id-{self._base}-{slug}")

    def online_endpoint(self, slug: str) -> str:
        """Globally unique per region: the suffix tells environments and organisations apart."""
        return ONLINE_ENDPOINT.check(f"{slug}-{self._suffix}")

    @property
    def pipeline_kube_role(self) -> str:
        """Custom role names are unique in the tenant, so the name carries the prefix and environment."""
        return f"{self._base} pipelines in project namespaces"

    # Azure DevOps names live in one project shared by all environments, hence the environment in each.
    @property
    def variable_group(self) -> str:
        return f"vg-{self._base}"

    @property
    def service_connection(self) -> str:
        return f"sc-{self._base}"

    # Managed DevOps Pools: one Azure resource and one Azure DevOps agent pool of the same name, unique across
    # Azure (hence the suffix).
    @property
    def agent_pool(self) -> str:
        """The environment's pool: the jobs that touch its resources (in its VNet when isolated)."""
        return MANAGED_DEVOPS_POOL.check(f"pool-{self._base}-{self._suffix}")

    @property
    def gpu_agent_pool(self) -> str:
        """The GPU pool where a stack asks for one: the projects' CUDA sanity training."""
        return MANAGED_DEVOPS_POOL.check(f"pool-{self._base}-gpu-{self._suffix}")

    @property
    def devops_environment(self) -> str:
        """Named after the stack: the deployment jobs of every pipeline bind to `dev`, `qa`, `prod`."""
        return self.environment

    def all(self) -> dict[str, str]:
        """Every environment-level name, each checked against its rule."""
        return {
            attr: getattr(self, attr)
            for attr in (
                "resource_group",
                "log_analytics",
                "app_insights",
                "key_vault",
                "container_registry",
                "storage_account",
                "ml_workspace",
                "aks_cluster",
                "aks_node_resource_group",
                "pipeline_identity",
                "dev_center",
                "dev_center_project",
                "aks_identity",
                "ml_compute_identity",
                "virtual_network",
                "nat_gateway",
                "nat_public_ip",
                "network_security_group",
                "action_group",
                "budget",
                "variable_group",
                "service_connection",
                "agent_pool",
                "gpu_agent_pool",
                "devops_environment",
            )
        }


# What tells the read-only preview identities and connections of the platform's stacks from the deploy ones.
PREVIEW_SUFFIX: Final = "-preview"


def platform_service_connection(prefix: str, stack: str, preview: bool = False) -> str:
    """The connection this repository's pipelines run Pulumi with for a stack: the deploy one (`pulumi up`,
    deploy.yml only) or the read-only preview one (pull requests and the nightly drift check).

    The bootstrap stack creates both, never a platform stack: deploying the platform needs rights on a whole
    subscription (resource groups, role assignments), which no identity a platform stack manages may hold.
    """
    return f"sc-{prefix}-platform-{stack}" + (PREVIEW_SUFFIX if preview else "")


@dataclass(frozen=True)
class PlatformNames:
    """Names of the bootstrap stack: the platform's own identities and its Pulumi state backend. The state
    names are those infra/bootstrap/state_backend.sh creates (a test keeps the two equal)."""

    prefix: str
    state_subscription_id: str

    @property
    def _state_suffix(self) -> str:
        return unique_suffix(self.state_subscription_id, self.prefix)

    @property
    def resource_group(self) -> str:
        return RESOURCE_GROUP.check(f"rg-{self.prefix}-platform")

    def identity(self, stack: str, preview: bool = False) -> str:
        suffix = PREVIEW_SUFFIX if preview else ""
        return MANAGED_IDENTITY.check(f"id-{self.prefix}-platform-{stack}{suffix}")

    def service_connection(self, stack: str, preview: bool = False) -> str:
        return platform_service_connection(self.prefix, stack, preview)

    def flux_identity(self, environment: str) -> str:
        """The identity Flux's source-controller in `environment`'s cluster reads Azure Repos with."""
        return MANAGED_IDENTITY.check(f"id-{self.prefix}-flux-{environment}")

    @property
    def budget(self) -> str:
        return BUDGET.check(f"budget-{self.prefix}-platform")

    @property
    def state_resource_group(self) -> str:
        return RESOURCE_GROUP.check(f"rg-{self.prefix}-pulumi-state")

    @property
    def state_account(self) -> str:
        return STORAGE_ACCOUNT.check(f"st{self.prefix}state{self._state_suffix}")

    state_container: ClassVar[str] = "state"

    @property
    def state_vault(self) -> str:
        return KEY_VAULT.check(f"kv-{self.prefix}-st-{self._state_suffix}")

    state_key: ClassVar[str] = "pulumi-state"


def deploy_branch(environment: str) -> str:
    """The branch of a project repository that Flux reconciles in `environment`: releases are commits there,
    so main keeps its review policies and each environment's history is its branch's log."""
    return f"deploy/{environment}"


def private_endpoint(resource_name: str, group_id: str) -> str:
    """One private endpoint per target and sub-resource (group id), e.g. pe-kv-mlops-dev-1a2b-vault."""
    return NETWORK_RESOURCE.check(f"pe-{resource_name}-{group_id}")


def project_namespace(slug: str) -> str:
    return K8S_NAME.check(slug)


def project_service_account(slug: str) -> str:
    return K8S_NAME.check(slug)


# The branch that holds reviewed code in every repository: pipelines build it, its policies guard it.
MAIN_REF: Final = "refs/heads/main"
# An onboarded project's pipelines: key (as in the shared stack's `pipelines` output) -> YAML file in its
# repository, which the copier template writes.
PROJECT_PIPELINE_FILES: Final = {
    "main": "azure-pipelines.yml",
    "retrain": ".azure-pipelines/retrain.yml",
    "drift": ".azure-pipelines/drift.yml",
}
# Those whose delivery stages deploy (bound to the environments); the others only run on schedule.
DEPLOYING_PIPELINES: Final = ("main", "retrain")
# Those whose sanity training runs on the first environment's GPU pool when the project trains on GPU
# (template/.azure-pipelines/templates/sanity-train.yml, included by azure-pipelines.yml only).
GPU_PIPELINES: Final = ("main",)


def project_pipeline_names(slug: str) -> dict[str, str]:
    """Pipeline definitions of one onboarded project, keyed as in the shared stack's `pipelines` output."""
    return {key: slug if key == "main" else f"{slug}-{key}" for key in PROJECT_PIPELINE_FILES}


def check_prefix(prefix: str) -> None:
    """Raise NameRuleError unless every name of every environment is valid with this prefix."""
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise NameRuleError("prefix must be lowercase letters and digits, starting with a letter")
    for environment in ENVIRONMENTS:
        # The longest subscription id form gives the longest names; the suffix has a fixed length.
        Names(prefix, environment, "0" * 36).all()


def check_slug(slug: str) -> None:
    if not SLUG_PATTERN.fullmatch(slug) or len(slug) > SLUG_MAX_LENGTH:
        raise NameRuleError(
            f"slug must be lowercase letters, digits and single hyphens, starting with a letter, "
            f"at most {SLUG_MAX_LENGTH} characters"
        )
    project_namespace(slug)
    # The project's Flux objects in its namespace are named after it (infra/gitops.py).
    K8S_NAME.check(gitops.project_kustomization(slug))
    for environment in ENVIRONMENTS:
        names = Names("a", environment, "")
        names.workload_identity(slug)
        names.online_endpoint(slug)
