"""Log Analytics and workspace-based Application Insights for one environment."""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import applicationinsights, operationalinsights

from infra.components import TYPE_PREFIX


@dataclass(frozen=True)
class MonitoringArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    workspace_name: str
    app_insights_name: str
    retention_days: int
    tags: Mapping[str, str]


class Monitoring(pulumi.ComponentResource):
    workspace_id: pulumi.Output[str]
    app_insights_id: pulumi.Output[str]
    app_insights_connection_string: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        workspace = operationalinsights.Workspace(
            f"{name}-logs",
            workspace_name=args.workspace_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=args.retention_days,
            tags=dict(args.tags),
            opts=child,
        )
        # Classic (non-workspace) Application Insights is retired; local auth off means telemetry is
        # ingested with Entra ID tokens only, so a leaked connection string cannot write data.
        component = applicationinsights.Component(
            f"{name}-appinsights",
            resource_name_=args.app_insights_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="web",
            application_type="web",
            ingestion_mode="LogAnalytics",
            workspace_resource_id=workspace.id,
            disable_local_auth=True,
            # Said, not left to the default: the projects' failure notifications send from Microsoft-hosted
            # agents (template/includes/notify-stages.yml.jinja) and the platform has no Azure Monitor Private
            # Link Scope, so ingestion stays on the public endpoint, open to Entra ID tokens only.
            public_network_access_for_ingestion=applicationinsights.PublicNetworkAccessType.ENABLED,
            tags=dict(args.tags),
            opts=child,
        )
        self.workspace_id = workspace.id
        self.app_insights_id = component.id
        self.app_insights_connection_string = pulumi.Output.secret(component.connection_string)
        self.register_outputs(
            {
                "workspace_id": self.workspace_id,
                "app_insights_id": self.app_insights_id,
                "app_insights_connection_string": self.app_insights_connection_string,
            }
        )
