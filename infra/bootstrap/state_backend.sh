#!/usr/bin/env bash
# One-time bootstrap of Pulumi's state backend and secrets provider, before the first `pulumi up`.
#
#   infra/bootstrap/state_backend.sh <subscription-id> <location> <prefix>
#
# Creates, in its own resource group (never managed by the stacks it serves):
#   - a storage account + blob container for the state (Azure Blob backend), TLS 1.2, no public
#     access, no shared keys (Entra ID only), blob versioning and soft delete so no state is lost;
#   - a Key Vault (RBAC, purge protection) with an RSA key for Pulumi's azurekeyvault secrets provider;
#   - role assignments for the signed-in user (give the same to the pipelines' identity).
# It prints the `pulumi login` and `pulumi stack init` commands to run next. Re-running is safe:
# every step creates or updates.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 <subscription-id> <location> <prefix>" >&2
  exit 2
fi
subscription=$1 location=$2 prefix=$3
if [[ ! $prefix =~ ^[a-z][a-z0-9]{1,10}$ ]]; then
  echo "error: prefix must be 2-11 lowercase letters and digits, starting with a letter" >&2
  exit 2
fi
command -v az >/dev/null || { echo "error: the Azure CLI (az) is required: https://aka.ms/azure-cli" >&2; exit 1; }

suffix=$(printf '%s' "$subscription/$prefix" | sha256sum | cut -c1-4)
group="rg-${prefix}-pulumi-state"
account="st${prefix}state${suffix}"
container="state"
vault="kv-${prefix}-st-${suffix}"
key="pulumi-state"

az account set --subscription "$subscription"
me=$(az ad signed-in-user show --query id --output tsv)

az group create --name "$group" --location "$location" --tags purpose=pulumi-state --output none
az storage account create --name "$account" --resource-group "$group" --location "$location" \
  --sku Standard_ZRS --kind StorageV2 --min-tls-version TLS1_2 --https-only true \
  --allow-blob-public-access false --allow-shared-key-access false --output none
az storage account blob-service-properties update --account-name "$account" --resource-group "$group" \
  --enable-versioning true --enable-delete-retention true --delete-retention-days 30 \
  --enable-container-delete-retention true --container-delete-retention-days 30 --output none
account_id=$(az storage account show --name "$account" --resource-group "$group" --query id --output tsv)
az role assignment create --assignee-object-id "$me" --assignee-principal-type User \
  --role "Storage Blob Data Contributor" --scope "$account_id" --output none
az storage container create --name "$container" --account-name "$account" --auth-mode login --output none

az keyvault create --name "$vault" --resource-group "$group" --location "$location" \
  --enable-rbac-authorization true --enable-purge-protection true --retention-days 90 --output none
vault_id=$(az keyvault show --name "$vault" --query id --output tsv)
az role assignment create --assignee-object-id "$me" --assignee-principal-type User \
  --role "Key Vault Crypto User" --scope "$vault_id" --output none
az role assignment create --assignee-object-id "$me" --assignee-principal-type User \
  --role "Key Vault Crypto Officer" --scope "$vault_id" --output none
az keyvault key create --vault-name "$vault" --name "$key" --kty RSA --size 3072 --output none

cat <<NEXT
State backend ready. Next, from the repository root:

  export AZURE_STORAGE_ACCOUNT=$account
  pulumi login 'azblob://$container?storage_account=$account'
  for stack in bootstrap shared dev dev-cluster qa qa-cluster prod prod-cluster; do
    pulumi stack init "\$stack" --secrets-provider 'azurekeyvault://$vault.vault.azure.net/keys/$key'
  done

Pipelines log in the same way (variables PULUMI_STATE_ACCOUNT=$account, PULUMI_SECRETS_PROVIDER above).
NEXT
