"""Microsoft Defender for Cloud plans for what the platform runs: containers (AKS, ACR), Key Vault, storage.

A plan is a setting of the whole subscription (security Pricing, scope subscriptions/<id>), so one stack
per subscription owns it (config defenderPlans; tests/infra/test_stacks.py checks the committed stacks).
"""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import security

from infra.components import TYPE_PREFIX

STANDARD = "Standard"
# Plan -> sub-plan ("" for the plan's only one): per-vault pricing for Key Vault, and the storage plan that
# replaced per-transaction pricing (learn.microsoft.com/rest/api/defenderforcloud/pricings).
PLANS: Mapping[str, str] = {
    "Containers": "",
    "KeyVaults": "PerKeyVault",
    "StorageAccounts": "DefenderForStorageV2",
}


@dataclass(frozen=True)
class DefenderPlansArgs:
    subscription_id: str


class DefenderPlans(pulumi.ComponentResource):
    plan_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: DefenderPlansArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:DefenderPlans", name, None, opts)
        self.plan_ids = {}
        for plan, sub_plan in PLANS.items():
            pricing = security.Pricing(
                f"{name}-{plan.lower()}",
                pricing_name=plan,
                scope_id=f"subscriptions/{args.subscription_id}",
                pricing_tier=STANDARD,
                sub_plan=sub_plan or None,
                # Azure refuses DELETE on a subscription's plan ("Use PUT to Enabled or Disable",
                # Azure/terraform-provider-azapi#818): destroying the stack leaves the plan on; switch it
                # off with `az security pricing create -n <plan> --tier free` (README, Networking).
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
            self.plan_ids[plan] = pricing.id
        self.register_outputs({"plan_ids": self.plan_ids})
