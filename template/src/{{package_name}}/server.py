"""The one way the scoring service starts: `python -m <package>.server`, the container's command and
`make serve`'s. Settings come from the environment (settings.ServerSettings): HOST, PORT, WORKERS,
DRAIN_SECONDS, SHUTDOWN_TIMEOUT_SECONDS, KEEP_ALIVE_SECONDS, LOG_LEVEL; the model from MODEL_URI.

uvicorn with uvloop and httptools, one worker process per usable core, no access log (the Prometheus
metrics count every request) and no proxy-header rewriting (nothing here reads the client address).
"""

import copy
import logging
import logging.config
import math
import os
import sys
import tempfile
from pathlib import Path

import uvicorn
import uvicorn.config

from .metrics import MULTIPROCESS_DIR
from .settings import InferenceDataSettings, ServerSettings, SettingError

APP = f"{__package__}.serve:create_app"
CGROUP_V2_LIMIT = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")

# Loggers that write INFO lines with every telemetry export that succeeds, every few seconds: the request's
# and the answer's headers (azure-core's HttpLoggingPolicy) and "Transmission succeeded" (the exporter)
# (github.com/Azure/azure-sdk-for-python/issues/29215 and 45910). Below LOG_LEVEL=debug only their warnings
# and errors show.
EXPORT_LOGGERS = ("azure.core.pipeline.policies.http_logging_policy", "azure.monitor.opentelemetry.exporter")
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"

log = logging.getLogger(__name__)


def cpu_limit() -> float | None:
    """A container's CPU limit in cores, from cgroup v2 or v1; None where there is none."""
    try:
        if CGROUP_V2_LIMIT.exists():
            quota, period = CGROUP_V2_LIMIT.read_text().split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        quota = int(CGROUP_V1_QUOTA.read_text())
        return None if quota <= 0 else quota / int(CGROUP_V1_PERIOD.read_text())
    except (OSError, ValueError):
        return None


def usable_cores() -> int:
    """Cores this process may run on (its affinity, so `taskset` counts), capped by a CPU limit."""
    cores = len(os.sched_getaffinity(0))
    limit = cpu_limit()
    return cores if limit is None else max(1, min(cores, math.ceil(limit)))


def logging_config(level: str) -> dict:
    """uvicorn's logging configuration with the root logger's added, for the service's and the libraries'
    loggers. uvicorn applies it in every process it starts: a worker is a new interpreter (spawned) and
    inherits none of the parent's logging, so without it a worker's INFO lines (the scorer it chose, the
    inference data sink) were lost."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["formatters"]["service"] = {"format": LOG_FORMAT}
    config["handlers"]["service"] = {
        "class": "logging.StreamHandler",
        "formatter": "service",
        "stream": "ext://sys.stderr",
    }
    config["root"] = {"handlers": ["service"], "level": uvicorn.config.LOG_LEVELS[level]}
    if uvicorn.config.LOG_LEVELS[level] > logging.DEBUG:
        config["loggers"].update({name: {"level": "WARNING"} for name in EXPORT_LOGGERS})
    return config


def uvicorn_options(settings: ServerSettings) -> dict:
    return {
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers or usable_cores(),
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "on",
        "access_log": False,
        "proxy_headers": False,
        "timeout_keep_alive": settings.keep_alive_seconds,
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
        "log_level": settings.log_level,
        "log_config": logging_config(settings.log_level),
    }


def run(app: str = APP, factory: bool = True) -> None:
    """Serves `app` (an import string) as the container does; the benchmark's ceiling uses it too."""
    try:
        options = uvicorn_options(ServerSettings.from_env())
        InferenceDataSettings.from_env()
    except SettingError as error:
        sys.exit(f"server: {error}")
    logging.config.dictConfig(options["log_config"])
    # Several workers share their Prometheus counts through files, in a folder only this server uses.
    with tempfile.TemporaryDirectory(prefix="prometheus-") as metrics_dir:
        if options["workers"] > 1:
            os.environ[MULTIPROCESS_DIR] = metrics_dir
        log.info(
            "serving %s on %s:%s with %s worker(s)", app, options["host"], options["port"], options["workers"]
        )
        uvicorn.run(app, factory=factory, **options)


if __name__ == "__main__":
    run()
