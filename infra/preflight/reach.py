"""Network paths: whether the agent a step runs on reaches the endpoint an operation goes to.

Control-plane operations go to Azure Resource Manager (management.azure.com), which every agent reaches
whatever the resource's network settings. These go to the resource's own endpoint instead, so they need a
network path to it (`infra/tools/exposure.py` tells which resources have one from the internet):

- data actions (blobs, Key Vault secrets, the AKS API server's Kubernetes operations);
- Azure ML operations below the workspace (jobs, MLflow runs, models, endpoints): the CLI and SDK reach
  them through the workspace's own API, which with public network access disabled answers only through
  its private endpoint ("Any clients connecting to the virtual network can access the workspace through
  the private endpoint", azure-docs machine-learning/how-to-managed-network.md; how-to-configure-private-
  link.md). Reading the workspace itself stays an ARM call.

Microsoft-hosted agents reach public endpoints only. The agents of an environment's pool sit in that
environment's VNet, which is peered with no other: they reach the environment's private endpoints and,
through its NAT gateway, every public endpoint. One rule (`network_path`) answers for every job: the projects'
steps and the platform's Pulumi runs, whose Kubernetes provider talks to a cluster's API server.

Whether an agent is fresh matters to the platform's pipelines: a pull request's preview runs the request's own
code on the agent, and a job that follows on the same machine (a deployment, holding a deploy identity) would
run whatever it left behind. Microsoft-hosted agents are a new VM for every job ("Each time you run a
pipeline, you get a fresh virtual machine for each job", azure-devops-docs pipelines/agents/hosted.md); a
scale-set pool only when it tears its VMs down after every use (scale-set-agents.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from infra.preflight.devops import queue_for_pool
from infra.preflight.platform import AGENT_POOL, Located, Platform
from infra.tools.exposure import exposure

# What Microsoft-hosted ubuntu-24.04 agents have (actions/runner-images, images/ubuntu/Ubuntu2404-Readme.md):
# the Azure CLI, kubectl, git, Python, make, curl, jq. Not kubelogin (actions/runner-images#14752, open).
HOSTED_TOOLS = frozenset({"az", "kubectl", "git", "python3", "make", "curl", "jq", "bash"})
WORKSPACE_PREFIX = "Microsoft.MachineLearningServices/workspaces/"
WORKSPACE_READ = "Microsoft.MachineLearningServices/workspaces/read"


@dataclass(frozen=True)
class Agent:
    """Where a job runs: Microsoft-hosted (stack None) or an environment's pool, in that stack's VNet."""

    label: str
    stack: str | None
    tools: frozenset[str]
    # A machine no job used before and none will use after.
    fresh: bool = True


def hosted(image: str = "ubuntu-latest") -> Agent:
    return Agent(f"Microsoft-hosted {image}", None, HOSTED_TOOLS)


HOSTED: Final = hosted()


def agent_of(platform: Platform, pool: Mapping[str, Any] | str) -> Agent:
    """The agent of a job's `pool:`: a named pool is one a stack declares, with the tools of its image."""
    name = pool if isinstance(pool, str) else pool.get("name")
    if not name:
        return hosted(pool.get("vmImage", "ubuntu-latest") if isinstance(pool, Mapping) else "ubuntu-latest")
    found = queue_for_pool(platform, str(name))
    stack = found[0] if found else None
    return Agent(f"pool {name}", stack, pool_tools(platform, str(name)), recycles(platform, str(name)))


def recycles(platform: Platform, name: str) -> bool:
    """Whether the pool of this name tears each VM down after one job."""
    return any(
        pool.inputs.get("name") == name and pool.inputs.get("recycleAfterEachUse") is True
        for _stack, pool in platform.of_type(AGENT_POOL)
    )


def pool_tools(platform: Platform, name: str) -> frozenset[str]:
    """The tools an agent of this pool starts with. A scale-set (elastic) pool runs whatever image its
    scale set names, whose tool set the preflight cannot know: the job installs what it runs there."""
    del platform, name
    return frozenset()


def uses_own_endpoint(operation: str, plane: str) -> bool:
    if plane == "data":
        return True
    return operation.startswith(WORKSPACE_PREFIX) and operation != WORKSPACE_READ


def network_path(platform: Platform, agent: Agent, located: Located) -> tuple[str, str]:
    """(how `agent` reaches the resource's own endpoint, "") or ("", why it cannot)."""
    found = exposure(platform.runs[located.stack], located.resource)
    if found is None or found.public:
        return (found.summary if found else "no endpoint of its own"), ""
    if agent.stack == located.stack and found.private_endpoints:
        return f"{agent.label} in {located.stack}'s VNet: {found.summary}", ""
    name = located.id.rsplit("/", 1)[-1]
    return "", (
        f"the job runs on {agent.label}, which has no network path to {name} "
        f"({found.summary}): run it on the {located.stack} environment's pool"
    )


def unreachable(platform: Platform, agent: Agent, located: Located, operation: str, plane: str) -> str:
    """Why `agent` cannot reach the endpoint of `operation` on `located`; "" when it can."""
    if not uses_own_endpoint(operation, plane):
        return ""
    return network_path(platform, agent, located)[1]
