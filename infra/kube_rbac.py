"""How AKS names a Kubernetes request for Azure RBAC: the one rule the custom roles (infra/roles.py) and the
preflight both follow.

With Azure RBAC for Kubernetes authorization, AKS's webhook (kubeguard/guard, authz/providers/azure/rbac,
checkaccessreqhelper.go) turns a request into the data action
`Microsoft.ContainerService/managedClusters/<group>/<resource>/<verb>`: the core group is left out, get, list
and watch become `read`, create, update and patch `write`, delete `delete`, and the special verbs `bind`,
`escalate`, `impersonate` become `<verb>/action`. A namespaced request is checked at
`<cluster id>/namespaces/<namespace>`, a cluster-scoped one at the cluster id. Custom resources are named by
their group and plural like built-in ones (the webhook's `customresources/*` form is an opt-in it does not
use by default: `--azure.allow-custom-resource-type-check`, false).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PREFIX: Final = "Microsoft.ContainerService/managedClusters"
READ: Final = "read"
WRITE: Final = "write"
DELETE: Final = "delete"
# What Pulumi does with an object it manages: reads it (refresh, server-side apply answers), writes it,
# deletes it when the program stops declaring it.
MANAGE: Final = (READ, WRITE, DELETE)


@dataclass(frozen=True)
class Kind:
    """A Kubernetes kind the platform creates, as the API (and so Azure RBAC) names it."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def group(self) -> str:
        group, _, _version = self.api_version.rpartition("/")
        return group

    def data_action(self, verb: str) -> str:
        return "/".join(part for part in (PREFIX, self.group, self.plural, verb) if part)


NAMESPACE: Final = Kind("v1", "Namespace", "namespaces", namespaced=False)
CONFIG_MAP: Final = Kind("v1", "ConfigMap", "configmaps", namespaced=True)
SERVICE_ACCOUNT: Final = Kind("v1", "ServiceAccount", "serviceaccounts", namespaced=True)
ROLE_BINDING: Final = Kind("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", namespaced=True)
GIT_REPOSITORY: Final = Kind(
    "source.toolkit.fluxcd.io/v1", "GitRepository", "gitrepositories", namespaced=True
)
KUSTOMIZATION: Final = Kind(
    "kustomize.toolkit.fluxcd.io/v1", "Kustomization", "kustomizations", namespaced=True
)
KINDS: Final = (NAMESPACE, CONFIG_MAP, SERVICE_ACCOUNT, ROLE_BINDING, GIT_REPOSITORY, KUSTOMIZATION)

# Creating a RoleBinding to a ClusterRole needs `bind` on that ClusterRole (or every permission in it) in the
# binding's namespace: the API server's escalation check, which asks the webhook (Kubernetes docs, "Using RBAC
# Authorization", Restrictions on role binding creation or update).
BIND_CLUSTER_ROLES: Final = f"{PREFIX}/rbac.authorization.k8s.io/clusterroles/bind/action"


class UnknownKind(KeyError):
    """A Kubernetes object of a kind this module does not name."""


def kind_of(api_version: str, kind: str) -> Kind:
    for known in KINDS:
        if (known.api_version, known.kind) == (api_version, kind):
            return known
    raise UnknownKind(f"{api_version} {kind}: add it to infra/kube_rbac.py KINDS with its plural")


def data_actions(kinds: tuple[Kind, ...], verbs: tuple[str, ...] = MANAGE) -> tuple[str, ...]:
    return tuple(kind.data_action(verb) for kind in kinds for verb in verbs)


def scope(cluster_id: str, namespace: str | None) -> str:
    return f"{cluster_id}/namespaces/{namespace}" if namespace else cluster_id
