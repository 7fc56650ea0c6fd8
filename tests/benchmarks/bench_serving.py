"""Benchmark and soak of the generated project's scoring service, run from this repository:

    make bench-serving      (or: make bench; or .venv/bin/python -m tests.benchmarks.bench_serving)

Stamps the default project into build/bench-serving/, then runs its own `make bench` (the service against
`mlflow models serve`, MLServer with its XGBoost runtime, azureml-inference-server-http and a bare ASGI
ceiling, with wrk; cold starts; the image's content on disk) and `make soak`,
as a user would, and copies their reports into template/bench/, where the committed figures live. The
method is in the template's bench/run.py.jinja and bench/soak.py.jinja. Needs wrk and network access to
PyPI (the project's environment and the competitors').
"""

import shutil
import sys

from infra.tools.mock_run import REPO_ROOT
from tests.template.stamping import git_init, make, offline_platform, stamp

PROJECT = REPO_ROOT / "build" / "bench-serving" / "credit-scoring"
REPORTS = ("RESULTS.md", "SOAK.md")
# Training, four virtual environments, cold starts, five servers times six cells, then a minute of soak.
TIMEOUT = 3600


def run(target: str) -> None:
    result = make(PROJECT, target, timeout=TIMEOUT)
    print(result.stdout[-3000:])
    if result.returncode != 0:
        sys.exit(f"make {target} failed:\n{result.stderr[-3000:]}")


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not on PATH: apt-get install wrk (Debian, Ubuntu) or brew install wrk (macOS)")
    shutil.rmtree(PROJECT.parent, ignore_errors=True)
    stamp(PROJECT, offline_platform())
    git_init(PROJECT)
    run("setup")
    run("bench")
    run("soak")
    for report in REPORTS:
        shutil.copyfile(PROJECT / "bench" / report, REPO_ROOT / "template" / "bench" / report)
        print(f"template/bench/{report} updated")


if __name__ == "__main__":
    main()
