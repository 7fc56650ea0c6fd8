"""`copier update` brings a newer template version into a project without losing the team's edits."""

import json
import os
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from copier.errors import DirtyLocalWarning

from infra.tools.mock_run import REPO_ROOT

COPIER = REPO_ROOT / ".venv" / "bin" / "copier"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}
TEAM_EDIT = "\n## Team notes\n\nOn-call rota: see the team wiki.\n"
TEMPLATE_CHANGE = "Questions about this template: ask the platform team."


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_IDENTITY},
        check=True,
    )
    return result.stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def check_update(project: Path) -> dict[str, Any]:
    command = [COPIER, "check-update", "--output-format", "json"]
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    """A git copy of this repository's working tree, tagged as a release."""
    repo = tmp_path / "template-repo"
    tracked = git(REPO_ROOT, "ls-files", "-co", "--exclude-standard").splitlines()
    for name in tracked:
        source = REPO_ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    git(repo, "init", "-q")
    commit_all(repo, "template 1.0.0")
    git(repo, "tag", "v1.0.0")
    return repo


def test_update_keeps_edits_and_brings_the_change(
    template_repo: Path, tmp_path: Path, platform: dict[str, Any]
) -> None:
    project = tmp_path / "credit-scoring"
    with warnings.catch_warnings():
        warnings.simplefilter("error", DirtyLocalWarning)
        copier.run_copy(str(template_repo), project, data=platform, defaults=True, quiet=True, unsafe=False)
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v1.0.0"
    git(project, "init", "-q")
    commit_all(project, "stamped")

    readme = project / "README.md"
    readme.write_text(readme.read_text() + TEAM_EDIT)
    commit_all(project, "team notes")

    template_readme = template_repo / "template" / "README.md.jinja"
    title, rest = template_readme.read_text().split("\n", 1)
    template_readme.write_text(f"{title}\n\n{TEMPLATE_CHANGE}\n{rest}")
    (template_repo / "template" / "SUPPORT.md").write_text(TEMPLATE_CHANGE + "\n")
    commit_all(template_repo, "template 1.1.0")
    git(template_repo, "tag", "v1.1.0")

    assert check_update(project) == {
        "update_available": True,
        "current_version": "1.0.0",
        "latest_version": "1.1.0",
    }

    copier.run_update(project, defaults=True, overwrite=True, quiet=True, unsafe=False)

    updated = readme.read_text()
    assert TEAM_EDIT.strip() in updated
    assert TEMPLATE_CHANGE in updated
    assert (project / "SUPPORT.md").exists()
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v1.1.0"
    assert "<<<<<<<" not in updated

    current = subprocess.run(
        [COPIER, "check-update"], cwd=project, capture_output=True, text=True, check=False
    )
    assert "1.1.0" not in current.stdout.replace("v1.1.0", "") or current.returncode == 0
