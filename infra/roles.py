"""Built-in Azure role definition ids the platform assigns (the same GUIDs in every tenant)."""

from typing import Final

ACR_PULL: Final = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
ACR_PUSH: Final = "8311e382-0749-4cb8-b61a-304f252e45ec"
AZURE_ML_DATA_SCIENTIST: Final = "f6c7c914-8db3-469d-8ca1-694a8f32e121"
CONTRIBUTOR: Final = "b24988ac-6180-42a0-ab88-20f7382dd24c"
KEY_VAULT_SECRETS_USER: Final = "4633458b-17de-408a-b874-0445c86b69e6"
MONITORING_METRICS_PUBLISHER: Final = "3913510d-42f4-4e42-8a64-420c390055eb"
# The AKS control plane's identity joins its nodes and internal load balancers to a subnet of our VNet.
NETWORK_CONTRIBUTOR: Final = "4d97b98b-1d4f-4787-a291-c67834d212e7"
STORAGE_BLOB_DATA_CONTRIBUTOR: Final = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
# Never assigned: the guardrails forbid it.
OWNER: Final = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


def definition_id(subscription_id: str, role: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"
