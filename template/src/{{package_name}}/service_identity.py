"""The credential the running service signs in to Azure with: its own identity, and nothing else.

- On AKS the workload identity webhook injects AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE
  and AZURE_AUTHORITY_HOST into pods of an annotated service account; WorkloadIdentityCredential exchanges
  the projected token for an Entra ID token ("Use Microsoft Entra Workload ID with AKS",
  learn.microsoft.com/azure/aks/workload-identity-overview; azure-identity reads those variables).
- On an Azure ML managed online endpoint the container reaches the endpoint identity through the managed
  identity endpoint; the release names the user-assigned identity by its client id (AZURE_CLIENT_ID,
  blue_green.run_as), which ManagedIdentityCredential takes.

DefaultAzureCredential would also walk developer credentials: where the service's identity is missing it
spawns the Azure CLI for every token request (a Python process, about a second of CPU, on the service's
core) and could sign in as whoever is logged in. The service asks for its own identity only, and a missing
one fails the export on the exporter's thread, never a request.
"""

import os

from azure.core.credentials import TokenCredential

FEDERATED_TOKEN_FILE = "AZURE_FEDERATED_TOKEN_FILE"
CLIENT_ID = "AZURE_CLIENT_ID"


def credential() -> TokenCredential:
    from azure.identity import ManagedIdentityCredential, WorkloadIdentityCredential

    if os.environ.get(FEDERATED_TOKEN_FILE):
        return WorkloadIdentityCredential()
    return ManagedIdentityCredential(client_id=os.environ.get(CLIENT_ID) or None)
