"""This repository's own Azure Pipelines: their keys, files and which identity each runs Pulumi with."""

from typing import Final

# Pipeline key -> YAML file in this repository.
FILES: Final = {
    "pr": "pipelines/pr.yml",
    "deploy": "pipelines/deploy.yml",
    "drift": "pipelines/drift.yml",
    "template": "pipelines/template.yml",
}
# Only the deploy pipeline applies; pull requests and the drift check preview with read-only identities.
DEPLOYING: Final = ("deploy",)
PREVIEWING: Final = ("pr", "drift")
# The Azure DevOps environment the shared stack's deployment binds to (the environment stacks bind theirs).
SHARED_ENVIRONMENT: Final = "shared"
# Changes here run the template pipeline on a pull request (its build validation's path filter).
TEMPLATE_PATHS: Final = ("/template/*", "/copier.yml", "/tests/template/*", "/pipelines/template.yml")
