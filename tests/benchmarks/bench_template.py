"""Benchmark: stamping a project from the template, and the stamped project's `make all`.

    make bench-template            (or: .venv/bin/python -m tests.benchmarks.bench_template)

1. `copier copy --defaults --data-file platform.json` as a user types it (a fresh process each time),
   median of several runs. Target on a 2-core machine: under 3 s.
2. The default project's `make all` with its dependencies already installed (`make setup` first, not
   timed). The first run generates the full data set and pushes it to the local DVC remote; later runs
   start from `make clean` and pull it. Target: under 90 s.
The machine and its load average are printed with the results: other work on it slows every figure.
"""

import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from infra.tools.mock_run import REPO_ROOT
from tests.template.stamping import git_init, make, offline_platform, write_platform

STAMPS = 5
MAKE_ALLS = 3
COPIER = REPO_ROOT / ".venv" / "bin" / "copier"


def timed(command: list[str | Path], **kwargs) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kwargs)
    return time.perf_counter() - started


def timed_make(project: Path, *targets: str) -> float:
    started = time.perf_counter()
    result = make(project, *targets)
    if result.returncode != 0:
        raise SystemExit(f"make {' '.join(targets)} failed:\n{result.stdout[-4000:]}{result.stderr[-2000:]}")
    return time.perf_counter() - started


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average before: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        data_file = write_platform(offline_platform(), root / "platform.json")

        stamps = []
        for index in range(STAMPS):
            target = root / f"stamp-{index}"
            command = [COPIER, "copy", "--quiet", "--defaults", "--vcs-ref", "HEAD", "--data-file", data_file]
            stamps.append(timed([*command, REPO_ROOT, target]))
        print(
            f"stamp (copier copy, fresh process): median {statistics.median(stamps):.2f} s, "
            f"runs {', '.join(f'{s:.2f}' for s in stamps)}"
        )

        project = root / "stamp-0"
        git_init(project)
        print(f"make setup (not part of the target): {timed_make(project, 'setup'):.1f} s")
        first = timed_make(project, "all")
        again = []
        for _ in range(MAKE_ALLS - 1):
            timed_make(project, "clean")
            again.append(timed_make(project, "all"))
        print(f"make all, first run (generates and pushes the DVC data): {first:.1f} s")
        print(
            f"make all after make clean (pulls the data): median {statistics.median(again):.1f} s, "
            f"runs {', '.join(f'{s:.1f}' for s in again)}"
        )
    print(f"load average after: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
