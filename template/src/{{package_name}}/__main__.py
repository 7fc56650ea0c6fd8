"""Command line of the local pipeline: `python -m <package> <step>`, one step per `make` target.

Each step writes its result to the artifacts folder and prints it; a failed gate exits 1 with the reason."""

import argparse
import json
import logging
import sys
from pathlib import Path

from . import pipeline
from .data import DataError
from .settings import Paths


def parser() -> argparse.ArgumentParser:
    commands = argparse.ArgumentParser(prog=f"python -m {__package__}", description=__doc__)
    steps = commands.add_subparsers(dest="step", required=True)
    for name in ("validate", "train", "evaluate", "register", "card", "smoke", "summary"):
        steps.add_parser(name)
    drift = steps.add_parser("drift", help="PSI per feature of a current sample against the training data")
    drift.add_argument("--current", type=Path, required=True, help="CSV of current records")
    drift.add_argument("--fail-on-drift", action="store_true", help="exit 1 when a feature drifted")
    return commands


def run(step: str, paths: Paths, args: argparse.Namespace) -> dict | str:
    match step:
        case "drift":
            return pipeline.check_drift(paths, args.current, args.fail_on_drift)
        case "summary":
            return pipeline.summary(paths)
        case "smoke":
            return pipeline.serve_smoke(paths)
    return getattr(pipeline, step)(paths)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    paths = Paths.from_env()
    try:
        result = run(args.step, paths, args)
    except (pipeline.StepFailed, DataError) as failure:
        print(f"{args.step}: {failure}", file=sys.stderr)
        return 1
    if isinstance(result, str):
        print(result)
        return 0
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
