"""The production loop, offline: the service as the container runs it scores a stream of applicants that
then shifts, and writes its inference data to a local folder in Azure ML's data collector layout; the drift
step reads that folder as the drift pipeline reads the storage account's."""

import datetime
import time
from pathlib import Path

import pandas as pd

from . import inference_data, smoke
from .schema import FEATURE_NAMES, ID
from .settings import InferenceDataSettings

# Records a request: small requests, as an application scoring applicants one screen at a time sends them.
REQUEST_RECORDS = 25


def run(model_uri: str, phases: dict[str, pd.DataFrame], folder: Path) -> dict:
    """Scores each phase's records in order, then stops the service (SIGTERM: it writes what waits)."""
    where = InferenceDataSettings()
    settings = {"INFERENCE_DATA": "folder", "INFERENCE_DATA_DIR": str(folder)}
    started = time.perf_counter()
    sent: dict[str, int] = {}
    with smoke.running_service(model_uri, settings) as base:
        for phase, frame in phases.items():
            records = frame[[ID.name, *FEATURE_NAMES]].to_dict(orient="records")
            for first in range(0, len(records), REQUEST_RECORDS):
                status, body = smoke.request(f"{base}/score", records[first : first + REQUEST_RECORDS])
                if status != 200:
                    raise RuntimeError(f"/score answered {status}: {body.decode()[:300]}")
            sent[phase] = len(records)
    now = datetime.datetime.now(datetime.UTC)
    rows, _ = inference_data.read_window(folder, where.endpoint, where.deployment, days=1, now=now)
    return {
        "folder": str(folder),
        "layout": f"{where.endpoint}/{where.deployment}/<collection>/yyyy/MM/dd/HH/*.jsonl",
        "scored": sent,
        "written": len(rows),
        "seconds": round(time.perf_counter() - started, 2),
    }


def describe(content: dict) -> str:
    phases = ", then ".join(f"{count} {phase}" for phase, count in content["scored"].items())
    return f"served {phases} records; {content['written']} written to {content['folder']}"
