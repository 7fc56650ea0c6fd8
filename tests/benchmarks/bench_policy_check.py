"""Benchmark (not a test): time of the offline policy check for every committed stack.

`make bench-policy` runs `python -m infra.tools.policy_check` (all stacks) in fresh processes, as
`make policy-check` and CI do, and then the check alone in this process once the program is imported.
Target: under 10 s for the four stacks together.

`make bench-policy BASE=<checkout>` times the base checkout's check and this one's in alternating pairs
in one run (this machine is shared, so only side-by-side figures compare) and reports the median ratio.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from infra.stacks import ALL
from infra.tools.mock_run import REPO_ROOT

ROUNDS = 3


def fresh_process(root: Path = REPO_ROOT) -> tuple[float, float]:
    """Wall and CPU seconds of one `python -m infra.tools.policy_check` run of the checkout at `root`."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "infra.tools.policy_check"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=True,
        capture_output=True,
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


def side_by_side(base: Path, pairs: int) -> None:
    """Base and head alternately, each pair under the same load; the head/base ratio of each pair."""
    walls: dict[str, list[float]] = {"base": [], "head": []}
    for root in (base, REPO_ROOT):
        fresh_process(root)  # writes each checkout's bytecode cache, as every later run finds it
    for _ in range(pairs):
        for label, root in (("base", base), ("head", REPO_ROOT)):
            walls[label].append(fresh_process(root)[0])
    ratios = [head / base for base, head in zip(walls["base"], walls["head"], strict=True)]
    print(
        f"policy check, all stacks, fresh process, {pairs} alternating pairs (load {os.getloadavg()[0]:.1f}):"
    )
    for label, values in walls.items():
        median, low, high = statistics.median(values), min(values), max(values)
        print(f"  {label}: median {median:.2f} s (min {low:.2f}, max {high:.2f})")
    print(
        f"  head/base: median {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="another checkout to compare with, in alternating pairs")
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    if args.base is not None:
        side_by_side(args.base.resolve(), args.pairs)
        return
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
