"""The generated scoring service starts one way only: `python -m <package>.server`, in the image and in
`make serve`; and `make serve PORT=<port>` really serves."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.template.environments import environment
from tests.template.stamping import MATRIX, UV, Case, copy_project, git_init, make
from tests.user_environment import user_environment

ENTRYPOINT = ["python", "-m", "credit_scoring.server"]
# Other ways to start an ASGI server that would bypass the entrypoint's settings.
OTHER_STARTS = re.compile(r"uvicorn (--factory|credit_scoring)|serve:create_app|-m credit_scoring\.serve\b")
DEFAULT = MATRIX[0]
STARTUP_SECONDS = 180

cases = pytest.mark.parametrize("case", MATRIX, ids=[case.id for case in MATRIX])


def dockerfile_command(project: Path) -> list[str]:
    (line,) = [line for line in (project / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")]
    return json.loads(line.removeprefix("CMD "))


def make_recipe(project: Path, target: str) -> list[str]:
    lines = (project / "Makefile").read_text().splitlines()
    start = lines.index(next(line for line in lines if line.startswith(f"{target}:")))
    return [line.strip() for line in lines[start + 1 :] if line.startswith("\t")][:1] or []


@cases
def test_the_image_and_make_serve_run_the_one_entrypoint(stamped, case: Case) -> None:
    project = stamped(case)
    assert dockerfile_command(project) == ENTRYPOINT
    assert make_recipe(project, "serve") == ["$(PY) -m credit_scoring.server"]


@cases
def test_nothing_else_starts_the_service_its_own_way(stamped, case: Case) -> None:
    project = stamped(case)
    entrypoint = project / "src" / "credit_scoring" / "server.py"
    offenders = [
        f"{path.relative_to(project)}: {match.group()}"
        for path in project.rglob("*")
        if path.is_file() and path.suffix in {".py", ".yml", ".yaml", ""} and path != entrypoint
        if ".venv" not in path.parts
        for match in [OTHER_STARTS.search(path.read_text(errors="ignore"))]
        if match
    ]
    assert not offenders


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_make_serve_serves_on_the_port_given(stamped, environments: Path, tmp_path: Path) -> None:
    project = copy_project(stamped(DEFAULT), tmp_path)
    git_init(project)
    with environment(environments, project) as venv:
        serve_and_probe(project, venv)


def serve_and_probe(project: Path, venv: Path) -> None:
    assert make(project, "setup", venv=venv).returncode == 0
    model = project / "artifacts" / "entrypoint-test-model"
    train = (
        "import sys; from pathlib import Path; from credit_scoring import data; "
        "from credit_scoring.train import fit, save_model; frame = data.load(Path('data/sample.csv')); "
        "save_model(fit(frame, 'cpu').get_booster(), frame.head(3), Path(sys.argv[1]))"
    )
    subprocess.run([venv / "bin" / "python", "-c", train, model], cwd=project, check=True)
    port = free_port()
    settings = {"MODEL_URI": str(model), "DRAIN_SECONDS": "0"}
    server = subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(project),
            "serve",
            f"PORT={port}",
            f"UV={UV}",
            f"VENV={venv}",
        ],
        env={**user_environment(), **settings},
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if get(f"{base}/ready")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        assert get(f"{base}/ready")[0] == 200
        assert b"scoring_requests_total" in get(f"{base}/metrics")[1]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


# What the compiled path must start without (scorer.py); the pyfunc path brings them itself.
TRAINING_LIBRARIES = {"mlflow", "xgboost", "pandas", "numpy", "scikit-learn", "pandera", "numba"}


def stages(project: Path) -> list[list[str]]:
    """The Dockerfile's instructions, stage by stage, continuation lines joined."""
    text = (project / "Dockerfile").read_text().replace("\\\n", " ")
    found: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("FROM "):
            found.append([])
        if line and not line.startswith("#") and found:
            found[-1].append(" ".join(line.split()))
    return found


@cases
def test_the_image_is_built_in_stages_from_the_lock(stamped, case: Case) -> None:
    build, runtime = stages(stamped(case))
    installs = [line for line in build if "pip install" in line]
    assert installs and all("--require-hashes -r requirements-" in line for line in installs)
    assert not any("pip install" in line for line in runtime)
    assert [line for line in runtime if line.startswith("USER ")] == ["USER 10001"]
    assert {line.split()[-1] for line in runtime if line.startswith("COPY --from=build")} == {
        "/opt/venv",
        "./src",
        "./model",
    }


@cases
def test_the_build_context_is_an_allowlist(stamped, case: Case) -> None:
    lines = [
        line
        for line in (stamped(case) / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"
    assert {line for line in lines if line.startswith("!")} == {
        "!requirements-serving.txt",
        "!requirements-generic.txt",
        "!src/",
        "!model/",
    }


def test_the_serving_group_holds_no_training_library(stamped) -> None:
    import tomllib

    groups = tomllib.loads((stamped(DEFAULT) / "pyproject.toml").read_text())["dependency-groups"]
    names = {re.split(r"[<>=\[ ;]", requirement, maxsplit=1)[0] for requirement in groups["serving"]}
    assert names and not names & TRAINING_LIBRARIES
