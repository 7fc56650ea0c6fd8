"""Run the real program for a stack under Pulumi's mock runtime and record what it declares.

This is the offline stand-in for `pulumi preview`: the program, the SDKs' argument handling and the
committed stack files are real; the cloud answers are the mocks below (names, ids and the few
outputs a provider computes, such as a registry's login server or a cluster's OIDC issuer).

`python -m infra.tools.mock_run --stack dev` prints the run as JSON, so a tool can run another
checkout's program in its own interpreter (plan diffs compare two versions of the program).
"""

import argparse
import base64
import contextlib
import contextvars
import functools
import gc
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from infra.config import PROJECT
from infra.pulumi_internals import Registration, RegistrationMonitor, stack_exports
from infra.stacks import EVERY
from infra.tools import stack_config
from infra.tools.digests import content_digest
from infra.tools.file_lock import locked

REPO_ROOT = Path(__file__).resolve().parents[2]
# What the program reads from a checkout: its package, the role definitions it assigns by name, and the
# project and stack files (the bootstrap stack reads the environments' files).
PROGRAM_PARTS = ("infra", "vendor", "Pulumi.yaml", *(f"Pulumi.{stack}.yaml" for stack in EVERY))
# Under PROGRAM_PARTS, but not what the program reads: bytecode, and the KQL validator's packages.
NOT_READ = frozenset({"__pycache__", "node_modules"})
# Names a folder that keeps runs for the other processes of this checkout (tests/conftest.py sets it for a
# test session): each pytest-xdist worker would otherwise run every stack itself, 14 s for all of them.
RUN_STORE_VARIABLE = "MOCK_RUN_STORE"
TENANT_ID = "00000000-0000-0000-0000-00000000feed"
DEVOPS_ORGANIZATION_ID = "00000000-0000-0000-0000-0000000000de"


@dataclass(frozen=True)
class DeclaredResource:
    type: str
    name: str
    urn: str
    parent_urn: str | None
    custom: bool
    inputs: Mapping[str, Any]
    dependencies: tuple[str, ...] = ()
    # The id the mocks answered: an ARM id for Azure resources, a number or GUID for Azure DevOps ones,
    # `<namespace>/<name>` or `<name>` for Kubernetes objects.
    id: str = ""
    # The explicit provider it is managed through (`<provider urn>::<provider id>`), empty for the default.
    provider: str = ""


@dataclass(frozen=True)
class StackRun:
    stack: str
    resources: tuple[DeclaredResource, ...]
    outputs: Mapping[str, Any]
    _by_urn: dict[str, DeclaredResource] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_urn.update({resource.urn: resource for resource in self.resources})

    def component_of(self, resource: DeclaredResource) -> DeclaredResource | None:
        """The nearest ComponentResource ancestor, or None for a top-level resource."""
        parent = self._by_urn.get(resource.parent_urn or "")
        while parent is not None and parent.custom:
            parent = self._by_urn.get(parent.parent_urn or "")
        return parent

    def of_type(self, type_: str) -> list[DeclaredResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def kubernetes_objects(self) -> list[DeclaredResource]:
        """The Kubernetes objects the stack manages; each one's inputs are the manifest it applies."""
        return [
            resource
            for resource in self.resources
            if resource.custom and resource.type.startswith("kubernetes:")
        ]

    def to_json(self) -> str:
        return json.dumps(
            {
                "stack": self.stack,
                "resources": [asdict(resource) for resource in self.resources],
                "outputs": self.outputs,
            },
            default=str,
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> "StackRun":
        data = json.loads(text)
        return cls(
            stack=data["stack"],
            resources=tuple(
                DeclaredResource(**{**item, "dependencies": tuple(item["dependencies"])})
                for item in data["resources"]
            ),
            outputs=data["outputs"],
        )


# The ARM resource type of each Pulumi type, so that mock ids have the shape Azure gives them: scopes of role
# assignments, the preflight's scope containment and child resources (`<account>/blobServices/default/...`)
# depend on it. Child types name the input that holds their parent's name.
_ARM_TYPES: Mapping[str, str] = {
    "operationalinsights:Workspace": "Microsoft.OperationalInsights/workspaces",
    "applicationinsights:Component": "Microsoft.Insights/components",
    "keyvault:Vault": "Microsoft.KeyVault/vaults",
    "keyvault:Secret": "Microsoft.KeyVault/vaults/{vaultName}/secrets",
    "containerregistry:Registry": "Microsoft.ContainerRegistry/registries",
    "storage:StorageAccount": "Microsoft.Storage/storageAccounts",
    "storage:BlobContainer": (
        "Microsoft.Storage/storageAccounts/{accountName}/blobServices/default/containers"
    ),
    "machinelearningservices:Workspace": "Microsoft.MachineLearningServices/workspaces",
    "machinelearningservices:Compute": (
        "Microsoft.MachineLearningServices/workspaces/{workspaceName}/computes"
    ),
    "containerservice:ManagedCluster": "Microsoft.ContainerService/managedClusters",
    "containerservice:AgentPool": "Microsoft.ContainerService/managedClusters/{resourceName}/agentPools",
    "managedidentity:UserAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "managedidentity:FederatedIdentityCredential": (
        "Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}/federatedIdentityCredentials"
    ),
    "network:PublicIPAddress": "Microsoft.Network/publicIPAddresses",
    "network:NatGateway": "Microsoft.Network/natGateways",
    "network:NetworkSecurityGroup": "Microsoft.Network/networkSecurityGroups",
    "network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
    "devopsinfrastructure:Pool": "Microsoft.DevOpsInfrastructure/pools",
    "devcenter:DevCenter": "Microsoft.DevCenter/devcenters",
    "devcenter:Project": "Microsoft.DevCenter/projects",
    "network:PrivateEndpoint": "Microsoft.Network/privateEndpoints",
    "network:PrivateDnsZoneGroup": (
        "Microsoft.Network/privateEndpoints/{privateEndpointName}/privateDnsZoneGroups"
    ),
    "privatedns:PrivateZone": "Microsoft.Network/privateDnsZones",
    "privatedns:VirtualNetworkLink": (
        "Microsoft.Network/privateDnsZones/{privateZoneName}/virtualNetworkLinks"
    ),
    "monitor:ActionGroup": "Microsoft.Insights/actionGroups",
    "monitor:ScheduledQueryRule": "Microsoft.Insights/scheduledQueryRules",
    "applicationinsights:Workbook": "Microsoft.Insights/workbooks",
    "containerregistry:AgentPool": "Microsoft.ContainerRegistry/registries/{registryName}/agentPools",
}
# Extension resources live under the resource they extend.
_EXTENSION_TYPES: Mapping[str, str] = {
    "kubernetesconfiguration:Extension": "Microsoft.KubernetesConfiguration/extensions",
    "authorization:RoleAssignment": "Microsoft.Authorization/roleAssignments",
    "authorization:RoleDefinition": "Microsoft.Authorization/roleDefinitions",
    "monitor:DiagnosticSetting": "Microsoft.Insights/diagnosticSettings",
    "consumption:Budget": "Microsoft.Consumption/budgets",
    "security:Pricing": "Microsoft.Security/pricings",
}
# The input that names the resource an extension resource extends (the cluster's are several inputs).
_EXTENDED_BY: Mapping[str, str] = {
    "authorization:RoleAssignment": "scope",
    "authorization:RoleDefinition": "scope",
    "monitor:DiagnosticSetting": "resourceUri",
    "consumption:Budget": "scope",
    "security:Pricing": "scopeId",
}


def _arm_id(subscription_id: str, inputs: Mapping[str, Any], type_: str, name: str) -> str:
    module, kind = type_.split(":")[1:3]
    group = inputs.get("resourceGroupName", "rg")
    group_id = f"/subscriptions/{subscription_id}/resourceGroups/{group}"
    if kind == "ResourceGroup":
        return f"/subscriptions/{subscription_id}/resourceGroups/{name}"
    key = f"{module}:{kind}"
    if key in _EXTENSION_TYPES:
        if key in _EXTENDED_BY:
            parent = "/" + str(inputs.get(_EXTENDED_BY[key], group_id)).strip("/")
            name = str(inputs.get("roleDefinitionId", name)) if kind == "RoleDefinition" else name
        else:
            parent = (
                f"{group_id}/providers/{inputs.get('clusterRp')}/{inputs.get('clusterResourceName')}"
                f"/{inputs.get('clusterName')}"
            )
        return f"{parent.rstrip('/')}/providers/{_EXTENSION_TYPES[key]}/{name}"
    arm_type = _ARM_TYPES.get(key, f"Microsoft.{module}/{kind}")
    arm_type = re.sub(r"\{(\w+)\}", lambda match: str(inputs.get(match.group(1), "")), arm_type)
    return f"{group_id}/providers/{arm_type}/{name}"


# Name arguments that do not follow the `<kind>Name` pattern.
_NAME_ARGUMENTS = {
    "StorageAccount": "accountName",
    "ManagedCluster": "resourceName",
    "Component": "resourceName",
    "UserAssignedIdentity": "resourceName",
    "FederatedIdentityCredential": "federatedIdentityCredentialResourceName",
    "BlobContainer": "containerName",
    "PublicIPAddress": "publicIpAddressName",
    "ScheduledQueryRule": "ruleName",
    "Workbook": "resourceName",
}


def _azure_name(type_: str, inputs: Mapping[str, Any], logical: str) -> str:
    """The Azure name a resource gets: its name argument, else the logical name."""
    kind = type_.split(":")[2]
    key = _NAME_ARGUMENTS.get(kind, f"{kind[0].lower()}{kind[1:]}Name")
    value = inputs.get(key)
    return value if isinstance(value, str) else logical


# What AKS answers `listClusterUserCredential` of a cluster with Entra ID integration: one kubeconfig,
# base64-encoded, whose user runs kubelogin with an interactive device-code login (exec format, the default
# from Kubernetes 1.24; learn.microsoft.com/azure/aks/kubelogin-authentication). The CA stands in for the
# cluster's own.
_AKS_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630"
_AKS_CLIENT_APP = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"


def user_kubeconfig(resource_group: str, cluster: str) -> str:
    user = f"clusterUser_{resource_group}_{cluster}"
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster,
                    "cluster": {
                        "certificate-authority-data": base64.b64encode(f"{cluster}-ca".encode()).decode(),
                        "server": f"https://{cluster}-dns-0000.hcp.westeurope.azmk8s.io:443",
                    },
                }
            ],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": user}}],
            "current-context": cluster,
            "users": [
                {
                    "name": user,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "kubelogin",
                            "args": [
                                "get-token",
                                "--environment",
                                "AzurePublicCloud",
                                "--server-id",
                                _AKS_SERVER_APP,
                                "--client-id",
                                _AKS_CLIENT_APP,
                                "--tenant-id",
                                TENANT_ID,
                                "--login",
                                "devicecode",
                            ],
                            "env": None,
                            "provideClusterInfo": False,
                        }
                    },
                }
            ],
        }
    )


def devops_project_id(name: str) -> str:
    """The id the mocks give the Azure DevOps project of this name."""
    return f"{name}-project-id"


def agent_queue_id(project_id: str, pool_name: str) -> str:
    """The id of the queue Managed DevOps Pools creates for a pool in a project: assigned by Azure DevOps, so
    stable across runs here; the preflight finds a pool's queue by it."""
    return str(int(hashlib.sha256(f"queue::{project_id}::{pool_name}".encode()).hexdigest()[:7], 16))


class PlatformMocks(pulumi.runtime.Mocks):
    """Answers for the cloud: the outputs providers compute, derived from the inputs."""

    def __init__(self, stack: str, subscription_id: str, references: Mapping[str, Mapping[str, Any]]) -> None:
        self.stack = stack
        self.subscription_id = subscription_id
        # Outputs of the stacks already deployed, by stack name (the last part of a fully qualified name).
        self.references = references
        # Explicit azure-native providers by id: the subscription each one deploys to.
        self._provider_subscriptions: dict[str, str] = {}
        # Managed DevOps Pools created in this run: pool name -> ids of the projects it lists.
        self.pool_projects: dict[str, set[str]] = {}

    def _devops_id(self, type_: str, logical: str) -> str:
        # Azure DevOps ids are integers or GUIDs the service assigns; a stable number derived from the
        # resource keeps two runs of the same program identical (plan diffs compare runs).
        return str(int(hashlib.sha256(f"{self.stack}::{type_}::{logical}".encode()).hexdigest()[:7], 16))

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = dict(args.inputs)
        type_ = args.typ
        if type_ == "pulumi:pulumi:StackReference":
            name = str(inputs.get("name"))
            stack = name.rpartition("/")[2]
            if stack not in self.references:
                # What the engine says of a stack that was never deployed.
                raise RuntimeError(f"unknown stack {name!r}: deploy it first")
            return name, {**inputs, "outputs": dict(self.references[stack]), "secretOutputNames": []}
        if type_.startswith("azuredevops:"):
            return self._devops(type_, inputs, args.name)
        if type_.startswith("pulumi:providers:"):
            provider_id = f"{args.name}-provider-id"
            if type_ == "pulumi:providers:azure-native" and inputs.get("subscriptionId"):
                self._provider_subscriptions[provider_id] = str(inputs["subscriptionId"])
            return provider_id, inputs
        if type_.startswith("kubernetes:"):
            # pulumi-kubernetes ids objects as `<namespace>/<name>`, cluster-scoped ones by name.
            metadata = inputs.get("metadata") or {}
            name = str(metadata.get("name", args.name))
            namespace = metadata.get("namespace")
            return (f"{namespace}/{name}" if namespace else name), {**inputs, "metadata": metadata}
        name = _azure_name(type_, inputs, args.name)
        subscription = self._provider_subscriptions.get(
            (args.provider or "").rpartition("::")[2], self.subscription_id
        )
        resource_id = _arm_id(subscription, inputs, type_, name)
        state: dict[str, Any] = {**inputs, "name": name, "id": resource_id}
        kind = type_.split(":")[2]
        if kind == "Registry":
            state["loginServer"] = f"{name}.azurecr.io"
        elif kind == "Vault":
            state["properties"] = {
                **inputs.get("properties", {}),
                "vaultUri": f"https://{name}.vault.azure.net/",
            }
        elif kind == "Component" and type_.startswith("azure-native:applicationinsights"):
            state["connectionString"] = (
                f"InstrumentationKey={name}-key;IngestionEndpoint=https://ingest.invalid/"
            )
        elif kind == "UserAssignedIdentity":
            state.update(clientId=f"{name}-client-id", principalId=f"{name}-principal-id", tenantId=TENANT_ID)
        elif kind == "Workspace" and type_.startswith("azure-native:machinelearningservices"):
            state["identity"] = {**inputs.get("identity", {}), "principalId": f"{name}-principal-id"}
        elif kind == "ManagedCluster":
            state["oidcIssuerProfile"] = {
                **inputs.get("oidcIssuerProfile", {}),
                "issuerURL": f"https://westeurope.oic.prod-aks.azure.com/{TENANT_ID}/{name}/",
            }
            state["identityProfile"] = {
                "kubeletidentity": {
                    "objectId": f"{name}-kubelet-object-id",
                    "clientId": f"{name}-kubelet-client-id",
                }
            }
        elif kind == "Pool" and type_.startswith("azure-native:devopsinfrastructure"):
            organizations = inputs.get("organizationProfile", {}).get("organizations", [])
            self.pool_projects[name] = {
                devops_project_id(project) for org in organizations for project in org.get("projects") or []
            }
        elif kind == "VirtualNetwork":
            state["subnets"] = [
                {**subnet, "id": f"{resource_id}/subnets/{subnet.get('name')}"}
                for subnet in inputs.get("subnets", [])
            ]
        identity = inputs.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            # A resource takes its user-assigned identities as a list of ids; ARM answers with a map of
            # id -> {principalId, clientId}, and the SDK's output types insist on that map.
            state["identity"] = {
                **identity,
                "userAssignedIdentities": {
                    uid: {"principalId": f"{uid}-principal-id", "clientId": f"{uid}-client-id"}
                    for uid in identity["userAssignedIdentities"]
                },
            }
        return resource_id, state

    def _devops(self, type_: str, inputs: dict, logical: str) -> tuple[str, dict]:
        resource_id = self._devops_id(type_, logical)
        state = {**inputs, "id": resource_id}
        if type_.endswith(":ServiceEndpointAzureRM"):
            state.update(
                workloadIdentityFederationIssuer=f"https://vstoken.dev.azure.com/{DEVOPS_ORGANIZATION_ID}",
                workloadIdentityFederationSubject=f"sc://contoso/ml-platform/{inputs.get('serviceEndpointName')}",
            )
        elif type_.endswith(":Project"):
            state["id"] = devops_project_id(str(inputs.get("name")))
        elif type_.endswith(":ServicePrincipalEntitlement"):
            state["descriptor"] = f"aad.{inputs.get('originId')}"
        return str(state["id"]), state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        token = args.token
        if token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": "pulumi-client-id",
                "objectId": "pulumi-object-id",
                "subscriptionId": self.subscription_id,
                "tenantId": TENANT_ID,
            }, []
        if token == "azure-native:containerservice:listManagedClusterUserCredentials":
            kubeconfig = user_kubeconfig(str(args.args["resourceGroupName"]), str(args.args["resourceName"]))
            return {
                "kubeconfigs": [
                    {"name": "clusterUser", "value": base64.b64encode(kubeconfig.encode()).decode()}
                ]
            }, []
        if token == "azuredevops:index/getProject:getProject":
            name = args.args.get("name")
            return {"id": devops_project_id(name), "name": name, "projectId": devops_project_id(name)}, []
        if token == "azuredevops:index/getGitRepository:getGitRepository":
            name = args.args.get("name")
            return {"id": f"{name}-repository-id", "name": name, "defaultBranch": "refs/heads/main"}, []
        if token == "azuredevops:index/getUsers:getUsers":
            principal = args.args.get("principalName")
            return {"id": "users", "users": [{"id": f"{principal}-id", "principalName": principal}]}, []
        if token == "azuredevops:index/getGroup:getGroup":
            name = args.args.get("name")
            return {
                "id": f"{name}-id",
                "name": name,
                "originId": f"{name}-origin-id",
                "descriptor": f"descriptor:{name}",
            }, []
        if token == "azuredevops:index/getIdentityUsers:getIdentityUsers":
            name = args.args.get("name")
            return {
                "id": f"{name}-id",
                "name": name,
                "descriptor": f"descriptor:{name}",
                "subjectDescriptor": f"subject:{name}",
            }, []
        if token == "azuredevops:index/getAgentQueue:getAgentQueue":
            return self._agent_queue(str(args.args.get("projectId")), str(args.args.get("name"))), []
        raise NotImplementedError(f"no mock for the call {token}: add one to {__name__}")

    def _agent_queue(self, project_id: str, name: str) -> dict[str, Any]:
        """A project has a queue for a Managed DevOps Pool only if the pool lists the project; the provider's
        data source fails otherwise (terraform-provider-azuredevops, data_agent_queue.go)."""
        if project_id not in self.pool_projects.get(name, set()):
            raise RuntimeError(f"getting agent queue by name: Unable to find agent queues with name: {name}")
        return {
            "id": agent_queue_id(project_id, name),
            "name": name,
            "projectId": project_id,
            "agentPoolId": int(self._devops_id("agentPool", name)),
        }


class RecordingMonitor(RegistrationMonitor):
    """The mock monitor, keeping every registration with its parent and explicit dependencies."""

    def __init__(self, platform_mocks: PlatformMocks) -> None:
        self.declared: list[DeclaredResource] = []
        super().__init__(platform_mocks, self.keep)

    def keep(self, registration: Registration) -> None:
        self.declared.append(
            DeclaredResource(
                type=registration.type,
                name=registration.name,
                urn=registration.urn,
                parent_urn=registration.parent_urn,
                custom=registration.custom,
                inputs=registration.inputs,
                dependencies=registration.dependencies,
                id=registration.id,
                provider=registration.provider,
            )
        )


Transformation = Callable[[pulumi.ResourceTransformationArgs], pulumi.ResourceTransformationResult | None]


def _run_in_process(
    stack: str,
    root: Path,
    transformations: Sequence[Transformation],
    references: Mapping[str, Mapping[str, Any]],
) -> StackRun:
    from infra.program import main

    config = stack_config.load(stack, root)
    platform_mocks = PlatformMocks(stack, config.get("azure-native:subscriptionId", ""), references)
    monitor = RecordingMonitor(platform_mocks)
    # A fresh root Stack resource per run: several stacks run one after another in one process.
    pulumi.runtime.reset_options(project=PROJECT, stack=stack)
    pulumi.runtime.set_all_config(config)
    pulumi.runtime.set_mocks(platform_mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    for transformation in transformations:
        pulumi.runtime.register_stack_transformation(transformation)
    resolved: dict[str, Any] = {}

    # `pulumi.runtime.test` runs the program as the engine does and waits for every registration and
    # for the Output it returns: here, the resolved exports.
    @pulumi.runtime.test
    def program() -> pulumi.Output:
        main()
        return pulumi.Output.from_input(stack_exports()).apply(resolved.update)

    program()
    return StackRun(stack=stack, resources=tuple(monitor.declared), outputs=resolved)


def run_stack(stack: str, root: Path = REPO_ROOT, transformations: Sequence[Transformation] = ()) -> StackRun:
    """Run the program of the checkout at `root` for `stack`. The stacks deployed before it (`shared`, then
    the environments in promotion order) run first, so its StackReferences read their outputs, as after
    `pulumi up` of each in that order."""
    if root.resolve() != REPO_ROOT:
        if transformations:
            raise ValueError("transformations apply only to this checkout's program")
        return _run_in_subprocess(stack, root)
    if not transformations:
        return _deployed_run(stack, _config_digest(root, stack))
    return _run_isolated(stack, root, transformations, _references(stack, root))


def run_stacks(stacks: Sequence[str], *, plain: bool = False) -> dict[str, StackRun]:
    """Run this checkout's program for several stacks, each once, in the order they deploy: a later
    environment reads the outputs of the earlier ones (promotion reads the previous registry).

    `plain=True` runs them and every stack they reference afresh, without the cached runs and at the
    collector's own thresholds: what the speed-ups must reproduce exactly (tests/tools/test_mock_run.py).
    """
    pending = list(dict.fromkeys(stacks))
    if plain:
        return _plain_runs(pending)
    return {stack: run_stack(stack) for stack in pending}


def _plain_runs(stacks: Sequence[str]) -> dict[str, StackRun]:
    runs: dict[str, StackRun] = {}
    for stack in EVERY[: max(EVERY.index(stack) for stack in stacks) + 1]:
        references = {earlier: runs[earlier].outputs for earlier in deployed_before(stack)}
        runs[stack] = _run_isolated(stack, REPO_ROOT, (), references, collect_rarely=False)
    return {stack: runs[stack] for stack in stacks}


def deployed_before(stack: str) -> tuple[str, ...]:
    """The stacks a stack may reference: those deployed before it (bootstrap, shared, earlier ones)."""
    return EVERY[: EVERY.index(stack)]


def _references(stack: str, root: Path) -> dict[str, Mapping[str, Any]]:
    return {earlier: run_stack(earlier, root).outputs for earlier in deployed_before(stack)}


def _config_digest(root: Path, stack: str) -> str:
    files = ["Pulumi.yaml", *(f"Pulumi.{name}.yaml" for name in (*deployed_before(stack), stack))]
    return hashlib.sha256(b"".join((root / name).read_bytes() for name in files)).hexdigest()


@functools.lru_cache(maxsize=16)
def _deployed_run(stack: str, config_digest: str) -> StackRun:
    """A stack's run, computed once per version of its configuration and of those it references."""

    def make() -> StackRun:
        return _run_isolated(stack, REPO_ROOT, (), _references(stack, REPO_ROOT))

    store = os.environ.get(RUN_STORE_VARIABLE)
    return _kept(Path(store), stack, make) if store else make()


def _kept(store: Path, stack: str, make: Callable[[], StackRun]) -> StackRun:
    """The run another process of the same program kept in `store`, or `make()`'s, kept there. Keyed by
    every file the program reads (PROGRAM_PARTS): a run made before an edit is never read after it."""
    path = store / f"{stack}-{program_digest(REPO_ROOT)}.json"
    # Held while the run is made: another process that needs it waits for it instead of making it too.
    with locked(path):
        if path.exists():
            return StackRun.from_json(path.read_text())
        run = make()
        # Whole or absent: a process killed while writing leaves no half a run to read.
        partial = path.with_suffix(".partial")
        partial.write_text(run.to_json())
        partial.replace(path)
        return run


def program_files(root: Path) -> dict[str, bytes]:
    """Every file the program reads at `root` (PROGRAM_PARTS, without NOT_READ), by name relative to it."""
    files = {}
    for part in PROGRAM_PARTS:
        top = root / part
        for path in [top] if top.is_file() else top.rglob("*"):
            relative = path.relative_to(root)
            if path.is_file() and not NOT_READ & set(relative.parts):
                files[relative.as_posix()] = path.read_bytes()
    return files


def program_digest(root: Path) -> str:
    return content_digest(program_files(root))


def copy_program(into: Path) -> Path:
    """This checkout's program alone (PROGRAM_PARTS) at `into`: a checkout to change and run apart."""
    into.mkdir(parents=True, exist_ok=True)
    for part in PROGRAM_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, into / part, ignore=shutil.ignore_patterns(*NOT_READ))
        else:
            shutil.copy2(source, into / part)
    return into


def _run_isolated(
    stack: str,
    root: Path,
    transformations: Sequence[Transformation],
    references: Mapping[str, Mapping[str, Any]],
    *,
    collect_rarely: bool = True,
) -> StackRun:
    # Pulumi keeps its runtime state in context variables: a copied context keeps runs apart.
    with _rare_collections() if collect_rarely else contextlib.nullcontext():
        return contextvars.copy_context().run(_run_in_process, stack, root, transformations, references)


# Objects allocated between two collections of the youngest generation, during a run.
RUN_GC_THRESHOLD = 50_000


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    """A run allocates ~1M short-lived objects (Outputs, asyncio tasks) over the ~1M that the Azure
    SDK modules keep alive; at Python's default thresholds the collector rescans that heap so often
    that it takes half of the run. Collecting less often during the run costs ~10 MiB of memory."""
    thresholds = gc.get_threshold()
    gc.set_threshold(RUN_GC_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _run_in_subprocess(stack: str, root: Path) -> StackRun:
    environment = {**os.environ, "PYTHONPATH": str(root)}
    completed = subprocess.run(
        [sys.executable, "-m", "infra.tools.mock_run", "--stack", stack],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the program at {root} failed for stack {stack}:\n{completed.stderr.strip()}")
    return StackRun.from_json(completed.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    args = parser.parse_args(argv)
    try:
        run = run_stack(args.stack)
    except pulumi.RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(run.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
