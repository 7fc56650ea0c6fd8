"""Managed DevOps Pools in the preflight: which agent a job gets and what it starts with, the queue a pipeline
must be authorised for, and what the service and the deploying identity need when a pool is created.

Each test breaks one thing in the committed platform or a rendered project and expects the refusal; the
committed versions pass (test_findings.py, test_committed.py).
"""

import dataclasses
from pathlib import Path

import yaml

from infra import managed_devops_pools, outputs
from infra.preflight.order import check_creation_order
from infra.preflight.platform import ROLE_ASSIGNMENT, Platform
from infra.preflight.reach import HOSTED_TOOLS, agent_of
from infra.preflight.run import render
from infra.preflight.walk import Walk
from infra.tools import platform_json
from tests.preflight.support import (
    copy_tree,
    mutate,
    refused,
    slug,
    walk_rendered,
    without_dependencies,
)
from tests.preflight.test_findings import _platform_walk

POOL = managed_devops_pools.POOL
GALLERY_IMAGE = (
    "/subscriptions/00000000-0000-0000-0000-0000000000a2/resourceGroups/rg-images/providers/"
    "Microsoft.Compute/galleries/gal/images/ubuntu2404-custom"
)


def _pool_name(runs, stack: str) -> str:
    return str(runs[stack].outputs[outputs.AGENT_POOL])


def _drift_pool(project: Path, demands: list[str]) -> None:
    """The drift job's pool (prod's pool) with these demands."""
    drift = project / ".azure-pipelines" / "drift.yml"
    document = yaml.safe_load(drift.read_text())
    document["stages"][0]["jobs"][0]["pool"]["demands"] = demands
    drift.write_text(yaml.safe_dump(document, sort_keys=False))


def test_the_committed_pools_run_the_hosted_image_and_sit_in_their_vnet(runs) -> None:
    platform = Platform.from_runs(runs)
    for stack in ("dev", "qa", "prod"):
        agent = agent_of(platform, {"name": _pool_name(runs, stack)})
        assert (agent.stack, agent.tools, agent.problem) == (stack, HOSTED_TOOLS, "")
    # The GPU pool's gallery image is unknown to the preflight, and its agents are outside the VNet.
    gpu = agent_of(platform, {"name": runs["dev"].outputs[outputs.GPU_AGENT_POOL]})
    assert (gpu.stack, gpu.tools) == (None, frozenset())


def test_an_image_the_preflight_does_not_know_has_no_tools(runs, rendered) -> None:
    def on_gallery_image(resource):
        if resource.type != POOL:
            return resource
        fabric = {**resource.inputs["fabricProfile"], "images": [{"resourceId": GALLERY_IMAGE}]}
        return dataclasses.replace(resource, inputs={**resource.inputs, "fabricProfile": fabric})

    broken = mutate(runs, "qa", lambda r: True, on_gallery_image)
    problems = [e for e in refused(walk_rendered(broken, rendered["aks"])) if e.operation == "run az"]
    assert problems and all("Promote_QA" in e.stage for e in problems)
    assert all(
        f"not on pool {_pool_name(runs, 'qa')} (image ubuntu2404-custom)" in e.problem for e in problems
    )


def test_an_image_override_no_image_answers_is_refused(runs, rendered, tmp_path: Path) -> None:
    project = copy_tree(rendered["aks"], tmp_path / "project")
    _drift_pool(project, ["ImageOverride -equals ubuntu-24.04"])
    assert refused(walk_rendered(runs, project)) == []
    _drift_pool(project, ["ImageOverride -equals windows-2022"])
    problems = refused(walk_rendered(runs, project))
    assert [e.operation for e in problems] == ["get an agent"]
    assert "no image of the pool has the alias windows-2022" in problems[0].problem


def test_a_capability_demand_is_refused(runs, rendered, tmp_path: Path) -> None:
    # What the scale-set agents' jobs asked for: Managed DevOps Pools routes by ImageOverride only.
    project = copy_tree(rendered["aks"], tmp_path / "project")
    _drift_pool(project, ["cuda"])
    problems = refused(walk_rendered(runs, project))
    assert [e.operation for e in problems] == ["get an agent"]
    assert "routes jobs by ImageOverride only" in problems[0].problem


def test_gpu_sanity_training_runs_on_the_gpu_pool_it_is_authorised_for(runs, tmp_path: Path) -> None:
    document = platform_json.build({stack: run.outputs for stack, run in runs.items()})
    name = slug(runs)
    project = render(document, tmp_path / name, project_name=name, serving_target="aks", gpu_training=True)
    gpu_pool = str(runs["dev"].outputs[outputs.GPU_AGENT_POOL])
    entries = walk_rendered(runs, project)
    assert refused(entries) == []
    queue = [e for e in entries if e.stage == "Sanity_Train" and e.operation == "use agent queue"]
    assert [e.resource for e in queue] == [gpu_pool]
    broken = mutate(
        runs, "dev", lambda r: not (r.type.endswith(":PipelineAuthorization") and "-gpu0-queue" in r.name)
    )
    problems = refused(walk_rendered(broken, project))
    assert [(e.stage, e.operation) for e in problems] == [("Sanity_Train", "use agent queue")]
    assert "not authorised for queue" in problems[0].problem


def _order(runs) -> list:
    walk = Walk(Platform.from_runs(runs))
    check_creation_order(walk, runs)
    return walk.entries


def test_a_pool_created_before_the_service_may_join_its_subnet_is_refused(runs) -> None:
    (network,) = [r.urn for r in runs["qa"].of_type(ROLE_ASSIGNMENT) if r.name.endswith("-network")]
    early = mutate(
        runs, "qa", lambda r: True, lambda r: without_dependencies(r, {network}) if r.type == POOL else r
    )
    problems = refused(_order(early))
    assert {e.stack for e in problems} == {"qa"} and len(problems) == 4
    assert all("without waiting for the assignment" in e.problem for e in problems)
    assert "Microsoft.Network/virtualNetworks/subnets/join/action" in {e.operation for e in problems}
    missing = mutate(runs, "qa", lambda r: r.urn != network)
    problems = refused(_order(missing))
    assert len(problems) == 4 and all(
        "no role assignment of this stack grants it" in e.problem for e in problems
    )


def test_a_subnet_not_delegated_to_the_service_is_refused(runs) -> None:
    def undelegated(resource):
        if not resource.type.endswith(":VirtualNetwork"):
            return resource
        subnets = [{k: v for k, v in s.items() if k != "delegations"} for s in resource.inputs["subnets"]]
        return dataclasses.replace(resource, inputs={**resource.inputs, "subnets": subnets})

    problems = refused(_order(mutate(runs, "prod", lambda r: True, undelegated)))
    assert [(e.stack, e.operation) for e in problems] == [("prod", "inject agents into its subnet")]
    assert "not delegated to Managed DevOps Pools" in problems[0].problem


def test_a_gpu_pool_without_reader_on_its_image_is_refused(runs) -> None:
    broken = mutate(runs, "dev", lambda r: not (r.type == ROLE_ASSIGNMENT and r.name.endswith("-gpu-image")))
    problems = refused(_order(broken))
    assert [e.operation for e in problems] == ["Microsoft.Compute/galleries/images/read"]
    assert problems[0].resource.endswith("/images/ubuntu2404-cuda")


def test_a_deploy_identity_outside_the_organisation_cannot_create_the_pool(runs) -> None:
    broken = mutate(
        runs,
        "bootstrap",
        lambda r: not (r.type.endswith(":ServicePrincipalEntitlement") and r.name.startswith("qa-deploy")),
    )
    problems = [e for e in refused(_platform_walk(broken)) if "agent pool" in e.operation]
    assert [e.resource for e in problems] == [_pool_name(runs, "qa")]
    assert "no user of the Azure DevOps organisation" in problems[0].problem


def test_a_deploy_identity_not_delegated_the_agent_network_role_cannot_assign_it(runs) -> None:
    guid = str(runs["bootstrap"].outputs[outputs.AGENT_NETWORK_ROLE]).replace("-", "")

    def undelegated(resource):
        condition = str(resource.inputs.get("condition") or "")
        if resource.type != ROLE_ASSIGNMENT or guid not in condition:
            return resource
        inputs = {**resource.inputs, "condition": condition.replace(f", {guid}", "")}
        return dataclasses.replace(resource, inputs=inputs)

    problems = [
        e
        for e in refused(_platform_walk(mutate(runs, "bootstrap", lambda r: True, undelegated)))
        if e.pipeline == "pipelines/deploy.yml"
    ]
    assert {e.stack for e in problems} == {"dev", "qa", "prod"}
    assert all("Managed DevOps Pools agents subnet" in e.operation for e in problems)
    assert all("delegation condition" in e.problem for e in problems)


def test_the_in_cluster_stack_on_a_pool_that_keeps_its_agents_is_refused(runs) -> None:
    """A pull request previews qa-cluster on qa's pool with its own code; a pool that keeps its agents would
    hand what that job left behind to the next deployment there."""

    def stateful(resource):
        if resource.type != POOL:
            return resource
        inputs = {**resource.inputs, "agentProfile": {"kind": "Stateful"}}
        return dataclasses.replace(resource, inputs=inputs)

    assert agent_of(Platform.from_runs(runs), {"name": _pool_name(runs, "qa")}).fresh
    problems = [
        e
        for e in refused(_platform_walk(mutate(runs, "qa", lambda r: True, stateful)))
        if e.operation == "run on a machine no other job shares"
    ]
    assert problems and {e.stack for e in problems} == {"qa"}
    assert all(_pool_name(runs, "qa") in e.problem and "stateless" in e.problem for e in problems)
