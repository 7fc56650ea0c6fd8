"""Benchmark (not a test): time of the offline policy check for every committed stack.

`make bench-policy` runs `python -m infra.tools.policy_check` (all stacks) in fresh processes, as
`make policy-check` and CI do, and then the check alone in this process once the program is imported.
Target: under 10 s for the four stacks together.
"""

import resource
import statistics
import subprocess
import sys
import time

from infra.stacks import ALL
from infra.tools.mock_run import REPO_ROOT

ROUNDS = 3


def fresh_process() -> tuple[float, float]:
    """Wall and CPU seconds of one `python -m infra.tools.policy_check` run, start to exit."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "infra.tools.policy_check"], cwd=REPO_ROOT, check=True, capture_output=True
    )
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return wall, cpu


def in_process() -> dict[str, float]:
    """Seconds per stack once the program and the SDKs are imported (the first stack imports them)."""
    from infra.tools.policy_check import check_stack

    check_stack(ALL[-1])
    seconds: dict[str, float] = {}
    for stack in ALL:
        started = time.perf_counter()
        assert check_stack(stack) == [], f"stack {stack} has violations: run make policy-check"
        seconds[stack] = time.perf_counter() - started
    return seconds


def main() -> None:
    runs = [fresh_process() for _ in range(ROUNDS)]
    walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
    print(f"policy check, all {len(ALL)} stacks, fresh process, {ROUNDS} rounds:")
    print(f"  wall median {statistics.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f})")
    print(f"  cpu  median {statistics.median(cpus):.2f} s")
    seconds = in_process()
    print(
        "policy check in one warm process, per stack: "
        + ", ".join(f"{s} {t:.2f} s" for s, t in seconds.items())
    )
    print(f"  together {sum(seconds.values()):.2f} s")


if __name__ == "__main__":
    main()
