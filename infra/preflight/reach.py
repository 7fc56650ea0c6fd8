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

Microsoft-hosted agents reach public endpoints only. The agents of a Managed DevOps Pool injected into an
environment's subnet sit in that environment's VNet, which is peered with no other: they reach the
environment's private endpoints and, through its NAT gateway, every public endpoint. A pool that is not
injected runs on the service's own network and reaches public endpoints only. One rule (`network_path`)
answers for every job: the projects' steps and the platform's Pulumi runs, whose Kubernetes provider talks to
a cluster's API server.

Whether an agent is fresh matters to the platform's pipelines: a pull request's preview runs the request's own
code on the agent, and a job that follows on the same machine (a deployment, holding a deploy identity) would
run whatever it left behind. Microsoft-hosted agents are a new VM for every job ("Each time you run a
pipeline, you get a fresh virtual machine for each job", azure-devops-docs pipelines/agents/hosted.md); a
Managed DevOps Pool only when its agents are stateless ("Stateless: a new agent for every job",
managed-devops-pools/configure-scaling.md).

Which image an agent runs, and so which tools it starts with, is what the pool declares: a job without an
`ImageOverride` demand gets the pool's first image, one with it the image of that alias, and Managed DevOps
Pools routes by no other capability of its agents (managed-devops-pools/demands.md, configure-images.md).
An Azure Pipelines image has the Microsoft-hosted agents' software; of any other image the preflight knows
nothing, so a job there installs what it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from infra import managed_devops_pools as mdp
from infra.components.agents import STATELESS
from infra.preflight.platform import Located, Platform
from infra.tools.exposure import exposure

# What Microsoft-hosted ubuntu-24.04 agents have (actions/runner-images, images/ubuntu/Ubuntu2404-Readme.md):
# the Azure CLI, kubectl, git, Python, make, curl, jq. Not kubelogin (actions/runner-images#14752, open).
# Managed DevOps Pools' Azure Pipelines ubuntu images carry the same software (configure-images.md).
HOSTED_TOOLS = frozenset({"az", "kubectl", "git", "python3", "make", "curl", "jq", "bash"})
# Demands that set something on the agent rather than select one (demands.md).
AGENT_SETTINGS_DEMANDS = frozenset({"WorkFolder", "Priority", "ImageVersionOverride", "CustomCapabilities"})
WORKSPACE_PREFIX = "Microsoft.MachineLearningServices/workspaces/"
WORKSPACE_READ = "Microsoft.MachineLearningServices/workspaces/read"


@dataclass(frozen=True)
class Agent:
    """Where a job runs: Microsoft-hosted or a pool's agents; `stack` is the environment whose VNet they sit
    in (None: public endpoints only); `problem` says why the job would get no agent at all."""

    label: str
    stack: str | None
    tools: frozenset[str]
    problem: str = ""
    # A machine no job used before and none will use after.
    fresh: bool = True


def hosted(image: str = "ubuntu-latest") -> Agent:
    return Agent(f"Microsoft-hosted {image}", None, HOSTED_TOOLS)


HOSTED: Final = hosted()


def agent_of(platform: Platform, pool: Mapping[str, Any] | str) -> Agent:
    """The agent of a job's `pool:`: a named pool is a Managed DevOps Pool a stack declares, and its demands
    pick the image."""
    name = pool if isinstance(pool, str) else pool.get("name")
    if not name:
        return hosted(pool.get("vmImage", "ubuntu-latest") if isinstance(pool, Mapping) else "ubuntu-latest")
    found = platform.agent_pool(str(name))
    if found is None:
        return Agent(f"pool {name}", None, frozenset(), f"no stack declares a Managed DevOps Pool {name}")
    stack, resource = found
    demands = pool.get("demands", []) if isinstance(pool, Mapping) else []
    image, problem = _image(resource.inputs, [demands] if isinstance(demands, str) else list(demands))
    injected = isinstance(resource.inputs.get("fabricProfile", {}).get("networkProfile"), Mapping)
    return Agent(
        f"pool {name} ({_image_label(image)})",
        stack if injected else None,
        pool_tools(image),
        problem,
        resource.inputs.get("agentProfile", {}).get("kind") == STATELESS,
    )


def _image(inputs: Mapping[str, Any], demands: list[Any]) -> tuple[Mapping[str, Any], str]:
    """The image a job with these demands gets from the pool, and why it would get none."""
    images = inputs.get("fabricProfile", {}).get("images") or [{}]
    wanted = None
    for demand in demands:
        capability, _, value = str(demand).partition(" -equals ")
        capability = capability.strip()
        if capability == mdp.IMAGE_OVERRIDE:
            wanted = value.strip()
        elif capability not in AGENT_SETTINGS_DEMANDS:
            return images[0], (
                f"demand `{demand}`: Managed DevOps Pools routes jobs by ImageOverride only, and its agents "
                "advertise no such capability, so the job would wait for an agent that never comes"
            )
    if wanted is None:
        return images[0], ""
    for image in images:
        aliases = list(image.get("aliases") or [])
        if image.get("wellKnownImageName"):
            aliases.append(mdp.predefined_alias(str(image["wellKnownImageName"])))
        if wanted in aliases:
            return image, ""
    return images[0], f"no image of the pool has the alias {wanted} that its ImageOverride demand names"


def _image_label(image: Mapping[str, Any]) -> str:
    if image.get("wellKnownImageName"):
        return f"image {image['wellKnownImageName']}"
    return f"image {str(image.get('resourceId', '')).rpartition('/')[2]}"


def pool_tools(image: Mapping[str, Any]) -> frozenset[str]:
    """The tools an agent on this image starts with: an Azure Pipelines ubuntu image has the hosted agents'
    software; of any other image the preflight knows nothing, so the job installs what it runs there."""
    well_known = image.get("wellKnownImageName")
    if well_known and mdp.predefined_alias(str(well_known)) in mdp.AZURE_PIPELINES_UBUNTU_IMAGES:
        return HOSTED_TOOLS
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
