"""Creation order and subscription readiness: what `pulumi up` of a stack needs to exist before it creates
something, as Azure and Azure DevOps check it at that moment.

- Azure DevOps validates a Key Vault-linked variable group (it lists the vault's secrets) through the service
  connection when it creates it, so the connection's federated credential and role assignment must exist
  first (microsoft/terraform-provider-azuredevops#1069). Pulumi creates in dependency order only: the
  preflight checks the dependency graph the program declares.
- Managed DevOps Pools' own service principal (DevOpsInfrastructure) puts a pool's agents into its subnet and
  reads a gallery image when the pool is created: the subnet must be delegated to the service and the
  principal hold its rights there before the pool exists (managed-devops-pools/configure-networking.md:
  subnets/join/action and serviceAssociationLinks validate and write, "Verify Reader access";
  configure-images.md: "If you select an Azure Compute Gallery image that doesn't have this access
  configured, pool creation fails"). The principal is the one the environment's stack file names.
- Every resource type's provider namespace must be registered in its subscription before anything of that
  type is created (MissingSubscriptionRegistration); the bootstrap stack registers them (infra/providers.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from infra import managed_devops_pools, roles
from infra.config import PROJECT
from infra.preflight.checks import Entry, Grant
from infra.preflight.platform import (
    ROLE_ASSIGNMENT,
    SERVICE_ENDPOINT,
    USER_ASSIGNED_IDENTITY,
    VARIABLE_GROUP,
    Platform,
)
from infra.preflight.rbac import Assignment, grants, narrowest_grant, normalise_scope, within
from infra.preflight.walk import Walk
from infra.private_link import VIRTUAL_NETWORK
from infra.providers import REGISTERED_BY_DEFAULT
from infra.stacks import BOOTSTRAP, ENVIRONMENTS
from infra.tools import stack_config
from infra.tools.mock_run import REPO_ROOT, DeclaredResource, StackRun

FEDERATION = "azure-native:managedidentity:FederatedIdentityCredential"
COMMAND = "command:local:Command"
GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
PRINCIPAL_KEY = f"{PROJECT}:devopsInfrastructurePrincipalId"
SERVICE = "Managed DevOps Pools (DevOpsInfrastructure)"
# What the service does on a pool's subnet when it creates the pool (configure-networking.md, "To check the
# DevOpsInfrastructure principal access"), and on the VNet and a gallery image: read them.
SUBNET_OPERATIONS = tuple(
    action for action in roles.MANAGED_DEVOPS_POOLS_NETWORK_ACTIONS if action.endswith(("/action", "/write"))
)
VNET_READ = "Microsoft.Network/virtualNetworks/read"
IMAGE_READ = "Microsoft.Compute/galleries/images/read"


def ancestors(run: StackRun, resource: DeclaredResource) -> set[str]:
    """Every resource this one waits for (its dependencies, transitively)."""
    by_urn = {r.urn: r for r in run.resources}
    seen: set[str] = set()
    pending = list(resource.dependencies)
    while pending:
        urn = pending.pop()
        if urn in seen:
            continue
        seen.add(urn)
        if urn in by_urn:
            pending.extend(by_urn[urn].dependencies)
    return seen


def _connection_prerequisites(
    platform: Platform, run: StackRun, endpoint_id: str, role_check: tuple[str, str] | None
) -> list[tuple[str, DeclaredResource | None]]:
    """(what, resource) that must exist before Azure DevOps validates the connection: its identity's federated
    credential and, when `role_check` = (operation, scope), the assignment that grants that operation."""
    endpoint = next((r for r in run.of_type(SERVICE_ENDPOINT) if r.id == endpoint_id), None)
    if endpoint is None:
        return [("the service connection", None)]
    client = endpoint.inputs.get("credentials", {}).get("serviceprincipalid", "")
    identity = next(
        (
            r
            for r in run.of_type(USER_ASSIGNED_IDENTITY)
            if f"{r.inputs.get('resourceName')}-client-id" == client
        ),
        None,
    )
    name = identity.inputs.get("resourceName") if identity else None
    federation = next((r for r in run.of_type(FEDERATION) if r.inputs.get("resourceName") == name), None)
    needed: list[tuple[str, DeclaredResource | None]] = [("its federated credential", federation)]
    if role_check is not None:
        operation, scope = role_check
        principal = f"{name}-principal-id"
        assignment = next(
            (
                r
                for r in run.of_type(ROLE_ASSIGNMENT)
                if r.inputs.get("principalId") == principal
                and within(scope, str(r.inputs.get("scope")))
                and grants(
                    platform.roles.by_definition_id(str(r.inputs["roleDefinitionId"])), operation, True
                )
            ),
            None,
        )
        needed.append((f"the role assignment that grants {operation}", assignment))
    return needed


def _order_entries(
    walk: Walk,
    stack: str,
    run: StackRun,
    resource: DeclaredResource,
    needed: Iterable[tuple[str, DeclaredResource | None]],
) -> None:
    waited = ancestors(run, resource)
    kind = resource.type.rpartition(":")[2]
    for what, prerequisite in needed:
        base = dict(
            stack=stack,
            pipeline=f"pulumi up -s {stack}",
            stage="creation order",
            step=f"{kind} {resource.name}",
            identity="Azure DevOps validating the service connection",
            operation=f"create after {what}",
            resource=prerequisite.name if prerequisite else "(missing)",
        )
        if prerequisite is None:
            walk.add(Entry(**base, granted_by=None, problem=f"the stack declares no {what}"))
        elif prerequisite.urn in waited:
            walk.add(Entry(**base, granted_by=Grant("depends on", prerequisite.urn)))
        else:
            walk.add(Entry(**base, granted_by=None, problem=f"created without waiting for {what}"))


def check_creation_order(walk: Walk, runs: Mapping[str, StackRun]) -> None:
    platform = walk.platform
    for stack, run in runs.items():
        for group in run.of_type(VARIABLE_GROUP):
            vault = group.inputs.get("keyVault")
            if not vault:
                continue
            located = platform.find("key-vault", str(vault["name"]))
            role_check = (GET_SECRET, located.id) if located else None
            needed = _connection_prerequisites(platform, run, str(vault["serviceEndpointId"]), role_check)
            _order_entries(walk, stack, run, group, needed)
        for pool in run.of_type(managed_devops_pools.POOL):
            _pool_entries(walk, stack, run, pool)


def _declared(run: StackRun, assignment: Assignment) -> DeclaredResource | None:
    """The role assignment resource behind an assignment the platform indexed."""
    return next(
        (
            r
            for r in run.of_type(ROLE_ASSIGNMENT)
            if r.inputs.get("principalId") == assignment.principal
            and normalise_scope(str(r.inputs.get("scope"))) == normalise_scope(assignment.scope)
            and str(r.inputs.get("roleDefinitionId", "")).lower().endswith(assignment.role.id.lower())
        ),
        None,
    )


def _delegated(run: StackRun, subnet_id: str) -> bool:
    vnet_name, _, subnet_name = subnet_id.partition("/virtualNetworks/")[2].partition("/subnets/")
    return any(
        managed_devops_pools.SUBNET_DELEGATION
        in {delegation.get("serviceName") for delegation in subnet.get("delegations") or []}
        for vnet in run.of_type(VIRTUAL_NETWORK)
        if vnet.inputs.get("virtualNetworkName") == vnet_name
        for subnet in vnet.inputs.get("subnets") or []
        if subnet.get("name") == subnet_name
    )


def _pool_entries(
    walk: Walk, stack: str, run: StackRun, pool: DeclaredResource, root: Path = REPO_ROOT
) -> None:
    principal = stack_config.load(stack, root).get(PRINCIPAL_KEY, "")
    fabric = pool.inputs.get("fabricProfile", {})
    subnet_id = str((fabric.get("networkProfile") or {}).get("subnetId") or "")
    base = dict(
        stack=stack, pipeline=f"pulumi up -s {stack}", stage="creation order", step=f"Pool {pool.name}"
    )
    needed: list[tuple[str, str]] = []
    if subnet_id:
        delegated = _delegated(run, subnet_id)
        walk.add(
            Entry(
                **base,
                identity=SERVICE,
                operation="inject agents into its subnet",
                resource=subnet_id,
                granted_by=(
                    Grant(f"delegated to {managed_devops_pools.SUBNET_DELEGATION}", subnet_id)
                    if delegated
                    else None
                ),
                problem="" if delegated else "the subnet is not delegated to Managed DevOps Pools",
            )
        )
        needed += [(operation, subnet_id) for operation in SUBNET_OPERATIONS]
        needed.append((VNET_READ, subnet_id.rpartition("/subnets/")[0]))
    needed += [
        (IMAGE_READ, str(image["resourceId"]))
        for image in fabric.get("images") or []
        if image.get("resourceId")
    ]
    waited = ancestors(run, pool)
    for operation, scope in needed:
        entry = dict(base, identity=f"{SERVICE} {principal}", operation=operation, resource=scope)
        assignment = narrowest_grant(walk.platform.assignments, principal, operation, scope, False)
        declared = _declared(run, assignment) if assignment else None
        if assignment is None or declared is None:
            walk.add(Entry(**entry, granted_by=None, problem="no role assignment of this stack grants it"))
        elif declared.urn not in waited:
            walk.add(
                Entry(
                    **entry, granted_by=None, problem="the pool is created without waiting for the assignment"
                ),
                assignment,
            )
        else:
            walk.add(Entry(**entry, granted_by=Grant(assignment.role.name, assignment.scope)), assignment)


def namespace(resource: DeclaredResource) -> str | None:
    """The Azure provider namespace of a resource, from its ARM id."""
    parts = resource.id.strip("/").split("/")
    if "providers" not in parts:
        return None
    start = len(parts) - 1 - parts[::-1].index("providers")
    return parts[start + 1]


def check_providers(walk: Walk, runs: Mapping[str, StackRun]) -> None:
    registered: dict[str, set[str]] = {}
    for command in runs[BOOTSTRAP].of_type(COMMAND):
        subscription, *namespaces = command.inputs.get("triggers") or [""]
        registered.setdefault(str(subscription), set()).update(str(n).lower() for n in namespaces)
    for stack in ENVIRONMENTS:
        run = runs[stack]
        subscription = str(run.outputs.get("subscription_id", ""))
        needed = sorted({ns for r in run.resources if r.custom and r.id for ns in [namespace(r)] if ns})
        for name in needed:
            base = dict(
                stack=stack,
                pipeline=f"pulumi up -s {stack}",
                stage="subscription",
                step="resource providers",
                identity="the bootstrap stack",
                operation=f"register {name}",
                resource=f"/subscriptions/{subscription}",
            )
            if name.lower() in {default.lower() for default in REGISTERED_BY_DEFAULT}:
                walk.add(
                    Entry(**base, granted_by=Grant("registered by default", f"/subscriptions/{subscription}"))
                )
            elif name.lower() in registered.get(subscription, set()):
                walk.add(
                    Entry(
                        **base,
                        granted_by=Grant(
                            "az provider register (bootstrap)", f"/subscriptions/{subscription}"
                        ),
                    )
                )
            else:
                walk.add(
                    Entry(**base, granted_by=None, problem=f"{name} is not registered in this subscription")
                )
