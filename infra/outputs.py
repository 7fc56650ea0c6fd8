"""Stack output keys: the contract between the stacks, `platform.json` and the copier template. Which keys a
stack exports is the one mapping its program exports (infra/program.py), never a list written again here.

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
# Resource ids that a later environment grants on (promotion imports from the previous registry; the drift
# check pulls the first environment's DVC data) and that steps name (`az acr import --registry <id>`).
ACR_ID: Final = "acr_id"
DVC_CONTAINER_ID: Final = "dvc_container_id"
AKS_CLUSTER: Final = "aks_cluster"
AKS_OIDC_ISSUER_URL: Final = "aks_oidc_issuer_url"
# What the in-cluster stack (infra/stacks.py) reads to reach the cluster and to pin its namespaces' pod
# security version: the cluster's resource id and its Kubernetes version (major.minor).
AKS_CLUSTER_ID: Final = "aks_cluster_id"
AKS_KUBERNETES_VERSION: Final = "aks_kubernetes_version"
STORAGE_ACCOUNT: Final = "storage_account"
DVC_CONTAINER: Final = "dvc_container"
APP_INSIGHTS_ID: Final = "app_insights_id"
VARIABLE_GROUP: Final = "variable_group"
SERVICE_CONNECTION: Final = "service_connection"
DEVOPS_ENVIRONMENT: Final = "devops_environment"
# The environment's Managed DevOps Pool (deploy and drift jobs, in its VNet), and its GPU pool for the CUDA
# sanity training ("" where the stack has none).
AGENT_POOL: Final = "agent_pool"
GPU_AGENT_POOL: Final = "gpu_agent_pool"
# How a GPU workload lands on the AKS GPU pool: a Kubernetes nodeSelector and toleration.
GPU_NODE_SELECTOR: Final = "gpu_node_selector"
GPU_TOLERATION: Final = "gpu_toleration"
# The project branch Flux reconciles in this environment; releases are commits there.
DEPLOY_BRANCH: Final = "deploy_branch"
# {project slug: {PROJECT_NAMESPACE, PROJECT_SERVICE_ACCOUNT, PROJECT_WORKLOAD_IDENTITY_CLIENT_ID,
#  PROJECT_WORKLOAD_IDENTITY_ID, PROJECT_ONLINE_ENDPOINT, PROJECT_REPOSITORY}}
PROJECTS: Final = "projects"
PROJECT_NAMESPACE: Final = "namespace"
PROJECT_SERVICE_ACCOUNT: Final = "service_account"
PROJECT_WORKLOAD_IDENTITY_CLIENT_ID: Final = "workload_identity_client_id"
# The same identity's ARM id: an aml-endpoint project's endpoint runs as it (user-assigned identity).
PROJECT_WORKLOAD_IDENTITY_ID: Final = "workload_identity_id"
PROJECT_ONLINE_ENDPOINT: Final = "online_endpoint"
# The project's Azure Repos URL, which Flux reconciles DEPLOY_BRANCH of.
PROJECT_REPOSITORY: Final = "repository_url"
# What Flux reconciles of this repository in the environment's cluster: {GITOPS_REPOSITORY, GITOPS_BRANCH}.
GITOPS: Final = "gitops"
GITOPS_REPOSITORY: Final = "repository_url"
GITOPS_BRANCH: Final = "branch"

# Network isolation (README, "Networking"): {NETWORK_ISOLATED, NETWORK_ACR_BUILD_POOL}. A pipeline step that
# touches an isolated environment's Key Vault, registry, storage, workspace or AKS API runs on AGENT_POOL,
# whose agents sit in the environment's VNet; hosted agents reach only public endpoints (the preflight checks
# it, infra/preflight/reach.py). `az acr build` passes `--agent-pool NETWORK_ACR_BUILD_POOL` when it is not
# null.
NETWORK: Final = "network"
NETWORK_ISOLATED: Final = "isolated"
NETWORK_ACR_BUILD_POOL: Final = "acr_build_agent_pool"
# The environment's Azure Monitor action group: alert rules send to it (e-mail, Teams).
ACTION_GROUP_ID: Final = "action_group_id"
# Where the projects' services and pipelines send telemetry (with Entra ID: local auth is off). Not a secret:
# "Ikey unique identifiers aren't security tokens or security keys, and aren't considered secrets"
# (learn.microsoft.com/azure/azure-monitor/app/connection-strings).
APP_INSIGHTS_CONNECTION_STRING: Final = "app_insights_connection_string"
# The Log Analytics workspace the alert rules and the workbook query; a later environment's workbook reads
# the first one's for training.
LOG_ANALYTICS_ID: Final = "log_analytics_id"
# The environment's Azure Monitor workbook (infra/workbook.py).
WORKBOOK_ID: Final = "workbook_id"


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
# The telemetry contract (infra/telemetry.py contract()): names the projects send and the platform queries.
TELEMETRY: Final = "telemetry"
# Subject descriptor of the project's build service: the identity of every pipeline's job token.
DEVOPS_BUILD_SERVICE: Final = "devops_build_service"


# The bootstrap stack exports these.
# GUID of the custom role the project pipelines hold in their Kubernetes namespaces (infra/roles.py).
PIPELINE_KUBE_ROLE: Final = "pipeline_kube_role"
# GUID of the custom role Managed DevOps Pools' service principal holds on each VNet (infra/roles.py).
AGENT_NETWORK_ROLE: Final = "agent_network_role"
# The custom role an environment's pipeline identity holds on each project's serving identity (assign it).
SERVING_IDENTITY_ROLE: Final = "serving_identity_role"
# {pipeline key (infra/platform_pipelines.py): definition id} of this repository's own pipelines.
PLATFORM_PIPELINES: Final = "platform_pipelines"
# The Pulumi state container and the secrets provider's key (infra/bootstrap/state_backend.sh creates them).
STATE_CONTAINER_ID: Final = "state_container_id"
STATE_KEY_ID: Final = "state_key_id"
# In-cluster bootstrap (infra/components/cluster_gitops.py):
# {KubeRole key (infra/roles.py): GUID} of the custom roles the pipeline identities hold in their cluster.
PLATFORM_KUBE_ROLES: Final = "platform_kube_roles"
# {stack: principal id} of each platform stack's deploy identity (`pulumi up`) and preview identity.
DEPLOY_PRINCIPAL_IDS: Final = "deploy_principal_ids"
PREVIEW_PRINCIPAL_IDS: Final = "preview_principal_ids"
# {environment: {FLUX_IDENTITY_*}}: the identity Flux reads Azure Repos with (in the project's Readers).
FLUX_IDENTITIES: Final = "flux_identities"
FLUX_IDENTITY_CLIENT_ID: Final = "client_id"
FLUX_IDENTITY_NAME: Final = "name"
FLUX_IDENTITY_RESOURCE_GROUP: Final = "resource_group"
FLUX_IDENTITY_SUBSCRIPTION_ID: Final = "subscription_id"

# platform.json: {PLATFORM_SHARED: {shared outputs}, PLATFORM_ENVIRONMENTS: {env: {environment outputs}}}.
# Its top-level keys are copier questions, so `copier copy --data-file platform.json` answers them.
PLATFORM_SHARED: Final = "platform_shared"
PLATFORM_ENVIRONMENTS: Final = "platform_environments"
