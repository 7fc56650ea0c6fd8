"""Write platform.json: the outputs of every stack in one document, keyed by environment.

It is the contract between the platform and the copier template: its top-level keys are template
questions, so `copier copy --data-file platform.json` answers them.

    python -m infra.tools.platform_json --out platform.json            # from the deployed stacks
    python -m infra.tools.platform_json --offline --out platform.json  # from the program under mocks
"""

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from infra import outputs
from infra.stacks import ALL, ENVIRONMENTS, SHARED
from infra.tools import resource_counts
from infra.tools.mock_run import REPO_ROOT, StackRun, run_stacks

# The stacks whose outputs platform.json holds: the in-cluster stacks export nothing the template reads.
STACKS = (SHARED, *ENVIRONMENTS)


class PlatformError(RuntimeError):
    """The stacks' outputs do not make a complete platform.json."""


def build(outputs_by_stack: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Shape the stacks' outputs into platform.json, refusing anything incomplete."""
    missing_stacks = [stack for stack in STACKS if stack not in outputs_by_stack]
    if missing_stacks:
        raise PlatformError(f"no outputs for stack(s) {', '.join(missing_stacks)}")
    required = template_keys()
    problems = [
        f"stack {stack} does not export {key!r}"
        for stack, keys in [
            (SHARED, required[outputs.PLATFORM_SHARED]),
            *((e, required[outputs.PLATFORM_ENVIRONMENTS]) for e in ENVIRONMENTS),
        ]
        for key in keys
        if key not in outputs_by_stack[stack]
    ]
    if problems:
        raise PlatformError("; ".join(problems) + " (run `pulumi up` for it first)")
    return {
        outputs.PLATFORM_SHARED: dict(outputs_by_stack[SHARED]),
        outputs.PLATFORM_ENVIRONMENTS: {env: dict(outputs_by_stack[env]) for env in ENVIRONMENTS},
    }


def template_keys() -> dict[str, list[str]]:
    """The outputs the copier template reads, as copier.yml lists them for its own check."""
    questions = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    return {
        outputs.PLATFORM_SHARED: questions["platform_shared_keys"]["default"],
        outputs.PLATFORM_ENVIRONMENTS: questions["platform_environment_keys"]["default"],
    }


def offline_runs() -> list[StackRun]:
    """Every stack the pipelines deploy, so that the resource counts show the in-cluster stacks too."""
    return list(run_stacks(ALL).values())


def deployed_outputs(pulumi: str = "pulumi") -> dict[str, dict[str, Any]]:
    """`pulumi stack output --json` of every stack (the CLI must be logged in to the state backend)."""
    executable = shutil.which(pulumi)
    if executable is None:
        raise PlatformError(
            "the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) "
            "or use --offline for the outputs of the program under mocks"
        )
    result: dict[str, dict[str, Any]] = {}
    for stack in STACKS:
        completed = subprocess.run(
            [executable, "stack", "output", "--json", "--stack", stack],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise PlatformError(f"`pulumi stack output -s {stack}` failed: {completed.stderr.strip()}")
        result[stack] = json.loads(completed.stdout)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="where to write platform.json")
    parser.add_argument("--offline", action="store_true", help="run the program under mocks, no cloud")
    args = parser.parse_args(argv)
    try:
        if args.offline:
            runs = offline_runs()
            document = build({run.stack: run.outputs for run in runs})
        else:
            document = build(deployed_outputs())
    except PlatformError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    if args.offline:
        print("Resources each stack declares (offline run of the program under Pulumi's mock runtime):\n")
        print(resource_counts.table(runs))
        print()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
