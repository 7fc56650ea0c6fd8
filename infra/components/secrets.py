"""Key Vault of one environment: what pipelines read through the linked variable group.

Who may read is granted where the reader is created (the pipeline identity's role assignments).
"""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import keyvault

from infra.components import TYPE_PREFIX
from infra.private_link import DISABLED, ENABLED


@dataclass(frozen=True)
class SecretsArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    vault_name: str
    tenant_id: pulumi.Input[str]
    soft_delete_retention_days: int
    # No public endpoint: reached through a private endpoint only (network isolation).
    private: bool
    # Secret name -> value. Names are what project pipelines read as variables from the variable group.
    secrets: Mapping[str, pulumi.Input[str]]
    tags: Mapping[str, str]


class Secrets(pulumi.ComponentResource):
    vault_id: pulumi.Output[str]
    vault_name: pulumi.Output[str]
    vault_uri: pulumi.Output[str]

    def __init__(self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Secrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=args.vault_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family="A", name="standard"),
                # Azure RBAC instead of access policies: access is granted by role assignments that
                # policies can audit, not by a list inside the vault.
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=args.soft_delete_retention_days,
                # Purge protection cannot be turned off again once on: a deleted vault and its secrets
                # stay recoverable for the whole retention period.
                enable_purge_protection=True,
                enabled_for_deployment=False,
                enabled_for_template_deployment=False,
                enabled_for_disk_encryption=False,
                # Said either way: since 2025 a new vault denies public traffic unless told otherwise, and the
                # Azure DevOps service reads a linked variable group's vault from its public addresses.
                public_network_access=DISABLED if args.private else ENABLED,
                network_acls=keyvault.NetworkRuleSetArgs(
                    default_action="Deny" if args.private else "Allow", bypass="AzureServices"
                ),
            ),
            tags=dict(args.tags),
            opts=child,
        )
        # Secrets are written through Azure Resource Manager, which a private vault still accepts
        # (MicrosoftDocs/azure-docs#68668): `pulumi up` needs no line of sight to the vault.
        for secret_name, value in sorted(args.secrets.items()):
            keyvault.Secret(
                f"{name}-{secret_name}",
                secret_name=secret_name,
                vault_name=vault.name,
                resource_group_name=args.resource_group_name,
                properties=keyvault.SecretPropertiesArgs(value=pulumi.Output.secret(value)),
                tags=dict(args.tags),
                opts=child,
            )
        self.vault_id = vault.id
        self.vault_name = vault.name
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri)
        self.register_outputs(
            {"vault_id": self.vault_id, "vault_name": self.vault_name, "vault_uri": self.vault_uri}
        )
