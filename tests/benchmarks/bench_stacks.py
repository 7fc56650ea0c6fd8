"""Benchmark: evaluating the program under Pulumi's mock runtime.

    make bench-platform            (or: .venv/bin/python -m tests.benchmarks.bench_stacks)

1. Every stack the pipelines deploy (infra/stacks.py ALL: shared, each environment and its in-cluster stack)
   in a fresh interpreter, as the tools run them (`run_stacks`: in deploy order, each run once and kept),
   then again on the plain path in the same interpreter (no kept runs, the collector's own thresholds).
2. The dev stack with 0, 10, 25 and 50 onboarded projects, to show the cost per project: each time on the
   plain path, with the stacks dev references, after one warm-up run.
Each figure is the median of several runs; the machine is printed with the results.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from infra.stacks import ALL
from infra.tools.mock_run import REPO_ROOT, copy_program

REPEATS = 3
PROJECT_COUNTS = (0, 10, 25, 50)

# Runs inside a fresh interpreter so that import costs are measured as a user pays them.
ALL_STACKS = """
import json, time
t0 = time.perf_counter()
from infra.tools.mock_run import run_stacks
from infra.stacks import ALL
t1 = time.perf_counter()
run_stacks(ALL)
t2 = time.perf_counter()
run_stacks(ALL, plain=True)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "cold": t2 - t1, "warm": t3 - t2}))
"""

ONE_STACK = """
import json, time
from infra.tools.mock_run import run_stacks
run_stacks(["dev"], plain=True)
t = time.perf_counter()
run = run_stacks(["dev"], plain=True)["dev"]
print(json.dumps({"seconds": time.perf_counter() - t, "resources": sum(r.custom for r in run.resources)}))
"""


def run_python(code: str, root: Path) -> dict:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPATH"] = str(root)
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def checkout_with_projects(count: int, into: Path) -> Path:
    root = into / f"projects-{count}"
    copy_program(root)
    project = yaml.safe_load((root / "Pulumi.yaml").read_text())
    project["config"]["projects"]["default"] = [
        {
            "slug": f"project-{index}",
            "repository": f"https://dev.azure.com/contoso/ml-platform/_git/project-{index}",
            "owners": ["owner@contoso.com"],
        }
        for index in range(count)
    ]
    (root / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    return root


def main() -> None:
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    run_python("import json, infra.program; print(json.dumps({}))", REPO_ROOT)  # warm the bytecode cache
    samples = [run_python(ALL_STACKS, REPO_ROOT) for _ in range(REPEATS)]
    median = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
    print(f"\n## The {len(ALL)} stacks ({', '.join(ALL)}), median of", REPEATS)
    print("| imports | every stack (run_stacks) | again, plain path, same process | imports + every stack |")
    print("|---:|---:|---:|---:|")
    print(
        f"| {median['import']:.2f} s | {median['cold']:.2f} s | {median['warm']:.2f} s "
        f"| {median['import'] + median['cold']:.2f} s |"
    )

    print("\n## dev (with bootstrap and shared, plain path) by onboarded projects, median of", REPEATS)
    print("| projects | resources | seconds | seconds per project over 0 |")
    print("|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as scratch:
        baseline = None
        for count in PROJECT_COUNTS:
            root = checkout_with_projects(count, Path(scratch))
            results = [run_python(ONE_STACK, root) for _ in range(REPEATS)]
            seconds = statistics.median(r["seconds"] for r in results)
            baseline = seconds if baseline is None else baseline
            per_project = f"{(seconds - baseline) / count * 1000:.0f} ms" if count else "-"
            print(f"| {count} | {results[0]['resources']} | {seconds:.2f} | {per_project} |")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
