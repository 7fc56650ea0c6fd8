"""The generated project's CI/CD files, for every case of the matrix, through the real validators:
Azure Pipelines' schema, Azure ML's loaders, kustomize with Kubernetes and CRD schemas, and checkov."""

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.ai.ml import (
    load_component,
    load_environment,
    load_job,
    load_online_deployment,
    load_online_endpoint,
)

from infra import outputs, telemetry
from infra.tools.file_lock import locked
from infra.tools.mock_run import REPO_ROOT
from tests.gitops.flux_render import kubernetes_version, kustomize_build
from tests.gitops.manifest_schemas import CrdSchemas, validation_errors
from tests.template.once import files_under, passes_once
from tests.template.stamping import MATRIX, SLUG, Case, stamp, template_text

CHECK_JSONSCHEMA = REPO_ROOT / ".venv" / "bin" / "check-jsonschema"
CHECKOV = REPO_ROOT / ".checkov-venv" / "bin" / "checkov"
AZURE_PIPELINES = [
    "--builtin-schema",
    "vendor.azure-pipelines",
    "--data-transform",
    "azure-pipelines",
    "--regex-variant",
    "nonunicode",
]
WORKLOAD_IDENTITY = "azure.workload.identity/client-id"

cases = pytest.mark.parametrize("case", MATRIX, ids=[case.id for case in MATRIX])
aks_cases = pytest.mark.parametrize(
    "case", [c for c in MATRIX if c.serving_target == "aks"], ids=lambda case: case.id
)


def pipeline_files(project: Path) -> list[Path]:
    return [project / "azure-pipelines.yml", *sorted((project / ".azure-pipelines").rglob("*.yml"))]


def require(tool: Path, hint: str) -> Path:
    assert tool.exists(), f"{tool} is missing: {hint}"
    return tool


@pytest.fixture(scope="module")
def crds() -> CrdSchemas:
    return CrdSchemas.load()


def overlay_objects(project: Path, environment: str) -> list[dict[str, Any]]:
    built = kustomize_build(project / "deploy" / "overlays" / environment)
    return [obj for obj in yaml.safe_load_all(built) if obj]


def one(objects: list[dict[str, Any]], kind: str, name: str = SLUG) -> dict[str, Any]:
    """The project's own object of this kind (qa and prod also run Flagger's load tester)."""
    (found,) = [obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name]
    return found


@cases
def test_pipelines_validate_against_the_azure_pipelines_schema(stamped, case: Case, shared: Path) -> None:
    project = stamped(case)
    files = pipeline_files(project)
    assert len(files) >= 8
    checker = require(CHECK_JSONSCHEMA, "run `make setup` (check-jsonschema is a dev dependency)")

    def validate() -> None:
        result = subprocess.run(
            [checker, *AZURE_PIPELINES, *files], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]

    passes_once(shared, "azure-pipelines-schema", files_under(project, files), validate)


@cases
def test_pipelines_have_the_seed_stages_and_no_secret(stamped, case: Case) -> None:
    project = stamped(case)
    text = "\n".join(path.read_text() for path in pipeline_files(project))
    for stage in (
        "Build_and_Test",
        "Sanity_Train",
        "Data_Validation",
        "Train",
        "Model_Validation",
        "Register_Model",
        "Build_Image",
        "Integration_Test",
    ):
        assert f"stage: {stage}\n" in text, stage
    main = yaml.safe_load((project / "azure-pipelines.yml").read_text())
    assert main["trigger"]["paths"]["exclude"] == ["deploy/**"]
    stages = [env["stage"] for env in main["parameters"][0]["default"]]
    assert stages == ["Deploy_Dev", "Promote_QA", "Promote_Prod"]
    # GPU sanity training names the platform's GPU pool; Managed DevOps Pools routes by no capability.
    assert ("name: ${{ parameters.environment.gpuAgentPool }}" in text) is case.gpu_training
    assert "demands" not in text
    # Every step runs a make target; no password, key or token is written into YAML.
    assert not re.search(r"(?i)(password|secret|apikey|api_key)\s*:", text)
    assert "$(System.AccessToken)" in text  # the job's own token, not a stored one


@cases
def test_aml_specs_load_with_azure_ai_ml(stamped, case: Case, platform: dict[str, Any]) -> None:
    aml = stamped(case) / "aml"
    assert load_environment(aml / "environment.yml").conda_file
    for component in ("prep", "train", "evaluate"):
        assert load_component(aml / "components" / f"{component}.yml").command
    job = load_job(aml / "pipeline.yml")
    assert set(job.jobs) == {"prep", "train", "evaluate"}
    cluster = "gpu_compute_cluster" if case.gpu_training else "cpu_compute_cluster"
    assert job.settings.default_compute.endswith(platform[outputs.PLATFORM_ENVIRONMENTS]["dev"][cluster])
    if case.serving_target == "aml-endpoint":
        assert load_online_endpoint(aml / "endpoint.yml").auth_mode == "key"
        assert load_online_deployment(aml / "deployment.yml").instance_count >= 2
    else:
        assert not (aml / "endpoint.yml").exists()


@aks_cases
def test_every_overlay_builds_and_validates(
    stamped, case: Case, crds: CrdSchemas, platform: dict[str, Any]
) -> None:
    project = stamped(case)
    environments = platform[outputs.PLATFORM_ENVIRONMENTS]
    assert sorted(path.name for path in (project / "deploy" / "overlays").iterdir()) == sorted(environments)
    for name, environment in environments.items():
        objects = overlay_objects(project, name)
        errors = [
            error for obj in objects for error in validation_errors(obj, crds, kubernetes_version(name))
        ]
        assert not errors, errors
        entry = environment[outputs.PROJECTS][SLUG]
        assert {obj["metadata"]["namespace"] for obj in objects} == {entry[outputs.PROJECT_NAMESPACE]}
        account = one(objects, "ServiceAccount")
        assert account["metadata"]["name"] == entry[outputs.PROJECT_SERVICE_ACCOUNT]
        assert (
            account["metadata"]["annotations"][WORKLOAD_IDENTITY]
            == entry[outputs.PROJECT_WORKLOAD_IDENTITY_CLIENT_ID]
        )
        # Protected environments also run Flagger's load tester (components/load-test), a Deployment too.
        (service,) = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == SLUG]
        pod = service["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == entry[outputs.PROJECT_SERVICE_ACCOUNT]
        # The production loop: inference data to the environment's storage, telemetry to its App Insights.
        env = {variable["name"]: variable["value"] for variable in pod["containers"][0]["env"]}
        assert env["INFERENCE_DATA"] == "blob"
        assert (
            env["INFERENCE_BLOB_ACCOUNT_URL"]
            == f"https://{environment[outputs.STORAGE_ACCOUNT]}.blob.core.windows.net"
        )
        assert env["INFERENCE_BLOB_PREFIX"] == telemetry.inference_data_prefix(SLUG).rstrip("/")
        assert (
            env["APPLICATIONINSIGHTS_CONNECTION_STRING"]
            == environment[outputs.APP_INSIGHTS_CONNECTION_STRING]
        )
        assert pod["containers"][0]["image"].startswith(f"{environment[outputs.ACR_LOGIN_SERVER]}/{SLUG}:")
        assert ("tolerations" in pod) is case.gpu_training
        canaries = [obj for obj in objects if obj["kind"] == "Canary"]
        assert bool(canaries) is environment[outputs.PROTECTED], name
        # Flagger creates the project's services from the Canary where the environment is protected.
        own_services = [o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == SLUG]
        assert bool(own_services) is not environment[outputs.PROTECTED]
        if canaries:
            assert canaries[0]["spec"]["analysis"]["stepWeights"] == [10]


@cases
def test_checkov_finds_nothing_but_the_listed_skips(
    stamped, case: Case, tmp_path: Path, shared: Path
) -> None:
    checkov = require(
        CHECKOV, "run `make checkov` (checkov lives in its own venv: its pins clash with Pulumi's)"
    )
    project = stamped(case)
    shutil.copy(project / "Dockerfile", tmp_path / "Dockerfile")
    # checkov's Azure Pipelines checks only look at files whose names end in azure-pipelines.yml.
    for path in pipeline_files(project):
        name = "-".join(path.relative_to(project).with_suffix("").parts).lstrip(".")
        shutil.copy(path, tmp_path / f"{name}-azure-pipelines.yml")
    if case.serving_target == "aks":
        for overlay in (project / "deploy" / "overlays").iterdir():
            (tmp_path / f"{overlay.name}.k8s.yaml").write_text(kustomize_build(overlay))
    config = project / ".checkov.yaml"
    scanned = {**files_under(tmp_path, sorted(tmp_path.iterdir())), ".checkov.yaml": config.read_bytes()}
    passes_once(shared, "checkov", scanned, lambda: after_the_first_run(shared, checkov, config, tmp_path))


def after_the_first_run(shared: Path, checkov: Path, config: Path, folder: Path) -> None:
    """run_checkov, once another run of the session has finished: the first writes the bytecode of checkov's
    modules (12 s of CPU against 6 s for a later run), and two first runs at once would both write it."""
    first = shared / "checkov-first-run"
    with locked(first):
        if not first.exists():
            run_checkov(checkov, config, folder)
            first.touch()
            return
    run_checkov(checkov, config, folder)


def run_checkov(checkov: Path, config: Path, folder: Path) -> None:
    result = subprocess.run(
        [
            checkov,
            "--skip-download",
            "--quiet",
            "--compact",
            "--config-file",
            config,
            "--framework",
            "kubernetes",
            "dockerfile",
            "azure_pipelines",
            "-d",
            folder,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    assert "Passed checks" in result.stdout or result.stdout.strip() == "", result.stdout


def test_every_checkov_skip_gives_its_reason() -> None:
    lines = (REPO_ROOT / "template" / ".checkov.yaml").read_text().splitlines()
    skips = yaml.safe_load("\n".join(lines))["skip-check"]
    assert skips
    for check in skips:
        index = next(i for i, line in enumerate(lines) if line.strip() == f"- {check}")
        assert lines[index - 1].strip().startswith("#") and len(lines[index - 1]) > 20, check


def test_pipelines_and_overlays_follow_platform_json(platform: dict[str, Any], tmp_path: Path) -> None:
    changed = copy.deepcopy(platform)
    dev = changed[outputs.PLATFORM_ENVIRONMENTS]["dev"]
    dev[outputs.ACR_NAME], dev[outputs.ACR_LOGIN_SERVER] = "crother9z9z", "crother9z9z.azurecr.io"
    dev[outputs.ACR_ID] = dev[outputs.ACR_ID].replace(dev[outputs.ACR_ID].rpartition("/")[2], "crother9z9z")
    dev[outputs.VARIABLE_GROUP] = "vg-other-dev"
    project = stamp(tmp_path / "project", changed)
    pipeline = (project / "azure-pipelines.yml").read_text()
    assert "acrName: crother9z9z" in pipeline and "variableGroup: vg-other-dev" in pipeline
    original = platform[outputs.PLATFORM_ENVIRONMENTS]["dev"]
    assert original[outputs.ACR_NAME] not in pipeline and original[outputs.VARIABLE_GROUP] not in pipeline
    overlay = (project / "deploy" / "overlays" / "dev" / "kustomization.yaml").read_text()
    assert "newName: crother9z9z.azurecr.io/credit-scoring" in overlay


def test_no_platform_name_is_written_into_the_template(platform: dict[str, Any]) -> None:
    names = {
        str(environment[key])
        for environment in platform[outputs.PLATFORM_ENVIRONMENTS].values()
        for key in (
            outputs.ACR_NAME,
            outputs.ACR_LOGIN_SERVER,
            outputs.VARIABLE_GROUP,
            outputs.SERVICE_CONNECTION,
            outputs.RESOURCE_GROUP,
            outputs.ML_WORKSPACE,
            outputs.STORAGE_ACCOUNT,
            outputs.AKS_CLUSTER,
            outputs.AGENT_POOL,
            outputs.GPU_AGENT_POOL,
            outputs.SUBSCRIPTION_ID,
            outputs.KEY_VAULT,
        )
        if environment[key]
    }
    names.add(platform[outputs.PLATFORM_SHARED][outputs.DEVOPS_ORGANIZATION_URL])
    template = template_text()
    assert not [name for name in names if name in template]


def test_the_validators_refuse_broken_files(tmp_path: Path, crds: CrdSchemas) -> None:
    """Each validator above can fail: a misspelt step, a bad Canary field, a bad deployment spec."""
    pipeline = tmp_path / "azure-pipelines.yml"
    misspelt = {"stages": [{"stage": "A", "jobs": [{"job": "B", "steps": [{"scrip": "make test"}]}]}]}
    pipeline.write_text(yaml.safe_dump(misspelt))
    checker = require(CHECK_JSONSCHEMA, "run `make setup`")
    result = subprocess.run([checker, *AZURE_PIPELINES, pipeline], capture_output=True, check=False)
    assert result.returncode != 0

    canary = {
        "apiVersion": "flagger.app/v1beta1",
        "kind": "Canary",
        "metadata": {"name": "x"},
        "spec": {"targetRef": {"kind": "Deployment", "name": "x"}, "analysis": {"stepWeights": "ten"}},
    }
    assert validation_errors(canary, crds, kubernetes_version("dev"))

    deployment = tmp_path / "deployment.yml"
    deployment.write_text("name: blue\nendpoint_name: e\ninstance_count: many\n")
    with pytest.raises(Exception, match="instance_count"):
        load_online_deployment(deployment)


# Every variable a delivery target reads, with a stand-in value, so `make -n` can resolve each target.
DELIVERY_VARIABLES = (
    "RESOURCE_GROUP", "WORKSPACE", "ACR", "TAG", "SOURCE_COMMIT", "MODEL_VERSION", "SOURCE_IMAGE",
    "ENVIRONMENT", "BRANCH", "AKS_CLUSTER", "NAMESPACE", "CANARY", "ENDPOINT", "IMAGE", "SUBSCRIPTION",
    "STORAGE_ACCOUNT", "CONTAINER", "RETRAIN_PIPELINE_ID", "DEVOPS_ORGANIZATION", "DEVOPS_PROJECT",
)  # fmt: skip
MAKE_CALL = re.compile(r"\bmake (?:--silent )?((?:[a-z][a-z0-9-]*(?: |$))+)", re.MULTILINE)


@cases
def test_every_make_target_a_pipeline_calls_exists(stamped, case: Case) -> None:
    project = stamped(case)
    text = "\n".join(path.read_text() for path in pipeline_files(project))
    targets = {target for match in MAKE_CALL.finditer(text) for target in match.group(1).split()}
    assert {"lint", "test", "validate", "build-image", "drift-gate"} <= targets
    for target in sorted(targets):
        stand_ins = [f"{name}=x" for name in DELIVERY_VARIABLES]
        command = ["make", "--dry-run", "-C", project, target, *stand_ins]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"make {target}: {result.stderr}"
    for script in (project / "scripts").glob("*.sh"):
        assert subprocess.run(["bash", "-n", script], check=False).returncode == 0, script
