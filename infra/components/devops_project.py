"""The Azure DevOps project: adopted by name (the default), or created when config says so."""

from dataclasses import dataclass

import pulumi
import pulumi_azuredevops as azuredevops

from infra.components import TYPE_PREFIX


@dataclass(frozen=True)
class DevOpsProjectArgs:
    name: str
    create: bool


class DevOpsProject(pulumi.ComponentResource):
    project_id: pulumi.Output[str]
    project_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: DevOpsProjectArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:DevOpsProject", name, None, opts)
        if args.create:
            project = azuredevops.Project(
                f"{name}-project",
                name=args.name,
                description="ML platform: pipelines, connections and environments (managed by Pulumi)",
                visibility="private",
                version_control="Git",
                work_item_template="Agile",
                features={"artifacts": "enabled", "pipelines": "enabled", "repositories": "enabled"},
                # Deleting the project would delete every repository and pipeline in it.
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )
            self.project_id = project.id
            self.project_name = project.name
        else:
            # Most organisations already have the project; adopting it by name leaves it unmanaged.
            existing = azuredevops.get_project_output(
                name=args.name, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            self.project_id = existing.id
            self.project_name = existing.name.apply(lambda found: found or args.name)
        self.register_outputs({"project_id": self.project_id, "project_name": self.project_name})
