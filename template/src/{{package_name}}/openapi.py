"""The service's OpenAPI document and its /docs, from the msgspec types that decode and encode each route
(serve.py answers the routes themselves). FastAPI is imported here only, on the first request for the
documentation, so that a cold start does not pay for it."""

from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from . import invocations, oip, payload
from .payload import MAX_RECORDS
from .settings import MODEL_NAME

TEMPLATE = "#/components/schemas/{name}"


def _post(summary: str, request: Any, response: Any, errors: tuple[int, ...], schemas: dict) -> dict:
    return {
        "post": {
            "summary": summary,
            "requestBody": {"required": True, "content": {"application/json": {"schema": schemas[request]}}},
            "responses": {
                "200": {
                    "description": "scored",
                    "content": {"application/json": {"schema": schemas[response]}},
                },
                **{
                    str(status): {"description": "refused: the message names the field at fault"}
                    for status in errors
                },
            },
        }
    }


def _get(summary: str, response: Any = None, schemas: dict | None = None) -> dict:
    content = {"application/json": {"schema": schemas[response]}} if response is not None and schemas else {}
    return {"get": {"summary": summary, "responses": {"200": {"description": "ok", "content": content}}}}


def document(title: str, version: str) -> dict[str, Any]:
    types = [
        payload.Record | payload.Records,
        payload.ScoreResponse,
        oip.InferenceRequest,
        oip.InferenceResponse,
        invocations.Request,
        invocations.Response,
        oip.ModelMetadata,
        oip.ServerMetadata,
    ]
    found, components = msgspec.json.schema_components(types, ref_template=TEMPLATE)
    schemas = dict(zip(range(len(types)), found, strict=True))
    model = f"{oip.PREFIX}/models/{MODEL_NAME}"
    paths = {
        "/score": _post(
            f"Probability of one record or a list of up to {MAX_RECORDS}", 0, 1, (413, 415, 422), schemas
        ),
        f"{model}/infer": _post(
            "Open Inference Protocol v2 inference, one tensor per column", 2, 3, (400, 413, 415), schemas
        ),
        invocations.PATH: _post(
            "MLflow scoring protocol: dataframe_split or dataframe_records", 4, 5, (400, 413, 415), schemas
        ),
        model: _get("Open Inference Protocol v2 model metadata", 6, schemas),
        oip.PREFIX: _get("Open Inference Protocol v2 server metadata", 7, schemas),
        f"{model}/ready": _get("200 when the model is ready"),
        f"{oip.PREFIX}/health/live": _get("200 while the server lives"),
        f"{oip.PREFIX}/health/ready": _get("200 when ready"),
        "/health": _get("200 while the process lives"),
        "/ready": _get("200 when the model is loaded and the service is not draining"),
        "/metrics": _get("Prometheus metrics"),
    }
    base = get_openapi(title=title, version=version, routes=[])
    return {**base, "paths": paths, "components": {"schemas": components}}


def documentation() -> FastAPI:
    """The app behind /docs and /openapi.json (and the 404 of any other path)."""
    app = FastAPI(title=MODEL_NAME)
    app.openapi = lambda: document(app.title, app.version)  # type: ignore[method-assign]
    return app
