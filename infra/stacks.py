"""The stacks of this project: one per environment, one in-cluster stack per environment, one shared stack for
the organisation, and the bootstrap stack an administrator runs once before all of them.

An environment is two stacks. The environment stack (`dev`) holds everything Azure Resource Manager manages,
which every agent reaches. Its in-cluster stack (`dev-cluster`) holds what Pulumi creates inside the
environment's AKS cluster through the Kubernetes API (infra/components/cluster_gitops.py): with network
isolation on, that API server takes traffic from the environment's VNet only, so this stack runs on the
environment's own agent pool, which the environment stack creates. It runs with the environment's identities,
service connections and Azure DevOps environment: it is the same environment, deployed in two steps.
"""

from typing import Final

BOOTSTRAP: Final = "bootstrap"
SHARED: Final = "shared"
ENVIRONMENTS: Final = ("dev", "qa", "prod")
CLUSTER_SUFFIX: Final = "-cluster"


def cluster_stack(environment: str) -> str:
    """The in-cluster stack of an environment."""
    return f"{environment}{CLUSTER_SUFFIX}"


CLUSTERS: Final = tuple(cluster_stack(environment) for environment in ENVIRONMENTS)


def environment_of(stack: str) -> str | None:
    """The environment an in-cluster stack belongs to; None for any other stack."""
    return stack.removesuffix(CLUSTER_SUFFIX) if stack in CLUSTERS else None


def identity_stack(stack: str) -> str:
    """The stack whose deploy and preview identities, service connections and `platform-<stack>` Azure DevOps
    environment run `stack`: its own, or its environment's for an in-cluster stack."""
    return environment_of(stack) or stack


# Stacks with identities of their own (the bootstrap stack creates them), in deploy order.
IDENTITY_STACKS: Final = (SHARED, *ENVIRONMENTS)
# What the platform's pipelines deploy, in order: each environment, then its in-cluster stack. The bootstrap
# stack is not among them: it creates the identities they deploy with, so no pipeline identity may change it.
ALL: Final = (
    SHARED,
    *(stack for environment in ENVIRONMENTS for stack in (environment, cluster_stack(environment))),
)
# Every stack, in the order they deploy: what the offline tools run and check.
EVERY: Final = (BOOTSTRAP, *ALL)


def run_by(identity: str) -> tuple[str, ...]:
    """The stacks one stack's identities run: its own, and its in-cluster stack for an environment."""
    return tuple(stack for stack in ALL if identity_stack(stack) == identity)
