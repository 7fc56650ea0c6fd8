"""Every combination of serving target, GPU training and data versioning renders a clean project whose own
checks pass as a user runs them."""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings, transient_settings

from infra.tools.mock_run import REPO_ROOT
from tests.template.stamping import MATRIX, Case, dependency_key, git_init, make

# Made by running the project, not by stamping it.
RUNTIME = {
    ".git",
    ".venv",
    ".make",
    ".pytest_cache",
    ".ruff_cache",
    "__pycache__",
    "artifacts",
    "mlartifacts",
}
# Jinja's opening delimiters; `${{` is Azure Pipelines' own template syntax and may be rendered on purpose.
JINJA = re.compile(r"(?<!\$)\{\{|\{%|\{#")
DVC_FILES = {".dvc/config", ".dvc/.gitignore", ".dvcignore", "data/full.csv.dvc", "data/.gitignore"}
# Loose on purpose: detect-secrets' YAML reader quotes the value before the filter sees the line.
DVC_DIGEST = r"\bmd5\b.*\b[0-9a-f]{32}\b"
RUFF = REPO_ROOT / ".venv" / "bin" / "ruff"

cases = pytest.mark.parametrize("case", MATRIX, ids=[case.id for case in MATRIX])


def rendered_files(project: Path) -> list[Path]:
    return sorted(
        path
        for path in project.rglob("*")
        if path.is_file() and not RUNTIME & set(path.relative_to(project).parts) and path.name != "mlflow.db"
    )


@cases
def test_conditional_files_follow_the_answers(stamped, case: Case) -> None:
    files = {path.relative_to(stamped(case)).as_posix() for path in rendered_files(stamped(case))}
    if case.data_versioning == "dvc":
        assert files >= DVC_FILES
    else:
        assert not files & DVC_FILES
    assert {
        "Makefile",
        "README.md",
        "pyproject.toml",
        "src/credit_scoring/serve.py",
        "data/sample.csv",
    } <= files


@cases
def test_no_jinja_is_left(stamped, case: Case) -> None:
    leftovers = [
        f"{path}: {match.group()}"
        for path in rendered_files(stamped(case))
        if path.suffix != ".csv"
        for match in [JINJA.search(path.read_text()) or JINJA.search(path.as_posix())]
        if match
    ]
    assert not leftovers


@cases
def test_answers_file_records_every_answer(stamped, case: Case) -> None:
    answers = yaml.safe_load((stamped(case) / ".copier-answers.yml").read_text())
    for question, value in case.answers.items():
        assert answers[question] == value
    assert answers["project_name"] == "credit-scoring"
    assert set(answers["platform_environments"]) == {"dev", "qa", "prod"}


@cases
def test_no_secret_in_any_rendered_file(stamped, case: Case) -> None:
    with default_settings() as defaults:
        settings = defaults.json()
    # DVC pointers record the data's MD5: a digest of public sample data, not a secret.
    settings["filters_used"].append(
        {"path": "detect_secrets.filters.regex.should_exclude_line", "pattern": [DVC_DIGEST]}
    )
    secrets = SecretsCollection()
    with transient_settings(settings):
        for path in rendered_files(stamped(case)):
            secrets.scan_file(str(path))
    assert not secrets.json(), json.dumps(secrets.json(), indent=2)


@cases
def test_ruff_is_clean(stamped, case: Case) -> None:
    project = stamped(case)
    for command in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        result = subprocess.run([RUFF, *command], cwd=project, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def environments() -> dict[str, Path]:
    """The first project with a given dependency set builds its own .venv, exactly as a user's `make test`
    does; later projects with the same pyproject.toml reuse it (VENV=...), each syncing its own package."""
    return {}


@cases
def test_project_tests_and_lint_pass(stamped, case: Case, environments: dict[str, Path]) -> None:
    project = stamped(case)
    git_init(project)
    key = dependency_key(project)
    shared = environments.get(key)
    result = make(project, "test", "lint", venv=shared)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    # The summary line, not any mention: a test's name or a warning may say "failed".
    summary = re.search(r"^=*\s*(?P<counts>\d+ passed.*?)(?: in [\d.]+s.*)?$", result.stdout, re.MULTILINE)
    assert summary and not re.search(r"\d+ (failed|error)", summary["counts"]), result.stdout[-3000:]
    environments.setdefault(key, project / ".venv")
