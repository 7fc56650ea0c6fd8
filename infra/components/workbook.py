"""The environment's Azure Monitor workbook (infra/workbook.py builds its document)."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import applicationinsights

from infra import workbook
from infra.components import TYPE_PREFIX


@dataclass(frozen=True)
class WorkbookArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    prefix: str
    environment: str
    slugs: Sequence[str]
    workspace_id: pulumi.Input[str]
    # Where models are trained and registered (the first environment's workspace; this one's in the first).
    training_workspace_id: pulumi.Input[str]
    # The portal lists a workbook under the resource its sourceId names: the Application Insights resource.
    app_insights_id: pulumi.Input[str]
    tags: Mapping[str, str]


class Workbook(pulumi.ComponentResource):
    workbook_id: pulumi.Output[str]

    def __init__(self, name: str, args: WorkbookArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Workbook", name, None, opts)
        serialized = pulumi.Output.all(args.workspace_id, args.training_workspace_id).apply(
            lambda ids: json.dumps(
                workbook.document(args.environment, args.slugs, ids[0], ids[1]), indent=1, sort_keys=True
            )
        )
        created = applicationinsights.Workbook(
            f"{name}-workbook",
            resource_name_=workbook.resource_name(args.prefix, args.environment),
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="shared",
            category=workbook.CATEGORY,
            display_name=workbook.display_name(args.prefix, args.environment),
            version=workbook.VERSION,
            serialized_data=serialized,
            source_id=pulumi.Output.from_input(args.app_insights_id).apply(str.lower),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.workbook_id = created.id
        self.register_outputs({"workbook_id": self.workbook_id})
