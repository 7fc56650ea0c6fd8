"""The local pipeline, one function per step. Steps hand over through JSON files in the artifacts folder,
so each runs alone (one `make` target, one CI step) once the steps before it have run somewhere.

Each step imports what it uses inside its function: every `make` target starts a fresh interpreter, and
MLflow, pandera and scikit-learn take seconds to import that the light steps need not pay.
"""

import json
import os
import subprocess
from dataclasses import asdict
from functools import partial
from pathlib import Path

from .errors import StepFailed
from .settings import CHAMPION, MODEL_NAME, STEP_FILES, Paths


def write(paths: Paths, step: str, content: dict) -> Path:
    paths.artifacts.mkdir(parents=True, exist_ok=True)
    target = paths.artifacts / STEP_FILES[step]
    target.write_text(json.dumps(content, indent=2) + "\n")
    return target


def read(paths: Paths, step: str) -> dict:
    source = paths.artifacts / STEP_FILES[step]
    if not source.exists():
        raise StepFailed(f"{source} is missing: run `make {step}` first")
    return json.loads(source.read_text())


def source_commit() -> str:
    """Azure Pipelines names the commit; locally ask git, and say so when there is none."""
    if commit := os.environ.get("BUILD_SOURCEVERSION"):
        return commit
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "uncommitted"
    return result.stdout.strip()


def validate(paths: Paths) -> dict:
    from . import data

    frame = data.load(paths.data)
    content = {"path": str(paths.data), "version": data.data_version(paths.data), **data.profile(frame)}
    write(paths, "validate", content)
    return content


def train(paths: Paths) -> dict:
    from .train import train as train_model

    content = asdict(train_model(paths))
    write(paths, "train", content)
    return content


def evaluate(paths: Paths) -> dict:
    import mlflow

    from . import data, inference, scorer
    from .evaluate import evaluate as evaluate_model

    training = read(paths, "train")
    mlflow.set_tracking_uri(paths.tracking_uri)
    model = inference.load(training["model_uri"])
    served = partial(scorer.of_frame, scorer.load(training["model_uri"]))
    result = evaluate_model(partial(inference.predict, model), data.split(data.load(paths.data)).test, served)
    content = {
        "metrics": result.metrics,
        "approval_rates": result.approval_rates,
        "gates": [asdict(gate) for gate in result.gates],
        "passed": result.passed,
    }
    with mlflow.start_run(run_id=training["run_id"]):
        mlflow.log_metrics({f"gate_{index}": float(gate.passed) for index, gate in enumerate(result.gates)})
    write(paths, "evaluate", content)
    if not result.passed:
        raise StepFailed("quality gates failed:\n  " + "\n  ".join(gate.reason for gate in result.gates))
    return content


def register(paths: Paths) -> dict:
    import mlflow

    from . import data, registry

    training = read(paths, "train")
    if not read(paths, "evaluate")["passed"]:
        raise StepFailed("the model failed its gates: nothing to register")
    mlflow.set_tracking_uri(paths.tracking_uri)
    tags = {
        "source_commit": source_commit(),
        "data_version": training["data_version"],
        "run_id": training["run_id"],
        **{f"metric_{name}": f"{value:.4f}" for name, value in training["metrics"].items()},
    }
    decision = registry.register(training["model_uri"], data.split(data.load(paths.data)).test, tags)
    content = asdict(decision)
    write(paths, "register", content)
    return content


def card(paths: Paths) -> dict:
    from . import model_card

    registration = paths.artifacts / STEP_FILES["register"]
    text = model_card.render(
        read(paths, "validate"),
        read(paths, "train"),
        read(paths, "evaluate"),
        json.loads(registration.read_text()) if registration.exists() else None,
    )
    target = paths.artifacts / STEP_FILES["card"]
    target.write_text(text)
    return {"path": str(target)}


# Outcomes of a drift check, as the drift pipeline reads them.
DRIFT = "drift"
STABLE = "stable"


def check_drift(paths: Paths, current: Path, fail_on_drift: bool) -> dict:
    import pandas as pd
    import pandera.errors

    from . import data, drift
    from .tables import FEATURE_SCHEMA

    if not current.exists():
        raise StepFailed(f"no current records at {current}")
    try:
        records = FEATURE_SCHEMA.validate(pd.read_csv(current), lazy=True)
    except pandera.errors.SchemaErrors as errors:
        raise StepFailed(f"current records break the feature schema:\n{errors.failure_cases}") from None
    result = drift.report(data.load(paths.data), records)
    content = {
        "current": str(current),
        "threshold": result.threshold,
        "psi": result.psi,
        "drifted": result.drifted,
        "outcome": DRIFT if result.drifted else STABLE,
    }
    write(paths, "drift", content)
    if fail_on_drift and result.drifted:
        lines = [f"{name}: PSI {result.psi[name]} > {result.threshold}" for name in result.drifted]
        raise StepFailed("drift over the threshold:\n  " + "\n  ".join(lines))
    return content


def drift_outcome(paths: Paths) -> str:
    """What the last drift check found, for the pipeline: only DRIFT queues retraining."""
    return str(read(paths, "drift")["outcome"])


def serve_smoke(paths: Paths) -> dict:
    import pandas as pd

    from . import smoke

    registration = paths.artifacts / STEP_FILES["register"]
    decision = json.loads(registration.read_text()) if registration.exists() else {}
    model_uri = (
        f"models:/{MODEL_NAME}/{decision['version']}"
        if decision.get("registered")
        else read(paths, "train")["model_uri"]
    )
    content = smoke.run(model_uri, pd.read_csv(paths.data).head(3))
    write(paths, "smoke", content)
    return content


def champion_version(paths: Paths) -> str:
    """What Build_Image packs when a change needs no training: the registry's current champion."""
    import mlflow
    from mlflow import MlflowClient

    from .registry import champion_version as current

    mlflow.set_tracking_uri(paths.tracking_uri)
    version = current(MlflowClient())
    if version is None:
        raise StepFailed(f"no {CHAMPION} of {MODEL_NAME} in the registry: run the training pipeline")
    return version


def export_model(paths: Paths, version: str, target: Path) -> dict:
    """The registered model's files, for the image build (the Dockerfile copies them)."""
    import mlflow

    if not version:
        raise StepFailed("no model version: pass MODEL_VERSION=<registered version>")
    mlflow.set_tracking_uri(paths.tracking_uri)
    uri = f"models:/{MODEL_NAME}/{version}"
    mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(target))
    return {"model_uri": uri, "path": str(target)}


def summary(paths: Paths) -> str:
    rows = []
    for step in ("validate", "train", "evaluate", "register", "drift", "smoke"):
        source = paths.artifacts / STEP_FILES[step]
        content = json.loads(source.read_text()) if source.exists() else None
        rows.append((step, describe(step, content)))
    width = max(len(step) for step, _ in rows)
    return "\n".join(f"{step:<{width}}  {text}" for step, text in rows)


def describe(step: str, content: dict | None) -> str:
    if content is None:
        return "not run"
    match step:
        case "validate":
            rows, rate = content["rows"], content["default_rate"]
            return f"{rows} rows, default rate {rate}, data version {content['version'][:12]}"
        case "train":
            metrics = ", ".join(f"{k} {v:.3f}" for k, v in content["metrics"].items())
            served = f"served by the {content['scorer']} path"
            return f"on {content['device']} in {content['seconds']} s, {served}: {metrics}"
        case "evaluate":
            failed = [gate["name"] for gate in content["gates"] if not gate["passed"]]
            return "all gates passed" if not failed else "FAILED: " + ", ".join(failed)
        case "register":
            outcome = f"version {content['version']}" if content["registered"] else "kept the champion"
            return f"{outcome} ({content['reason']})"
        case "drift":
            drifted = ", ".join(content["drifted"]) or "none"
            return f"drifted features over PSI {content['threshold']}: {drifted}"
        case "smoke":
            return f"{len(content['scored'])} records scored by {content['url']}"
    return json.dumps(content)
