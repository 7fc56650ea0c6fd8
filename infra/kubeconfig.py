"""The kubeconfig `pulumi up` reaches an AKS cluster with: the cluster's *user* credential (never the admin
one; local accounts are off), signed in through Entra ID as the pipeline's workload identity.

The user credential (`listClusterUserCredential`) holds the API server and its CA, and a user that runs
kubelogin with an interactive device-code login (AKS with Entra ID, Kubernetes 1.24+: exec format). Only the
user is replaced, with kubelogin's `workloadidentity` login, which reads AZURE_CLIENT_ID, AZURE_TENANT_ID
and AZURE_FEDERATED_TOKEN_FILE (kubelogin docs, concepts/login-modes/workloadidentity.md and
cli/get-token.md); pipelines/templates/pulumi-steps.yml sets them from the service connection. Tokens are
requested for the AKS Entra server application, the same in every tenant (kubelogin docs, concepts/aks.md).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any, Final

import yaml

AKS_SERVER_ID: Final = "6dae42f8-4368-4678-94ff-3960e28e3630"
USER: Final = "pulumi-workload-identity"
EXEC_API_VERSION: Final = "client.authentication.k8s.io/v1beta1"
KUBELOGIN_ARGS: Final = ("get-token", "--login", "workloadidentity", "--server-id", AKS_SERVER_ID)


class KubeconfigError(ValueError):
    """The cluster's user credential is not a kubeconfig this module can use."""


def decode(credentials: Sequence[Mapping[str, Any]]) -> str:
    """The kubeconfig text of `listClusterUserCredential`'s answer (`kubeconfigs[].value`, base64)."""
    if len(credentials) != 1:
        raise KubeconfigError(f"expected one user kubeconfig of the cluster, got {len(credentials)}")
    try:
        return base64.b64decode(str(credentials[0]["value"]), validate=True).decode()
    except (KeyError, binascii.Error, UnicodeDecodeError) as error:
        raise KubeconfigError(f"the cluster's user kubeconfig is not base64 text: {error}") from None


def workload_identity(user_kubeconfig: str) -> str:
    """The cluster of `user_kubeconfig` with a user that signs in as the pipeline's workload identity."""
    document = yaml.safe_load(user_kubeconfig)
    clusters = document.get("clusters") if isinstance(document, dict) else None
    if not isinstance(clusters, list) or len(clusters) != 1:
        raise KubeconfigError("the cluster's user kubeconfig must hold exactly one cluster")
    cluster = clusters[0]
    server = str(cluster.get("cluster", {}).get("server", ""))
    if not server.startswith("https://"):
        raise KubeconfigError(f"the cluster's API server must be an https:// URL, not {server!r}")
    name = str(cluster["name"])
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [cluster],
            "users": [
                {
                    "name": USER,
                    "user": {
                        "exec": {
                            "apiVersion": EXEC_API_VERSION,
                            "command": "kubelogin",
                            "args": list(KUBELOGIN_ARGS),
                            "env": None,
                            # A pipeline has no terminal: fail instead of waiting for a device-code login.
                            "interactiveMode": "Never",
                            "provideClusterInfo": False,
                        }
                    },
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": USER}}],
            "current-context": name,
        },
        sort_keys=False,
    )
