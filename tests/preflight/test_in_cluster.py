"""`pulumi up` and `pulumi preview` of the in-cluster stacks inside their environments' clusters: every
Kubernetes object is the AKS data action its identity (the environment's) must hold, the job reaches the API
server, and each way that can go wrong is refused, naming the step."""

import dataclasses
from pathlib import Path

from infra import kube_rbac, outputs, roles
from infra.preflight.platform import ROLE_ASSIGNMENT, Platform
from infra.preflight.platform_walk import walk_platform_pipelines
from infra.preflight.rbac import grants
from infra.preflight.walk import Walk
from infra.stacks import CLUSTERS, cluster_stack
from infra.tools.mock_run import DeclaredResource
from tests.preflight.support import edit, mutate, platform_copy, refused

CLUSTER = "azure-native:containerservice:ManagedCluster"
LIST_USER_CREDENTIAL = f"{kube_rbac.PREFIX}/listClusterUserCredential/action"
# What reaching into a cluster asks of an identity (not the cluster's own ARM reads and writes).
IN_CLUSTER = frozenset(
    {
        *kube_rbac.data_actions(kube_rbac.KINDS, (kube_rbac.READ, kube_rbac.WRITE)),
        kube_rbac.BIND_CLUSTER_ROLES,
        LIST_USER_CREDENTIAL,
    }
)


def _walk(runs, root: Path | None = None) -> list:
    walk = Walk(Platform.from_runs(runs))
    if root is None:
        walk_platform_pipelines(walk, runs)
    else:
        walk_platform_pipelines(walk, runs, root)
    return walk.entries


def _kubernetes_entries(entries, stack: str, command: str) -> list:
    return [
        e
        for e in entries
        if e.stack == stack and e.step == f"pulumi {command} {stack}" and e.operation in IN_CLUSTER
    ]


def test_every_object_is_its_data_action_written_by_up_and_read_by_preview(runs) -> None:
    entries = _walk(runs)
    objects = runs["dev-cluster"].kubernetes_objects()
    up = _kubernetes_entries(entries, "dev-cluster", "up")
    preview = _kubernetes_entries(entries, "dev-cluster", "preview")
    assert up and preview and all(e.ok for e in up + preview)
    assert {e.operation.rpartition("/")[2] for e in preview} == {"read", "action"}
    # The preview identity reads: its only action is listing the cluster's user credential.
    assert {e.operation for e in preview if not e.operation.endswith("/read")} == {LIST_USER_CREDENTIAL}
    assert all(e.identity.startswith("sc-mlops-platform-dev-preview") for e in preview)
    written = {e.operation for e in up if e.operation.endswith("/write")}
    assert written == {
        kube_rbac.kind_of(o.inputs["apiVersion"], o.inputs["kind"]).data_action("write") for o in objects
    }
    # Binding a project's applier to the namespace's admin role is a `bind` in that namespace.
    assert any(
        e.operation == kube_rbac.BIND_CLUSTER_ROLES and e.resource.endswith("/namespaces/credit-scoring")
        for e in up
    )


def test_up_without_the_deploy_identitys_kubernetes_role_is_refused(runs) -> None:
    broken = mutate(
        runs, "qa", lambda r: not (r.type == ROLE_ASSIGNMENT and r.name == "gitops-deploy-kube-flux")
    )
    problems = [e for e in refused(_walk(broken)) if e.stack == "qa-cluster"]
    assert problems and all(e.step == "pulumi up qa-cluster" for e in problems)
    assert {e.resource.rpartition("/namespaces/")[2] for e in problems} == {"flux-system"}
    assert {e.operation for e in problems} == {
        kube_rbac.CONFIG_MAP.data_action("write"),
        kube_rbac.GIT_REPOSITORY.data_action("write"),
        kube_rbac.KUSTOMIZATION.data_action("write"),
    }
    assert all(
        e.identity.startswith("sc-mlops-platform-qa (") and e.problem == "no role assignment grants it"
        for e in problems
    )


def test_a_preview_without_the_read_only_twin_is_refused(runs) -> None:
    broken = mutate(
        runs, "dev", lambda r: not (r.type == ROLE_ASSIGNMENT and r.name == "gitops-preview-kube-namespaces")
    )
    problems = refused(_walk(broken))
    assert problems and {e.operation for e in problems} == {kube_rbac.NAMESPACE.data_action("read")}
    assert {e.step for e in problems} == {"pulumi preview dev-cluster"}


def preview_kube_writes(runs) -> list[tuple[str, str, str]]:
    """(principal, role, data action) for every Kubernetes write, delete or bind a preview identity holds."""
    platform = Platform.from_runs(runs)
    previews = set(runs["bootstrap"].outputs[outputs.PREVIEW_PRINCIPAL_IDS].values())
    changes = [
        *kube_rbac.data_actions(kube_rbac.KINDS, (kube_rbac.WRITE, kube_rbac.DELETE)),
        kube_rbac.BIND_CLUSTER_ROLES,
    ]
    return [
        (assignment.principal, assignment.role.name, action)
        for assignment in platform.assignments
        if assignment.principal in previews
        for action in changes
        if grants(assignment.role, action, data=True)
    ]


def test_no_preview_identity_may_change_anything_in_a_cluster(runs) -> None:
    assert preview_kube_writes(runs) == []


def test_a_preview_identity_given_the_writer_is_caught(runs) -> None:
    writer = runs["bootstrap"].outputs[outputs.PLATFORM_KUBE_ROLES][roles.KUBE_FLUX.key]

    def swap(resource: DeclaredResource) -> DeclaredResource:
        if resource.name != "gitops-preview-kube-flux":
            return resource
        definition = resource.inputs["roleDefinitionId"].rpartition("/")[0] + f"/{writer}"
        return dataclasses.replace(resource, inputs={**resource.inputs, "roleDefinitionId": definition})

    broken = mutate(runs, "qa", lambda r: True, swap)
    assert {action.rpartition("/")[2] for _p, _r, action in preview_kube_writes(broken)} == {
        "write",
        "delete",
    }


def test_kubelogin_missing_from_the_job_is_refused(runs, tmp_path: Path) -> None:
    root = platform_copy(tmp_path / "platform")
    edit(root / "pipelines" / "templates" / "pulumi-steps.yml", "      make kubelogin\n", "")
    problems = [e for e in refused(_walk(runs, root)) if "kubelogin" in e.operation]
    assert problems and {e.stack for e in problems} == set(CLUSTERS)
    assert "no earlier step of the job installs it" in problems[0].problem


def test_a_private_api_server_from_a_hosted_agent_is_refused(runs) -> None:
    def private(resource: DeclaredResource) -> DeclaredResource:
        if resource.type != CLUSTER:
            return resource
        inputs = {**resource.inputs, "apiServerAccessProfile": {"enablePrivateCluster": True}}
        return dataclasses.replace(resource, inputs=inputs)

    # dev's stack file leaves isolation off, so its in-cluster stack runs on a Microsoft-hosted agent.
    broken = mutate(runs, "dev", lambda r: True, private)
    problems = [e for e in refused(_walk(broken)) if e.operation == "reach the cluster's API server"]
    assert problems and {e.stack for e in problems} == {"dev-cluster"}
    assert "Microsoft-hosted" in problems[0].problem


def _api_server_refusals(runs, root: Path) -> list:
    return [e for e in refused(_walk(runs, root)) if e.operation == "reach the cluster's API server"]


def test_the_qa_in_cluster_stack_on_a_hosted_agent_is_refused(runs, tmp_path: Path) -> None:
    root = platform_copy(tmp_path / "platform")
    jobs = root / "pipelines" / "templates" / "cluster-jobs.yml"
    edit(
        jobs, "        name: ${{ parameters.pools[parameters.environment] }}", "        vmImage: ubuntu-24.04"
    )
    problems = [e for e in _api_server_refusals(runs, root) if e.stack == cluster_stack("qa")]
    assert problems and all("Microsoft-hosted ubuntu-24.04" in e.problem for e in problems)
    assert all("run it on the qa environment's pool" in e.problem for e in problems)


def test_the_qa_in_cluster_stack_on_devs_pool_is_refused(runs, tmp_path: Path) -> None:
    root = platform_copy(tmp_path / "platform")
    jobs = root / "pipelines" / "templates" / "cluster-jobs.yml"
    edit(jobs, "${{ parameters.pools[parameters.environment] }}", "${{ parameters.pools.dev }}")
    dev_pool = runs["dev"].outputs[outputs.AGENT_POOL]
    problems = [e for e in _api_server_refusals(runs, root) if e.stack == cluster_stack("qa")]
    # dev's pool sits in dev's VNet, peered with no other: it reaches no private endpoint of qa.
    assert problems and all(f"pool {dev_pool}" in e.problem and "aks-mlops-qa" in e.problem for e in problems)


def test_an_object_of_a_kind_without_a_data_action_is_refused(runs) -> None:
    def secret(resource: DeclaredResource) -> DeclaredResource:
        if resource.inputs.get("kind") != "ConfigMap":
            return resource
        return dataclasses.replace(resource, inputs={**resource.inputs, "kind": "Secret"})

    broken = mutate(runs, "dev-cluster", lambda r: True, secret)
    problems = [e for e in refused(_walk(broken)) if e.stack == "dev-cluster"]
    assert problems and "add it to infra/kube_rbac.py" in problems[0].problem
