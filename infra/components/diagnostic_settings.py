"""Diagnostic settings: each target's resource logs, as infra/diagnostics.py selects them, into the
environment's Log Analytics workspace."""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import monitor

from infra import diagnostics, naming
from infra.components import TYPE_PREFIX


@dataclass(frozen=True)
class DiagnosticTarget:
    key: str
    resource_type: str
    resource_id: pulumi.Input[str]


@dataclass(frozen=True)
class DiagnosticSettingsArgs:
    workspace_id: pulumi.Input[str]
    targets: Sequence[DiagnosticTarget]


def _logs(selection: diagnostics.LogSelection) -> list[monitor.DiagnosticsLogSettingsArgs]:
    return [
        *(
            monitor.DiagnosticsLogSettingsArgs(category_group=group, enabled=True)
            for group in selection.category_groups
        ),
        *(
            monitor.DiagnosticsLogSettingsArgs(category=category, enabled=True)
            for category in selection.categories
        ),
    ]


class DiagnosticSettings(pulumi.ComponentResource):
    setting_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: DiagnosticSettingsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:DiagnosticSettings", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.setting_ids = {}
        for target in args.targets:
            selections = diagnostics.DIAGNOSED.get(target.resource_type)
            if selections is None:
                raise ValueError(
                    f"{target.key}: {target.resource_type} has no log selection in infra/diagnostics.py"
                )
            for selection in selections:
                suffix = f"-{selection.sub_resource.partition('/')[0]}" if selection.sub_resource else ""
                uri = (
                    pulumi.Output.concat(target.resource_id, "/", selection.sub_resource)
                    if selection.sub_resource
                    else target.resource_id
                )
                setting = monitor.DiagnosticSetting(
                    f"{name}-{target.key}{suffix}",
                    name=naming.DIAGNOSTIC_SETTING,
                    resource_uri=uri,
                    workspace_id=args.workspace_id,
                    logs=_logs(selection),
                    opts=child,
                )
                self.setting_ids[f"{target.key}{suffix}"] = setting.id
        self.register_outputs({"setting_ids": self.setting_ids})
