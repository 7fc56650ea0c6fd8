"""Start the scoring service as a real process on a free local port, score a sample request, stop it."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pandas as pd

from .schema import FEATURE_NAMES, ID

STARTUP_SECONDS = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(url: str, body: object | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_ready(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with code {process.returncode} before it was ready")
        try:
            if request(f"{base}/ready")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the service was not ready within {STARTUP_SECONDS} s")


@contextmanager
def running_service(model_uri: str, extra: Mapping[str, str] | None = None) -> Iterator[str]:
    """The service started as the container starts it, on a free local port; yields its base URL. It is
    stopped with SIGTERM, as Kubernetes stops a pod, and waited for. No drain unless `extra` sets one: the
    drain gives a load balancer time to stop routing to the pod, and no load balancer routes to this one."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = {
        "MODEL_URI": model_uri,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "warning",
        "DRAIN_SECONDS": "0",
    }
    settings.update(extra or {})
    command = [sys.executable, "-m", f"{__package__}.server"]
    process = subprocess.Popen(command, env={**os.environ, **settings})
    try:
        wait_ready(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def run(model_uri: str, sample: pd.DataFrame) -> dict:
    started = time.perf_counter()
    with running_service(model_uri) as base:
        startup = time.perf_counter() - started
        records = sample[[ID.name, *FEATURE_NAMES]].to_dict(orient="records")
        status, body = request(f"{base}/score", records)
        if status != 200:
            raise RuntimeError(f"/score answered {status}: {body.decode()}")
        metrics_status, metrics = request(f"{base}/metrics")
        return {
            "url": base,
            "startup_seconds": round(startup, 2),
            "scored": json.loads(body)["predictions"],
            "metrics_exposed": metrics_status == 200 and b"scoring_records_total" in metrics,
        }
