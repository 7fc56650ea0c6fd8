"""An MLflow tracking server that answers like Azure ML's, for the tests that train, register and serve.

Azure ML's MLflow endpoint implements part of MLflow's REST API. A local MLflow server implements all of
it, so code that works against it can still fail in a workspace. This stand-in is MLflow's own tracking
server application (`mlflow.server:app`, SQLite store, proxied artifacts), served in a thread of the test
process, behind a filter that refuses what Azure ML's server does not offer, the way it refuses it (404,
empty body):

- MLflow 3's logged models (`/api/2.0/mlflow/logged-models...`): "API request to endpoint
  /api/2.0/mlflow/logged-models failed with error code 404 != 200. Response body: ''"
  (Azure/azure-sdk-for-python#44896; Azure/azureml-examples#3885 works around it);
- registered model aliases (`/api/2.0/mlflow/registered-models/alias`): not among the registry operations
  Azure ML lists for MLflow (learn.microsoft.com/azure/machine-learning/how-to-manage-models-mlflow).

Everything else is forwarded unchanged.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REFUSED = (
    "/api/2.0/mlflow/logged-models",
    "/ajax-api/2.0/mlflow/logged-models",
    "/api/2.0/mlflow/registered-models/alias",
    "/ajax-api/2.0/mlflow/registered-models/alias",
)


def refused(path: str) -> bool:
    return path.startswith(REFUSED)


def _refusing(app: Callable, refusals: list[str]) -> Callable:
    def filtered(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if refused(path):
            refusals.append(f"{environ.get('REQUEST_METHOD')} {path}")
            start_response("404 Not Found", [("Content-Length", "0")])
            return [b""]
        return app(environ, start_response)

    return filtered


@contextmanager
def azure_ml_like_server(root: Path) -> Iterator[tuple[str, list[str]]]:
    """(the tracking URI, the requests it refused so far) of a server under `root`, stopped on exit.

    `mlflow server` runs this same application under uvicorn or gunicorn after setting these variables
    (mlflow/server/__init__.py, `_run_server`); a subprocess would spend a minute and more importing its
    web stack on this machine, so the test process serves it itself. The variables' names are MLflow's
    own constants: an MLflow that renames them fails `test_the_tracking_server_refuses_...` here.
    """
    import mlflow
    from mlflow import server
    from mlflow.environment_variables import MLFLOW_REGISTRY_URI
    from mlflow.server.handlers import initialize_backend_stores
    from werkzeug.serving import make_server

    store = f"sqlite:///{root / 'mlflow.db'}"
    settings = {
        server.BACKEND_STORE_URI_ENV_VAR: store,
        server.ARTIFACT_ROOT_ENV_VAR: "mlflow-artifacts:/",
        server.ARTIFACTS_DESTINATION_ENV_VAR: str(root / "mlartifacts"),
        server.SERVE_ARTIFACTS_ENV_VAR: "true",
    }
    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    refusals: list[str] = []
    try:
        tracking_uri = mlflow.get_tracking_uri()
        initialize_backend_stores(store, store, "mlflow-artifacts:/")
        # Creating the stores points the process's tracking and registry URIs (and MLFLOW_REGISTRY_URI) at
        # the database, right for a server process and wrong for its clients here: theirs follow the
        # tracking URI they set, as in a job.
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(None)
        MLFLOW_REGISTRY_URI.unset()
        http = make_server("127.0.0.1", 0, _refusing(server.app, refusals), threaded=True)
        thread = threading.Thread(target=http.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{http.server_port}", refusals
        finally:
            http.shutdown()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
