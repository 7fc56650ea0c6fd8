"""The environment's Azure Monitor action group: who hears of budget and platform alerts (e-mail, Teams)."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import monitor

from infra.components import TYPE_PREFIX

# Action groups are global resources (learn.microsoft.com/azure/azure-monitor/alerts/action-groups).
GLOBAL = "Global"
TEAMS_RECEIVER = "teams"


@dataclass(frozen=True)
class ActionGroupArgs:
    resource_group_name: pulumi.Input[str]
    group_name: str
    short_name: str
    emails: Sequence[str]
    # A Teams Workflows webhook ("" for none); its URL carries a signature, so it travels as a secret only.
    teams_webhook_url: str
    tags: Mapping[str, str]


class ActionGroup(pulumi.ComponentResource):
    action_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: ActionGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:ActionGroup", name, None, opts)
        webhooks = (
            [
                monitor.WebhookReceiverArgs(
                    name=TEAMS_RECEIVER,
                    service_uri=pulumi.Output.secret(args.teams_webhook_url),
                    use_common_alert_schema=True,
                )
            ]
            if args.teams_webhook_url
            else []
        )
        group = monitor.ActionGroup(
            f"{name}-group",
            action_group_name=args.group_name,
            group_short_name=args.short_name,
            resource_group_name=args.resource_group_name,
            location=GLOBAL,
            enabled=True,
            email_receivers=[
                # Receiver names are unique within the group; the address is, spelt in name characters.
                monitor.MicrosoftCommonEmailReceiverArgs(
                    name=re.sub(r"[^\w-]", "-", email), email_address=email, use_common_alert_schema=True
                )
                for email in args.emails
            ],
            webhook_receivers=webhooks,
            tags=dict(args.tags),
            # The state keeps what Azure returns: the webhook URL must stay encrypted there too.
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["webhookReceivers"]),
        )
        self.action_group_id = group.id
        self.register_outputs({"action_group_id": self.action_group_id})
