import pytest

from infra import naming
from infra.components.devops_project import DevOpsProject, DevOpsProjectArgs
from infra.components.project_pipelines import ProjectPipelines, ProjectPipelinesArgs
from tests.infra.component_mocks import Recorder, resolve


def test_existing_project_is_adopted_not_created(recorder: Recorder) -> None:
    project_id = resolve(
        lambda: DevOpsProject("devops", DevOpsProjectArgs("ml-platform", create=False)).project_id
    )
    assert project_id == "ml-platform-project-id"
    assert recorder.of_type("azuredevops:index/project:Project") == []


def test_project_is_created_and_protected_when_asked(recorder: Recorder) -> None:
    resolve(lambda: DevOpsProject("devops", DevOpsProjectArgs("ml-platform", create=True)).project_id)
    project = recorder.one("azuredevops:index/project:Project")
    assert project.inputs["name"] == "ml-platform"
    assert project.inputs["visibility"] == "private"


def build() -> ProjectPipelines:
    return ProjectPipelines(
        "project-fraud",
        ProjectPipelinesArgs(
            devops_project_id="project-id",
            slug="fraud",
            repository_name="fraud",
            pipeline_names=naming.project_pipeline_names("fraud"),
            min_reviewers=2,
            owner_ids=["owner-id"],
            build_service="subject:build-service",
            deploy_branches=["deploy/dev", "deploy/prod"],
        ),
    )


def test_main_retrain_and_drift_pipelines_point_at_the_template_files(recorder: Recorder) -> None:
    ids = resolve(lambda: build().pipeline_ids)
    assert set(ids) == set(naming.PROJECT_PIPELINE_FILES) == set(naming.project_pipeline_names("fraud"))
    definitions = {
        d.inputs["name"]: d.inputs
        for d in recorder.of_type("azuredevops:index/buildDefinition:BuildDefinition")
    }
    assert definitions["fraud"]["repository"]["ymlPath"] == "azure-pipelines.yml"
    assert definitions["fraud-retrain"]["repository"]["ymlPath"] == ".azure-pipelines/retrain.yml"
    assert definitions["fraud-drift"]["repository"]["ymlPath"] == ".azure-pipelines/drift.yml"
    assert all(d["repository"]["repoId"] == "fraud-repository-id" for d in definitions.values())


def test_main_branch_needs_reviewers_owners_and_a_green_build(recorder: Recorder) -> None:
    ids = resolve(lambda: build().pipeline_ids)
    reviewers = recorder.one("azuredevops:index/branchPolicyMinReviewers:BranchPolicyMinReviewers").inputs
    assert reviewers["settings"]["reviewerCount"] == 2 and reviewers["blocking"] is True
    assert reviewers["settings"]["submitterCanVote"] is False
    validation = recorder.one(
        "azuredevops:index/branchPolicyBuildValidation:BranchPolicyBuildValidation"
    ).inputs
    assert validation["settings"]["buildDefinitionId"] == ids["main"]
    assert validation["settings"]["scopes"][0]["repositoryRef"] == "refs/heads/main"
    owners = recorder.one("azuredevops:index/branchPolicyAutoReviewers:BranchPolicyAutoReviewers").inputs
    assert owners["settings"]["autoReviewerIds"] == ["owner-id"]


def test_pipeline_names_cover_every_pipeline_file() -> None:
    with pytest.raises(AssertionError):
        assert set(naming.project_pipeline_names("x")) == {"main"}


def test_only_the_build_service_pushes_deploy_branches_and_it_may_queue_retraining(
    recorder: Recorder,
) -> None:
    ids = resolve(lambda: build().pipeline_ids)
    permissions = [p.inputs for p in recorder.of_type("azuredevops:index/gitPermissions:GitPermissions")]
    assert {p["branchName"] for p in permissions} == {"deploy/dev", "deploy/prod"}
    service = [p for p in permissions if p["principal"] == "subject:build-service"]
    assert all(p["permissions"]["GenericContribute"] == "Allow" for p in service) and len(service) == 2
    people = [p for p in permissions if p["principal"] != "subject:build-service"]
    assert all(p["permissions"]["GenericContribute"] == "Deny" for p in people) and len(people) == 2
    # Nothing exempts anyone from main's policies.
    assert not any("PolicyExempt" in p["permissions"] for p in permissions)
    queue = recorder.one("azuredevops:index/buildDefinitionPermissions:BuildDefinitionPermissions").inputs
    assert queue["buildDefinitionId"] == str(ids["retrain"]) and queue["permissions"] == {
        "QueueBuilds": "Allow"
    }
