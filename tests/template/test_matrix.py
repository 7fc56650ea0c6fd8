"""Every combination of serving target, GPU training and data versioning renders a clean project whose own
checks pass as a user runs them."""

import contextlib
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings, transient_settings

from infra.tools.mock_run import REPO_ROOT
from tests.template.environments import environment
from tests.template.once import files_under, passes_once
from tests.template.stamping import MATRIX, Case, copy_project, git_init, make

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
# pytest's closing line: counts, then the time (`-q` prints it bare, the default between `=` rules).
SUMMARY = re.compile(r"^=* ?\d+ \w+(, \d+ \w+)* in [\d.]+s\b")
COUNT = re.compile(r"(\d+) (\w+)")

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
def test_no_secret_in_any_rendered_file(stamped, case: Case, shared: Path) -> None:
    project = stamped(case)
    with default_settings() as defaults:
        settings = defaults.json()
    # DVC pointers record the data's MD5: a digest of public sample data, not a secret.
    settings["filters_used"].append(
        {"path": "detect_secrets.filters.regex.should_exclude_line", "pattern": [DVC_DIGEST]}
    )
    found: dict[str, object] = {}

    def scan(path: Path) -> None:
        # detect-secrets reads one file at a time: a file's findings depend on its name and bytes only.
        secrets = SecretsCollection()
        secrets.scan_file(str(path))
        found.update(secrets.json())
        assert not secrets.json()

    with transient_settings(settings):
        for path in rendered_files(project):
            with contextlib.suppress(AssertionError):
                passes_once(
                    shared, "detect-secrets", files_under(project, [path]), lambda path=path: scan(path)
                )
    assert not found, json.dumps(found, indent=2)


@cases
def test_ruff_is_clean(stamped, case: Case) -> None:
    project = stamped(case)
    for command in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        result = subprocess.run([RUFF, *command], cwd=project, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def pytest_counts(output: str) -> dict[str, int]:
    """The counts of pytest's closing summary line (`121 passed, 2 warnings in 98.1s`)."""
    summary = [line for line in output.splitlines() if SUMMARY.match(line)]
    assert summary, f"no pytest summary in:\n{output[-3000:]}"
    return {word: int(count) for count, word in COUNT.findall(summary[-1])}


@cases
def test_project_tests_and_lint_pass(
    stamped, case: Case, environments: Path, shared: Path, tmp_path: Path
) -> None:
    project = copy_project(stamped(case), tmp_path)
    git_init(project)
    with environment(environments, project) as venv:
        # Every case trains the same models from the same sample: their trees are compiled once a session.
        result = make(project, "test", "lint", venv=venv, compiled_cache=shared / "compiled")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert any((shared / "compiled").glob("*.so")), "the project's builds left nothing in the cache named"
    counts = pytest_counts(result.stdout)
    assert counts.get("passed", 0) > 0 and not counts.keys() & {"failed", "error", "errors"}, counts


def test_the_summary_reader_sees_failures_not_test_names() -> None:
    output = "tests/test_x.py::test_a_failed_smoke_leaves_the_old_one_live PASSED\n3 passed in 1.0s\n"
    assert pytest_counts(output) == {"passed": 3}
    assert pytest_counts("=== 1 failed, 2 passed, 1 error in 3.2s ===") == {
        "failed": 1,
        "passed": 2,
        "error": 1,
    }
    with pytest.raises(AssertionError, match="no pytest summary"):
        pytest_counts("make: *** [test] Error 2")
