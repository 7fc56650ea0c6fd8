"""Creation order and subscription readiness: what `pulumi up` of a stack needs to exist before it creates
something, as Azure and Azure DevOps check it at that moment.

- Azure DevOps validates a Key Vault-linked variable group (it lists the vault's secrets) and an elastic agent
  pool (it reaches the scale set) through the service connection when it creates them, so the connection's
  federated credential and role assignments must exist first (microsoft/terraform-provider-azuredevops#1069).
  Pulumi creates in dependency order only: the preflight checks the dependency graph the program declares.
- Every resource type's provider namespace must be registered in its subscription before anything of that
  type is created (MissingSubscriptionRegistration); the bootstrap stack registers them (infra/providers.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from infra.preflight.checks import Entry, Grant
from infra.preflight.platform import (
    AGENT_POOL,
    ROLE_ASSIGNMENT,
    SERVICE_ENDPOINT,
    USER_ASSIGNED_IDENTITY,
    VARIABLE_GROUP,
    Platform,
)
from infra.preflight.rbac import grants, within
from infra.preflight.walk import Walk
from infra.providers import REGISTERED_BY_DEFAULT
from infra.stacks import BOOTSTRAP, ENVIRONMENTS
from infra.tools.mock_run import DeclaredResource, StackRun

FEDERATION = "azure-native:managedidentity:FederatedIdentityCredential"
COMMAND = "command:local:Command"
GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"


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
        for pool in run.of_type(AGENT_POOL):
            needed = _connection_prerequisites(platform, run, str(pool.inputs.get("serviceEndpointId")), None)
            _order_entries(walk, stack, run, pool, needed)


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
