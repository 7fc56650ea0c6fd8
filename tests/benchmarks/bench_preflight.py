"""Benchmark (not a test): time of `make preflight`, every stack and both serving targets, in a fresh process.

`make bench-preflight` runs `python -m infra.preflight` ROUNDS times as `make preflight` and CI do (imports,
the program under mocks for every stack, two rendered projects, every pipeline walked) and prints wall and CPU
seconds, the entry count and the machine's load. Target: under 60 s on the 2-core reference machine.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infra.tools.mock_run import REPO_ROOT

ROUNDS = 3
TARGET_SECONDS = 60


def fresh_process(out_dir: Path) -> tuple[float, float]:
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "infra.preflight", "--out-dir", str(out_dir)],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        out_dir = Path(directory)
        load_before = os.getloadavg()[0]
        figures = [fresh_process(out_dir) for _ in range(ROUNDS)]
        load_after = os.getloadavg()[0]
        entries = len(json.loads((out_dir / "preflight.json").read_text())["entries"])
    walls = [wall for wall, _ in figures]
    cpus = [cpu for _, cpu in figures]
    print(f"make preflight, fresh process, {ROUNDS} runs, {entries} entries")
    print(f"wall s: min {min(walls):.1f}  median {statistics.median(walls):.1f}  max {max(walls):.1f}")
    print(f"cpu s:  min {min(cpus):.1f}  median {statistics.median(cpus):.1f}  max {max(cpus):.1f}")
    print(
        f"load average (1 min) before/after: {load_before:.2f}/{load_after:.2f}; target < {TARGET_SECONDS} s"
    )
    return 0 if statistics.median(walls) < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
