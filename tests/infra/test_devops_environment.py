import pytest

from infra import outputs
from infra.components.devops_environment import DevOpsEnvironment, DevOpsEnvironmentArgs, PipelineIds
from tests.infra.component_mocks import Recorder, resolve

CHECK_TYPES = {
    "approval": "azuredevops:index/checkApproval:CheckApproval",
    "branch": "azuredevops:index/checkBranchControl:CheckBranchControl",
    "lock": "azuredevops:index/checkExclusiveLock:CheckExclusiveLock",
}


PLAIN = {"resourceGroup": "rg-mlops-qa", "wsName": "mlw-mlops-qa", "location": "westeurope"}


def build(
    protected: bool,
    approvers: tuple[str, ...] = (),
    vault: str | None = "kv-mlops-qa-1a2b",
    gpu_queue: int | None = None,
) -> DevOpsEnvironment:
    return DevOpsEnvironment(
        "devops",
        DevOpsEnvironmentArgs(
            devops_project_id="project-id",
            environment_name="qa" if protected else "dev",
            variable_group_name="vg-mlops-qa",
            key_vault_name=vault,
            secret_names=outputs.VARIABLE_GROUP_VARIABLES,
            plain_variables=PLAIN,
            service_endpoint_id="endpoint-id",
            agent_queue_id=7,
            gpu_agent_queue_id=gpu_queue,
            protected=protected,
            approver_ids=list(approvers),
            platform_pipeline_ids={"deploy": 21, "pr": 22, "drift": 23},
            pipelines=[PipelineIds("credit-scoring", deploying=[11, 12], scheduled=[13], gpu=[11])],
        ),
    )


def checks(recorder: Recorder) -> dict[str, int]:
    return {name: len(recorder.of_type(type_)) for name, type_ in CHECK_TYPES.items()}


def test_variable_group_is_linked_to_key_vault_and_holds_no_values(recorder: Recorder) -> None:
    name = resolve(lambda: build(protected=False).variable_group_name)
    group = recorder.one("azuredevops:index/variableGroup:VariableGroup").inputs
    assert group["keyVault"] == {"name": "kv-mlops-qa-1a2b", "serviceEndpointId": "endpoint-id"}
    assert [v["name"] for v in group["variables"]] == list(outputs.VARIABLE_GROUP_VARIABLES)
    assert all(set(v) == {"name"} for v in group["variables"])
    assert group["allowAccess"] is False
    assert name == "vg-mlops-qa"


def test_an_unlinked_group_carries_the_names_and_no_secret(recorder: Recorder) -> None:
    resolve(lambda: build(protected=False, vault=None).variable_group_name)
    group = recorder.one("azuredevops:index/variableGroup:VariableGroup").inputs
    assert group.get("keyVault") is None
    assert {v["name"]: v["value"] for v in group["variables"]} == PLAIN
    assert not any(v.get("isSecret") for v in group["variables"])
    assert outputs.VARIABLE_APP_INSIGHTS_CONNECTION not in PLAIN


def test_unprotected_environment_has_no_checks(recorder: Recorder) -> None:
    resolve(lambda: build(protected=False).environment_id)
    assert checks(recorder) == {"approval": 0, "branch": 0, "lock": 0}


def test_protected_environment_has_approval_branch_control_and_lock(recorder: Recorder) -> None:
    environment_id = resolve(lambda: build(protected=True, approvers=("lead-id",)).environment_id)
    assert checks(recorder) == {"approval": 1, "branch": 1, "lock": 1}
    approval = recorder.one(CHECK_TYPES["approval"]).inputs
    assert approval["approvers"] == ["lead-id"]
    assert approval["requesterCanApprove"] is False
    assert approval["targetResourceType"] == "environment"
    assert approval["targetResourceId"] == str(environment_id)
    branch = recorder.one(CHECK_TYPES["branch"]).inputs
    assert branch["allowedBranches"] == "refs/heads/main"
    assert branch["verifyBranchProtection"] is True


def test_only_onboarded_and_platform_pipelines_are_authorized_and_only_deploying_ones_deploy(
    recorder: Recorder,
) -> None:
    resolve(lambda: build(protected=True, approvers=("lead-id",)).environment_id)
    authorizations = [
        a.inputs for a in recorder.of_type("azuredevops:index/pipelineAuthorization:PipelineAuthorization")
    ]
    assert {a["pipelineId"] for a in authorizations} == {11, 12, 13, 21, 22, 23}
    environment = [a for a in authorizations if a["type"] == "environment"]
    # The main and retraining pipelines deliver; the drift check only reads.
    assert sorted(a["pipelineId"] for a in environment) == [11, 12]
    # The platform's pipelines may run jobs on the environment's pool, and use nothing else of it: their
    # connections are the bootstrap stack's, and platform-<environment> is theirs.
    platform = [a for a in authorizations if a["pipelineId"] in (21, 22, 23)]
    assert {a["type"] for a in platform} == {"queue"} and {a["resourceId"] for a in platform} == {"7"}
    assert len(authorizations) == 3 * 3 + 2 + 3


def test_the_gpu_queue_is_authorised_for_the_pipelines_that_train_on_it_only(recorder: Recorder) -> None:
    resolve(lambda: build(protected=False, gpu_queue=8).environment_id)
    queues = [
        (a.inputs["pipelineId"], a.inputs["resourceId"])
        for a in recorder.of_type("azuredevops:index/pipelineAuthorization:PipelineAuthorization")
        if a.inputs["type"] == "queue"
    ]
    # The platform's pipelines run the in-cluster stack on the CPU pool, never on the GPU pool.
    assert sorted(queues) == [(11, "7"), (11, "8"), (12, "7"), (13, "7"), (21, "7"), (22, "7"), (23, "7")]


def test_check_counter_sees_a_missing_approval(recorder: Recorder) -> None:
    resolve(lambda: build(protected=False).environment_id)
    with pytest.raises(AssertionError):
        assert checks(recorder)["approval"] == 1
