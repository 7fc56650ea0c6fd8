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
# The pipelines that run the in-cluster stacks (pipelines/templates/cluster-jobs.yml). Each environment
# stack authorises them on its agent queue, where they run when its cluster's API server is private.
IN_CLUSTER: Final = (*DEPLOYING, *PREVIEWING)
# The output variable by which cluster-jobs.yml picks the agent of an in-cluster stack: "true" when its
# environment's cluster takes traffic from the environment's VNet only (`make cluster-network`,
# infra/tools/cluster_network.py), so that only the environment's pool reaches its API server.
IN_NETWORK: Final = "inNetwork"


def stage(stack: str) -> str:
    """The deploy pipeline's stage of a stack: stage names take letters, digits and underscores only."""
    return stack.replace("-", "_")


def environment(stack: str) -> str:
    """The Azure DevOps environment `pulumi up` of a stack binds to. Not the projects' `dev`/`qa`/`prod`: who
    approves an infrastructure change is not who approves a model release, and these must exist (with their
    checks) before the deploy pipeline's first run, when no environment stack has run yet."""
    return f"platform-{stack}"


# Changes here run the template pipeline on a pull request (its build validation's path filter).
TEMPLATE_PATHS: Final = ("/template/*", "/copier.yml", "/tests/template/*", "/pipelines/template.yml")
