"""Stamping projects from this repository's template, as a user does, for the tests and the benchmark."""

import hashlib
import itertools
import json
import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import copier
from copier.errors import DirtyLocalWarning

from infra.tools import platform_json
from infra.tools.mock_run import REPO_ROOT

UV = REPO_ROOT / ".tools" / "bin" / "uv"
SLUG = "credit-scoring"


@dataclass(frozen=True)
class Case:
    serving_target: str
    gpu_training: bool
    data_versioning: str

    @property
    def id(self) -> str:
        gpu = "gpu" if self.gpu_training else "cpu"
        return f"{self.serving_target}-{gpu}-{self.data_versioning}"

    @property
    def answers(self) -> dict[str, Any]:
        answers = {
            "serving_target": self.serving_target,
            "gpu_training": self.gpu_training,
            "data_versioning": self.data_versioning,
        }
        # GPU serving exists only on AKS; the matrix turns it on with GPU training.
        return {**answers, "gpu_serving": self.gpu_training} if self.serving_target == "aks" else answers


MATRIX = tuple(
    Case(*values) for values in itertools.product(("aks", "aml-endpoint"), (False, True), ("dvc", "none"))
)


def offline_platform() -> dict[str, Any]:
    """platform.json as `make platform-json` writes it: the real program under Pulumi's mocks."""
    runs = platform_json.offline_runs()
    return platform_json.build({run.stack: run.outputs for run in runs})


def write_platform(document: dict[str, Any], target: Path) -> Path:
    target.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return target


def stamp(destination: Path, platform: dict[str, Any], src: Path = REPO_ROOT, **answers: Any) -> Path:
    """`copier copy --defaults --data-file platform.json`, from the working tree (HEAD and local changes)."""
    with warnings.catch_warnings():
        # Stamping the working tree, uncommitted changes included, is the point here.
        warnings.simplefilter("ignore", DirtyLocalWarning)
        copier.run_copy(
            str(src),
            destination,
            data={**platform, **answers},
            defaults=True,
            vcs_ref="HEAD",
            quiet=True,
            unsafe=False,
        )
    return destination


def git_init(project: Path) -> None:
    """What a user does after stamping; DVC needs it."""
    subprocess.run(["git", "init", "-q", str(project)], check=True)


def make(
    project: Path, *targets: str, venv: Path | None = None, timeout: int = 900
) -> subprocess.CompletedProcess:
    """Run the project's own Makefile; `venv` reuses an environment another checkout already synced."""
    variables = [f"UV={UV}"] + ([f"VENV={venv}"] if venv else [])
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(project), *targets, *variables],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"},
        check=False,
    )


def dependency_key(project: Path) -> str:
    """Projects whose pyproject.toml match need the same environment."""
    return hashlib.sha256((project / "pyproject.toml").read_bytes()).hexdigest()


def template_text() -> str:
    """Names and contents of the template's text files as git sees them (no caches, no data)."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "template"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    texts = [f"{name}\n{(REPO_ROOT / name).read_text()}" for name in listed if not name.endswith(".csv")]
    return "\n".join(texts)
