"""Bad answers are refused with a message naming the question; good ones stamp from the CLI as documented."""

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import outputs
from infra.tools.mock_run import REPO_ROOT
from tests.template.stamping import SLUG, stamp

COPIER = REPO_ROOT / ".venv" / "bin" / "copier"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"project_name": "Credit_Scoring"}, "project_name must be a slug"),
        ({"project_name": "credit--scoring"}, "project_name must be a slug"),
        ({"description": "short"}, "description needs at least 10 characters"),
        ({"team": "X"}, "team must be a slug"),
        ({"contact": "nobody"}, "contact must be an e-mail address"),
        ({"python_version": "2.7"}, "python_version"),
        ({"serving_target": "lambda"}, "serving_target"),
        ({"data_versioning": "git-lfs"}, "data_versioning"),
        ({"quality_metric": "luck"}, "quality_metric"),
        ({"quality_min": 1.5}, r"quality_min must be in \(0, 1\]"),
        ({"champion_tolerance": -0.1}, r"champion_tolerance must be in \[0, 0.5\)"),
        ({"psi_threshold": 0}, r"psi_threshold must be in \(0, 1\]"),
        ({"retrain_schedule": "daily"}, "retrain_schedule must be five cron fields"),
        ({"retrain_schedule": "0 3 * *"}, "retrain_schedule must be five cron fields"),
        # Azure DevOps refuses these when it reads the YAML, after the project exists.
        ({"retrain_schedule": "99 99 99 99 99"}, "retrain_schedule must be five cron fields"),
        ({"drift_schedule": "0 24 * * *"}, "drift_schedule must be five cron fields"),
        ({"drift_schedule": "0 5 * * 7"}, "drift_schedule must be five cron fields"),
        ({"drift_schedule": "0 5 0 * *"}, "drift_schedule must be five cron fields"),
        ({"drift_schedule": "*/0 5 * * *"}, "drift_schedule must be five cron fields"),
        ({"drift_schedule": "30-10 5 * * *"}, "drift_schedule must be five cron fields"),
        ({"canary_weights": [10, 50]}, "ending at 100"),
        ({"canary_weights": [50, 10, 100]}, "increasing"),
        ({"canary_weights": [100]}, "ending at 100"),
    ],
)
def test_bad_answer_is_refused(tmp_path: Path, platform: dict[str, Any], answers: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        stamp(tmp_path / "project", platform, **answers)
    assert not (tmp_path / "project" / "pyproject.toml").exists()


@pytest.mark.parametrize("schedule", ["0 3 * * *", "*/15 * * * *", "0 2-5/3 1,15 1-12 1-5", "59 23 31 12 6"])
def test_azure_pipelines_schedules_are_accepted(
    tmp_path: Path, platform: dict[str, Any], schedule: str
) -> None:
    stamp(tmp_path / "project", platform, retrain_schedule=schedule, drift_schedule=schedule)
    assert f'cron: "{schedule}"' in (tmp_path / "project" / ".azure-pipelines" / "retrain.yml").read_text()


def test_a_project_that_is_not_onboarded_is_refused(tmp_path: Path, platform: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"fraud-detection is not onboarded in the shared stack.*config"):
        stamp(tmp_path / "project", platform, project_name="fraud-detection")


def test_a_project_missing_from_one_environment_is_refused(tmp_path: Path, platform: dict[str, Any]) -> None:
    broken = copy.deepcopy(platform)
    del broken[outputs.PLATFORM_ENVIRONMENTS]["qa"][outputs.PROJECTS][SLUG]
    with pytest.raises(ValueError, match=f"project {SLUG} is not onboarded in qa"):
        stamp(tmp_path / "project", broken)


def test_an_environment_missing_a_key_the_template_reads_is_refused(
    tmp_path: Path, platform: dict[str, Any]
) -> None:
    broken = copy.deepcopy(platform)
    del broken[outputs.PLATFORM_ENVIRONMENTS]["qa"][outputs.STORAGE_ACCOUNT]
    with pytest.raises(ValueError, match=f"environment qa lacks {outputs.STORAGE_ACCOUNT}"):
        stamp(tmp_path / "project", broken)


def test_a_project_entry_missing_a_key_is_refused(tmp_path: Path, platform: dict[str, Any]) -> None:
    broken = copy.deepcopy(platform)
    del broken[outputs.PLATFORM_ENVIRONMENTS]["prod"][outputs.PROJECTS][SLUG][outputs.PROJECT_NAMESPACE]
    with pytest.raises(ValueError, match=f"in prod lacks {outputs.PROJECT_NAMESPACE}"):
        stamp(tmp_path / "project", broken)


def test_gpu_training_without_a_gpu_pool_in_the_first_environment_is_refused(
    tmp_path: Path, platform: dict[str, Any]
) -> None:
    broken = copy.deepcopy(platform)
    broken[outputs.PLATFORM_ENVIRONMENTS]["dev"][outputs.GPU_AGENT_POOL] = ""
    stamp(tmp_path / "cpu", broken, gpu_training=False)
    with pytest.raises(
        ValueError, match="gpu_training runs the sanity training on the GPU agent pool of dev"
    ):
        stamp(tmp_path / "gpu", broken, gpu_training=True)


def test_an_unknown_environment_is_refused(tmp_path: Path, platform: dict[str, Any]) -> None:
    broken = copy.deepcopy(platform)
    environments = broken[outputs.PLATFORM_ENVIRONMENTS]
    environments["staging"] = environments.pop("qa")
    with pytest.raises(ValueError, match="promotes"):
        stamp(tmp_path / "project", broken)


def test_without_platform_json_the_message_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"--data-file platform\.json"):
        stamp(tmp_path / "project", {})


def test_cli_defaults_with_data_file(tmp_path: Path, platform_file: Path) -> None:
    """The README's command, verbatim but for the template's ref."""
    result = subprocess.run(
        [
            COPIER,
            "copy",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            "--data-file",
            platform_file,
            REPO_ROOT,
            tmp_path / "p",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answers = yaml.safe_load((tmp_path / "p" / ".copier-answers.yml").read_text())
    assert answers["project_name"] == SLUG
    assert answers["quality_min"] == 0.75 and answers["psi_threshold"] == 0.1
    assert answers["canary_weights"] == [10, 100] and answers["retrain_schedule"] == "0 3 * * *"
    assert "--trust" not in result.stderr
