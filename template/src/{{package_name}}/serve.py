"""HTTP scoring service: /health, /ready, /metrics (Prometheus) and /score for one or many records.

The model is loaded once, at start-up, from MODEL_URI (any MLflow model URI: the registry's champion
locally, a folder baked into the image in a cluster). Requests are checked against a model derived from
the data schema, and a bad request is answered 422 with the field that is wrong.
"""

import logging
import os
import time
from collections.abc import Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import mlflow
import pandas as pd
import uvicorn
from fastapi import Body, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, TypeAdapter, ValidationError

from . import inference
from .schema import FEATURE_NAMES, ScoringRecord
from .settings import CHAMPION_ALIAS, DECISION_THRESHOLD, MODEL_NAME, Paths

log = logging.getLogger(__name__)

MAX_RECORDS = 1000
RECORDS = TypeAdapter(list[ScoringRecord])


class Prediction(BaseModel):
    applicant_id: str | None
    default_probability: float
    decision: str


class ScoreResponse(BaseModel):
    model_uri: str
    predictions: list[Prediction]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "scoring_requests", "Scoring requests by outcome", ["outcome"], registry=self.registry
        )
        self.records = Counter("scoring_records", "Records scored", registry=self.registry)
        self.latency = Histogram(
            "scoring_latency_seconds", "Time to score one request", registry=self.registry
        )
        self.probability = Histogram(
            "scoring_default_probability",
            "Predicted default probabilities: their shift is an early drift signal",
            buckets=[i / 10 for i in range(1, 11)],
            registry=self.registry,
        )


# Where the container listens: every interface of the pod (a bind address, not a host to call).
ALL_INTERFACES = "0.0.0.0"  # pragma: allowlist secret


def default_model_uri() -> str:
    return os.environ.get("MODEL_URI", f"models:/{MODEL_NAME}@{CHAMPION_ALIAS}")


def field_errors(errors: Sequence[Mapping[str, Any]], skip: int = 0) -> list[dict[str, str]]:
    """`skip` drops the leading list index when the caller sent one record rather than a list."""
    return [
        {
            "field": ".".join(str(part) for part in item["loc"][skip:] if part != "body") or "body",
            "error": item["msg"],
        }
        for item in errors
    ]


def create_app(model_uri: str | None = None) -> FastAPI:
    uri = model_uri or default_model_uri()
    metrics = Metrics()
    state: dict = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        mlflow.set_tracking_uri(Paths.from_env().tracking_uri)
        state["model"] = inference.load(uri)
        log.info("model loaded from %s", uri)
        yield
        state.clear()

    app = FastAPI(title=MODEL_NAME, lifespan=lifespan)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, error: RequestValidationError) -> JSONResponse:
        metrics.requests.labels("invalid").inc()
        return JSONResponse(status_code=422, content={"detail": field_errors(error.errors())})

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    def ready() -> JSONResponse:
        loaded = "model" in state
        return JSONResponse(status_code=200 if loaded else 503, content={"ready": loaded, "model_uri": uri})

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/score")
    def score(payload: Annotated[dict | list, Body()]) -> ScoreResponse:
        single = isinstance(payload, dict)
        items = [payload] if single else payload
        if not items or len(items) > MAX_RECORDS:
            metrics.requests.labels("invalid").inc()
            raise HTTPException(422, [{"field": "body", "error": f"send 1 to {MAX_RECORDS} records"}])
        try:
            records = RECORDS.validate_python(items)
        except ValidationError as error:
            metrics.requests.labels("invalid").inc()
            raise HTTPException(422, field_errors(error.errors(), skip=1 if single else 0)) from None
        started = time.perf_counter()
        frame = pd.DataFrame([record.model_dump() for record in records])
        probabilities = inference.predict(state["model"], frame[list(FEATURE_NAMES)])
        metrics.latency.observe(time.perf_counter() - started)
        metrics.requests.labels("scored").inc()
        metrics.records.inc(len(records))
        for probability in probabilities:
            metrics.probability.observe(float(probability))
        return ScoreResponse(
            model_uri=uri,
            predictions=[
                Prediction(
                    applicant_id=record.applicant_id,
                    default_probability=round(float(probability), 6),
                    decision="decline" if probability >= DECISION_THRESHOLD else "approve",
                )
                for record, probability in zip(records, probabilities, strict=True)
            ],
        )

    return app


def main() -> None:
    """The container's entry point; tests and `make smoke` start the service the same way."""
    uvicorn.run(
        create_app(),
        host=os.environ.get("HOST", ALL_INTERFACES),
        port=int(os.environ.get("PORT", "8080")),
        log_level=os.environ.get("LOG_LEVEL", "info"),
    )


if __name__ == "__main__":
    main()
