"""Command line of the local pipeline: `python -m <package> <step>`, one step per `make` target.

Each step writes its result to the artifacts folder and prints it; a failed gate exits 1 with the reason.
`steps <step> ...` runs several in one interpreter, in order, stopping at the first that fails: the same
steps, without paying MLflow's and XGBoost's imports (seconds) once per step.
"""

import argparse
import json
import logging
import sys
from pathlib import Path

from . import pipeline
from .errors import DataError, StepFailed
from .release_tag import TagError, compose
from .settings import DRIFT_WINDOW_DAYS, EXPORTED_MODEL_DIR, Paths

SIMPLE_STEPS = (
    "validate",
    "train",
    "evaluate",
    "register",
    "card",
    "retrain",
    "smoke",
    "summary",
    "champion-version",
    "drift-outcome",
    "drift-days",
    "training-data",
)


def parser() -> argparse.ArgumentParser:
    commands = argparse.ArgumentParser(prog=f"python -m {__package__}", description=__doc__.splitlines()[0])
    steps = commands.add_subparsers(dest="step", required=True)
    for name in SIMPLE_STEPS:
        steps.add_parser(name)
    several = steps.add_parser("steps", help="several of the simple steps in order, in one interpreter")
    several.add_argument("names", nargs="+", choices=SIMPLE_STEPS, metavar="STEP")
    drift = steps.add_parser("drift", help="PSI per feature and of the prediction against the training data")
    drift.add_argument(
        "--current", type=Path, required=True, help="CSV of records, or a folder of inference data"
    )
    drift.add_argument("--window-days", type=int, default=DRIFT_WINDOW_DAYS, help="of inference data")
    drift.add_argument(
        "--reference", type=Path, help="the champion's predictions on the training data (drift-reference)"
    )
    reference = steps.add_parser("drift-reference", help="the champion's predictions on the training data")
    reference.add_argument("--out", type=Path, required=True)
    drift.add_argument("--fail-on-drift", action="store_true", help="exit 1 when a feature drifted")
    stream = steps.add_parser("stream", help="serve the registered model and score a stream that then shifts")
    stream.add_argument(
        "--phase", action="append", required=True, metavar="NAME=CSV", help="records to score, in order"
    )
    stream.add_argument("--out", type=Path, required=True, help="the inference data folder")
    export = steps.add_parser("export-model", help="download a registered model version for the image")
    export.add_argument("--version", required=True)
    export.add_argument("--out", type=Path, default=Path(EXPORTED_MODEL_DIR))
    tag = steps.add_parser("release-tag", help="print the image tag of a commit and a model version")
    tag.add_argument("--commit", required=True)
    tag.add_argument("--model-version", required=True)
    return commands


def run(args: argparse.Namespace, paths: Paths) -> dict | str:
    match args.step:
        case "drift":
            return pipeline.check_drift(
                paths, args.current, args.fail_on_drift, args.window_days, args.reference
            )
        case "drift-reference":
            return pipeline.drift_reference(paths, args.out)
        case "smoke":
            return pipeline.serve_smoke(paths)
        case "stream":
            phases = dict(phase.split("=", 1) for phase in args.phase)
            return pipeline.score_stream(paths, {name: Path(csv) for name, csv in phases.items()}, args.out)
        case "summary":
            return pipeline.summary(paths)
        case "champion-version":
            return pipeline.champion_version(paths)
        case "drift-outcome":
            return pipeline.drift_outcome(paths)
        case "drift-days":
            return " ".join(pipeline.drift_days(DRIFT_WINDOW_DAYS))
        case "training-data":  # the Makefile's recipes ask here rather than repeat snapshots.py's rule
            return str(paths.data.resolve())
        case "export-model":
            return pipeline.export_model(paths, args.version, args.out)
        case "release-tag":
            return str(compose(args.commit, args.model_version))
    return getattr(pipeline, args.step)(paths)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    names = args.names if args.step == "steps" else [args.step]
    for name in names:
        step = argparse.Namespace(**{**vars(args), "step": name})
        try:
            result = run(step, Paths.from_env())
        except (StepFailed, DataError, TagError) as failure:
            print(f"{name}: {failure}", file=sys.stderr)
            return 1
        print(result if isinstance(result, str) else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
