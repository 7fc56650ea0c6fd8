"""Stack output keys: the contract between the stacks, `platform.json` and the copier template.

Only non-secret identifiers leave a stack. Secrets stay in Key Vault and reach pipelines through the
variable group linked to it.
"""

from typing import Final

# Every environment stack (dev, qa, prod) exports these.
ENVIRONMENT: Final = "environment"
PROTECTED: Final = "protected"
LOCATION: Final = "location"
SUBSCRIPTION_ID: Final = "subscription_id"
TENANT_ID: Final = "tenant_id"
RESOURCE_GROUP: Final = "resource_group"
ML_WORKSPACE: Final = "ml_workspace"
CPU_COMPUTE_CLUSTER: Final = "cpu_compute_cluster"
GPU_COMPUTE_CLUSTER: Final = "gpu_compute_cluster"
KEY_VAULT: Final = "key_vault"
ACR_NAME: Final = "acr_name"
ACR_LOGIN_SERVER: Final = "acr_login_server"
AKS_CLUSTER: Final = "aks_cluster"
AKS_OIDC_ISSUER_URL: Final = "aks_oidc_issuer_url"
STORAGE_ACCOUNT: Final = "storage_account"
DVC_CONTAINER: Final = "dvc_container"
APP_INSIGHTS_ID: Final = "app_insights_id"
VARIABLE_GROUP: Final = "variable_group"
SERVICE_CONNECTION: Final = "service_connection"
DEVOPS_ENVIRONMENT: Final = "devops_environment"
AGENT_POOL: Final = "agent_pool"
# How a GPU workload lands on the AKS GPU pool: a Kubernetes nodeSelector and toleration.
GPU_NODE_SELECTOR: Final = "gpu_node_selector"
GPU_TOLERATION: Final = "gpu_toleration"
# {project slug: {PROJECT_NAMESPACE, PROJECT_SERVICE_ACCOUNT, PROJECT_WORKLOAD_IDENTITY_CLIENT_ID}}
PROJECTS: Final = "projects"
PROJECT_NAMESPACE: Final = "namespace"
PROJECT_SERVICE_ACCOUNT: Final = "service_account"
PROJECT_WORKLOAD_IDENTITY_CLIENT_ID: Final = "workload_identity_client_id"
# Network isolation (README, "Networking"): {NETWORK_ISOLATED, NETWORK_AGENT_POOL, NETWORK_ACR_BUILD_POOL}.
# A pipeline step that touches an isolated environment's Key Vault, registry, storage, workspace or AKS API
# runs on NETWORK_AGENT_POOL, whose agents sit in the environment's VNet; hosted agents reach only public
# endpoints. `az acr build` passes `--agent-pool NETWORK_ACR_BUILD_POOL` when it is not null.
NETWORK: Final = "network"
NETWORK_ISOLATED: Final = "isolated"
NETWORK_AGENT_POOL: Final = "agent_pool"
NETWORK_ACR_BUILD_POOL: Final = "acr_build_agent_pool"
# The environment's Azure Monitor action group: alert rules send to it (e-mail, Teams).
ACTION_GROUP_ID: Final = "action_group_id"

ENVIRONMENT_KEYS: Final = (
    ENVIRONMENT,
    PROTECTED,
    LOCATION,
    SUBSCRIPTION_ID,
    TENANT_ID,
    RESOURCE_GROUP,
    ML_WORKSPACE,
    CPU_COMPUTE_CLUSTER,
    GPU_COMPUTE_CLUSTER,
    KEY_VAULT,
    ACR_NAME,
    ACR_LOGIN_SERVER,
    AKS_CLUSTER,
    AKS_OIDC_ISSUER_URL,
    STORAGE_ACCOUNT,
    DVC_CONTAINER,
    APP_INSIGHTS_ID,
    VARIABLE_GROUP,
    SERVICE_CONNECTION,
    DEVOPS_ENVIRONMENT,
    AGENT_POOL,
    GPU_NODE_SELECTOR,
    GPU_TOLERATION,
    PROJECTS,
    NETWORK,
    ACTION_GROUP_ID,
)

# Key Vault secrets that the environment's variable group exposes to project pipelines as variables.
VARIABLE_RESOURCE_GROUP: Final = "resourceGroup"
VARIABLE_WORKSPACE: Final = "wsName"
VARIABLE_LOCATION: Final = "location"
VARIABLE_APP_INSIGHTS_CONNECTION: Final = "appInsightsConnectionString"
VARIABLE_GROUP_VARIABLES: Final = (
    VARIABLE_RESOURCE_GROUP,
    VARIABLE_WORKSPACE,
    VARIABLE_LOCATION,
    VARIABLE_APP_INSIGHTS_CONNECTION,
)

# The shared stack exports these.
DEVOPS_ORGANIZATION_URL: Final = "devops_organization_url"
DEVOPS_PROJECT: Final = "devops_project"
DEVOPS_PROJECT_ID: Final = "devops_project_id"
# {project slug: {"main": id, "retrain": id, "drift": id}}
PIPELINES: Final = "pipelines"

SHARED_KEYS: Final = (DEVOPS_ORGANIZATION_URL, DEVOPS_PROJECT, DEVOPS_PROJECT_ID, PIPELINES)

# platform.json: {PLATFORM_SHARED: {shared outputs}, PLATFORM_ENVIRONMENTS: {env: {environment outputs}}}.
# Its top-level keys are copier questions, so `copier copy --data-file platform.json` answers them.
PLATFORM_SHARED: Final = "platform_shared"
PLATFORM_ENVIRONMENTS: Final = "platform_environments"
