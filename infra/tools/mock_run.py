"""Run the real program for a stack under Pulumi's mock runtime and record what it declares.

This is the offline stand-in for `pulumi preview`: the program, the SDKs' argument handling and the
committed stack files are real; the cloud answers are the mocks below (names, ids and the few
outputs a provider computes, such as a registry's login server or a cluster's OIDC issuer).

`python -m infra.tools.mock_run --stack dev` prints the run as JSON, so a tool can run another
checkout's program in its own interpreter (plan diffs compare two versions of the program).
"""

import argparse
import asyncio
import contextlib
import contextvars
import functools
import gc
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from infra.config import PROJECT
from infra.pulumi_internals import Registration, RegistrationMonitor, stack_exports
from infra.stacks import SHARED
from infra.tools import stack_config

REPO_ROOT = Path(__file__).resolve().parents[2]
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


def _arm_id(subscription_id: str, inputs: Mapping[str, Any], type_: str, name: str) -> str:
    module, kind = type_.split(":")[1:3]
    group = inputs.get("resourceGroupName", "rg")
    if kind == "ResourceGroup":
        return f"/subscriptions/{subscription_id}/resourceGroups/{name}"
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{group}/providers/Microsoft.{module}/{kind}/{name}"
    )


# Name arguments that do not follow the `<kind>Name` pattern.
_NAME_ARGUMENTS = {
    "StorageAccount": "accountName",
    "ManagedCluster": "resourceName",
    "Component": "resourceName",
    "UserAssignedIdentity": "resourceName",
    "FederatedIdentityCredential": "federatedIdentityCredentialResourceName",
    "VirtualMachineScaleSet": "vmScaleSetName",
    "BlobContainer": "containerName",
    "PublicIPAddress": "publicIpAddressName",
}


def _azure_name(type_: str, inputs: Mapping[str, Any], logical: str) -> str:
    """The Azure name a resource gets: its name argument, else the logical name."""
    kind = type_.split(":")[2]
    key = _NAME_ARGUMENTS.get(kind, f"{kind[0].lower()}{kind[1:]}Name")
    value = inputs.get(key)
    return value if isinstance(value, str) else logical


class PlatformMocks(pulumi.runtime.Mocks):
    """Answers for the cloud: the outputs providers compute, derived from the inputs."""

    def __init__(self, subscription_id: str, shared_outputs: Mapping[str, Any]) -> None:
        self.subscription_id = subscription_id
        self.shared_outputs = shared_outputs

    @staticmethod
    def _devops_id(type_: str, logical: str) -> str:
        # Azure DevOps ids are integers or GUIDs the service assigns; a stable number derived from the
        # resource keeps two runs of the same program identical (plan diffs compare runs).
        return str(int(hashlib.sha256(f"{type_}::{logical}".encode()).hexdigest()[:7], 16))

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = dict(args.inputs)
        type_ = args.typ
        if type_ == "pulumi:pulumi:StackReference":
            return f"{inputs.get('name')}", {
                **inputs,
                "outputs": dict(self.shared_outputs),
                "secretOutputNames": [],
            }
        if type_.startswith("azuredevops:"):
            return self._devops(type_, inputs, args.name)
        name = _azure_name(type_, inputs, args.name)
        resource_id = _arm_id(self.subscription_id, inputs, type_, name)
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
        elif kind == "VirtualNetwork":
            state["subnets"] = [
                {**subnet, "id": f"{resource_id}/subnets/{subnet.get('name')}"}
                for subnet in inputs.get("subnets", [])
            ]
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
            state["id"] = f"{inputs.get('name')}-project-id"
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
        if token == "azuredevops:index/getProject:getProject":
            name = args.args.get("name")
            return {"id": f"{name}-project-id", "name": name, "projectId": f"{name}-project-id"}, []
        if token == "azuredevops:index/getGitRepository:getGitRepository":
            name = args.args.get("name")
            return {"id": f"{name}-repository-id", "name": name, "defaultBranch": "refs/heads/main"}, []
        if token == "azuredevops:index/getUsers:getUsers":
            principal = args.args.get("principalName")
            return {"id": "users", "users": [{"id": f"{principal}-id", "principalName": principal}]}, []
        raise NotImplementedError(f"no mock for the call {token}: add one to {__name__}")


class RecordingMonitor(RegistrationMonitor):
    """The mock monitor, keeping every registration with its parent and explicit dependencies."""

    def __init__(self, platform_mocks: PlatformMocks) -> None:
        self.declared: list[DeclaredResource] = []
        super().__init__(platform_mocks, self._keep)

    def _keep(self, registration: Registration) -> None:
        self.declared.append(
            DeclaredResource(
                type=registration.type,
                name=registration.name,
                urn=registration.urn,
                parent_urn=registration.parent_urn,
                custom=registration.custom,
                inputs=registration.inputs,
                dependencies=registration.dependencies,
            )
        )


Transformation = Callable[[pulumi.ResourceTransformationArgs], pulumi.ResourceTransformationResult | None]


def _run_in_process(
    stack: str, root: Path, transformations: Sequence[Transformation], shared_outputs: Mapping[str, Any]
) -> StackRun:
    from infra.program import main

    config = stack_config.load(stack, root)
    platform_mocks = PlatformMocks(config.get("azure-native:subscriptionId", ""), shared_outputs)
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
    """Run the program of the checkout at `root` for `stack`; environment stacks first run `shared`
    so their StackReference reads the shared stack's outputs, as after `pulumi up -s shared`."""
    if root.resolve() != REPO_ROOT:
        if transformations:
            raise ValueError("transformations apply only to this checkout's program")
        return _run_in_subprocess(stack, root)
    if stack == SHARED and not transformations:
        return _shared_run(_config_digest(root))
    shared_outputs = {} if stack == SHARED else _shared_run(_config_digest(root)).outputs
    return _run_isolated(stack, root, transformations, shared_outputs)


def run_stacks(stacks: Sequence[str], *, plain: bool = False) -> dict[str, StackRun]:
    """Run this checkout's program for several stacks, using the machine's cores.

    The first environment stack runs here, after `shared`: it imports the Azure SDK modules that
    every environment stack needs (the largest part of a cold run). The other environment stacks
    then run in forked workers that inherit those modules and the shared stack's outputs.

    `plain=True` runs every stack here, one after another, at the collector's own thresholds and
    without the cached shared run: what the speed-ups must reproduce exactly (tests/tools/test_mock_run.py).
    """
    pending = list(dict.fromkeys(stacks))
    if plain:
        return _plain_runs(pending)
    runs: dict[str, StackRun] = {}
    for stack in [s for s in pending if s == SHARED] + [s for s in pending if s != SHARED][:1]:
        runs[stack] = run_stack(stack)
    rest = [stack for stack in pending if stack not in runs]
    # Forking a process that has started threads is safe on Linux only (macOS may abort the child).
    workers = min(len(rest), len(os.sched_getaffinity(0))) if sys.platform == "linux" else 1
    if workers > 1:
        # Frozen objects are left alone by the workers' collectors, so their pages stay shared
        # instead of being copied into every worker.
        gc.freeze()
        try:
            with multiprocessing.get_context("fork").Pool(workers, initializer=_fresh_event_loop) as pool:
                runs.update(zip(rest, pool.map(run_stack, rest), strict=True))
        finally:
            gc.unfreeze()
    else:
        runs.update((stack, run_stack(stack)) for stack in rest)
    return {stack: runs[stack] for stack in pending}


def _plain_runs(stacks: Sequence[str]) -> dict[str, StackRun]:
    shared = _run_isolated(SHARED, REPO_ROOT, (), {}, collect_rarely=False)
    return {
        stack: shared
        if stack == SHARED
        else _run_isolated(stack, REPO_ROOT, (), shared.outputs, collect_rarely=False)
        for stack in stacks
    }


def _fresh_event_loop() -> None:
    # A forked worker must not share the parent's event loop: its selector and executor threads
    # belong to the parent.
    asyncio.set_event_loop(asyncio.new_event_loop())


def _config_digest(root: Path) -> str:
    return hashlib.sha256(
        b"".join((root / name).read_bytes() for name in ("Pulumi.yaml", f"Pulumi.{SHARED}.yaml"))
    ).hexdigest()


@functools.lru_cache(maxsize=4)
def _shared_run(config_digest: str) -> StackRun:
    """The shared stack's run, computed once per version of its configuration."""
    return _run_isolated(SHARED, REPO_ROOT, (), {})


def _run_isolated(
    stack: str,
    root: Path,
    transformations: Sequence[Transformation],
    shared_outputs: Mapping[str, Any],
    *,
    collect_rarely: bool = True,
) -> StackRun:
    # Pulumi keeps its runtime state in context variables: a copied context keeps runs apart.
    with _rare_collections() if collect_rarely else contextlib.nullcontext():
        return contextvars.copy_context().run(_run_in_process, stack, root, transformations, shared_outputs)


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
