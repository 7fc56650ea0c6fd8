"""Stamping projects from this repository's template, as a user does, for the tests and the benchmark."""

import ast
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import copier
from copier.errors import DirtyLocalWarning

from infra.tools import platform_json
from infra.tools.mock_run import REPO_ROOT
from tests.user_environment import user_environment

UV = REPO_ROOT / ".tools" / "bin" / "uv"


def template_constant(module: str, name: str) -> Any:
    """A constant of one of the template's modules, read from its source: the module is the package's and
    imports it, so it is not imported here."""
    source = (REPO_ROOT / "template" / "src" / "{{package_name}}" / module).read_text()
    for statement in ast.parse(source).body:
        targets = [getattr(target, "id", None) for target in getattr(statement, "targets", [])]
        if isinstance(statement, ast.Assign) and targets == [name]:
            return ast.literal_eval(statement.value)
    raise LookupError(f"no constant {name} in the template's {module}")


# The variable naming a stamped project's cache of compiled trees.
COMPILED_CACHE = template_constant("compiled.py", "CACHE_VARIABLE")
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


def copy_project(project: Path, parent: Path) -> Path:
    """A copy of a stamped project to run: `make` and git write into the project, and stamped projects
    are shared by the tests of a session."""
    return Path(shutil.copytree(project, parent / project.name, symlinks=True))


def git_init(project: Path) -> None:
    """What a user does after stamping; DVC needs it."""
    subprocess.run(["git", "init", "-q", str(project)], check=True)


def make(
    project: Path,
    *targets: str,
    venv: Path | None = None,
    compiled_cache: Path | None = None,
    timeout: int = 900,
) -> subprocess.CompletedProcess:
    """Run the project's own Makefile as a user does; `venv` puts its environment in that folder,
    `compiled_cache` its compiled trees' cache (the project's compiled.py).

    The run gets a process group of its own, stopped when `make` returns: a service worker that outlived
    its killed parent would otherwise keep running after the test."""
    command = ["make", "--no-print-directory", "-C", str(project), *targets, f"UV={UV}"]
    command += [f"VENV={venv}"] if venv else []
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**user_environment(), **({COMPILED_CACHE: str(compiled_cache)} if compiled_cache else {})},
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


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
