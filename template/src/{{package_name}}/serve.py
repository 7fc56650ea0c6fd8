"""HTTP scoring service: POST /score for one or many records; GET /health, /ready and /metrics (Prometheus).

The model is loaded once, at start-up, from MODEL_URI (any MLflow model URI: the registry's champion
locally, a folder baked into the image in a cluster). /score is the hot path, written as plain ASGI: the
body is decoded and validated in one pass by msgspec, scored by the compiled trees (scorer.py) and
answered in the same step, and every refusal is a 4xx whose detail names the field or header at fault. The
other routes and the OpenAPI document are FastAPI's.

On SIGTERM, /ready fails at once while /score keeps answering; DRAIN_SECONDS later the server stops
accepting connections and lets in-flight requests finish (see `server.py`).
"""

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import mlflow
import msgspec
from fastapi import FastAPI, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from . import payload, scorer
from .metrics import ERROR, REFUSED, SCORED, Metrics
from .payload import MAX_RECORDS, PayloadError, Prediction, ScoreResponse
from .scorer import Model
from .settings import CHAMPION_ALIAS, DECISION_THRESHOLD, MODEL_NAME, Paths, ServerSettings

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

# A full batch of records is about 350 kB of JSON; a body past this limit is refused unread.
MAX_BODY_BYTES = 1 << 20
JSON = b"application/json"
JSON_HEADERS = [(b"content-type", JSON)]


class Refused(Exception):
    """A request answered before scoring (a 4xx, or 503 without a model); `field` names what is wrong."""

    def __init__(
        self, status: int, field: str, error: str, headers: Sequence[tuple[bytes, bytes]] = ()
    ) -> None:
        super().__init__(f"{status} {field}: {error}")
        self.status = status
        self.detail = [{"field": field, "error": error}]
        self.headers = [*JSON_HEADERS, *headers]


class ClientGone(Exception):
    """The client disconnected before its body arrived: there is no one to answer."""


def error_body(detail: list[dict[str, str]]) -> bytes:
    return payload.encode({"detail": detail})


def default_model_uri() -> str:
    return os.environ.get("MODEL_URI", f"models:/{MODEL_NAME}@{CHAMPION_ALIAS}")


def too_large() -> Refused:
    return Refused(413, "body", f"over {MAX_BODY_BYTES} bytes: send at most {MAX_RECORDS} records a request")


async def read_body(message: MutableMapping[str, Any], receive: Receive) -> bytes:
    """The request body from its first message on, refused past MAX_BODY_BYTES without reading the rest."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
        message = await receive()


class ScoringService:
    """The ASGI application: /score here, everything else (lifespan included) through FastAPI."""

    def __init__(self, model_uri: str, settings: ServerSettings) -> None:
        self.model_uri = model_uri
        self.settings = settings
        self.metrics = Metrics()
        self.model: Model | None = None
        self.draining = False
        self.api = self._api()

    @property
    def ready(self) -> bool:
        return self.model is not None and not self.draining

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """/score, answered here rather than in a coroutine of its own: awaiting one more per request costs
        about as much as validating the request's headers."""
        if scope["type"] != "http" or scope["path"] != "/score":
            await self.api(scope, receive, send)
            return
        started = time.perf_counter()
        headers = JSON_HEADERS
        probabilities: list[float] = []
        try:
            model = self._accepted(scope)
            message = await receive()
            # One message is the common case: uvicorn hands over a body that arrived in one read whole.
            if message["type"] == "http.request" and not message.get("more_body", False):
                body = message.get("body", b"")
                if len(body) > MAX_BODY_BYTES:
                    raise too_large()
            else:
                body = await read_body(message, receive)
            records = payload.decode(body)
            probabilities = scorer.score(model, records)
            outcome, status, body = SCORED, 200, self._answer(records, probabilities)
        except Refused as refusal:
            outcome, status, headers = REFUSED, refusal.status, refusal.headers
            body = error_body(refusal.detail)
        except PayloadError as error:
            outcome, status, body = REFUSED, 422, error_body(error.detail)
        except ClientGone:
            return
        except Exception:
            log.exception("scoring failed")
            outcome, status, probabilities = ERROR, 500, []
            body = error_body([{"field": "", "error": "internal error"}])
        # With its length given, the body goes out as it is, not in chunks.
        headers = [*headers, (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self.metrics.answered(outcome, time.perf_counter() - started, probabilities)

    def _accepted(self, scope: Scope) -> Model:
        """The model to score with, once the method and the headers allow it; Refused otherwise."""
        if scope["method"] != "POST":
            raise Refused(405, "method", f"{scope['method']} is not allowed: use POST", [(b"allow", b"POST")])
        if self.model is None:
            raise Refused(503, "model", "not loaded yet")
        # Names are lower case (the server sees to it). A declared length past the limit needs no check of
        # its own: reading the body stops at the limit.
        content_type = b"none"
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
        # Parameters (a charset) and letter case do not matter, and a plain one needs no parsing.
        if content_type != JSON and (content_type := content_type.split(b";", 1)[0].strip().lower()) != JSON:
            shown = content_type.decode("latin-1")
            raise Refused(415, "content-type", f"must be application/json, got {shown}")
        return self.model

    def _answer(self, records: list[Any], probabilities: list[float]) -> bytes:
        # One record, the common request, without the cost of mapping over a list.
        if len(records) == 1:
            predictions = [prediction(records[0], probabilities[0])]
        else:
            predictions = list(map(prediction, records, probabilities))
        return payload.encode(ScoreResponse(self.model_uri, predictions))

    @asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        mlflow.set_tracking_uri(Paths.from_env().tracking_uri)
        self.model = scorer.load(self.model_uri)
        log.info("model loaded from %s", self.model_uri)
        self._drain_on_sigterm()
        self.metrics.start_flushing()
        yield
        self.metrics.stop_flushing()
        self.model = None

    def _drain_on_sigterm(self) -> None:
        """Puts a drain in front of the server's own SIGTERM handler; a second SIGTERM skips the drain."""
        server_handler = signal.getsignal(signal.SIGTERM)
        # Signals reach the main thread only; a test client runs the app in another and needs no drain.
        if threading.current_thread() is not threading.main_thread() or not callable(server_handler):
            return
        loop = asyncio.get_running_loop()

        def on_sigterm() -> None:
            if self.draining:
                server_handler(signal.SIGTERM, None)
                return
            self.draining = True
            log.info("SIGTERM: not ready any more, stopping in %s s", self.settings.drain_seconds)
            loop.call_later(self.settings.drain_seconds, server_handler, signal.SIGTERM, None)

        loop.add_signal_handler(signal.SIGTERM, on_sigterm)

    def _api(self) -> FastAPI:
        api = FastAPI(title=MODEL_NAME, lifespan=self.lifespan)

        @api.get("/health")
        def health() -> dict[str, str]:
            return {"status": "ok"}

        @api.get("/ready")
        def ready() -> JSONResponse:
            content = {"ready": self.ready, "draining": self.draining, "model_uri": self.model_uri}
            return JSONResponse(status_code=200 if self.ready else 503, content=content)

        # On the event loop's thread, where the metrics are recorded (metrics.py).
        @api.get("/metrics")
        async def prometheus() -> Response:
            return Response(self.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

        def openapi() -> dict[str, Any]:
            if api.openapi_schema is None:
                document = get_openapi(title=api.title, version=api.version, routes=api.routes)
                api.openapi_schema = with_score_route(document)
            return api.openapi_schema

        api.openapi = openapi  # type: ignore[method-assign]
        return api


def prediction(record: Any, probability: float) -> Prediction:
    decision = "decline" if probability >= DECISION_THRESHOLD else "approve"
    return Prediction(record.applicant_id, probability, decision)


def with_score_route(document: dict[str, Any]) -> dict[str, Any]:
    """/score in the OpenAPI document, from the same msgspec types that decode and encode it."""
    template = "#/components/schemas/{name}"
    (request, response), components = msgspec.json.schema_components(
        [payload.Record | payload.Records, ScoreResponse], ref_template=template
    )
    error = {"description": "refused: `detail` names the field or header at fault"}
    document.setdefault("components", {}).setdefault("schemas", {}).update(components)
    document["paths"]["/score"] = {
        "post": {
            "summary": f"Probability of default of one record or a list of up to {MAX_RECORDS}",
            "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
            "responses": {
                "200": {
                    "description": "one prediction per record",
                    "content": {"application/json": {"schema": response}},
                },
                **{str(status): error for status in (413, 415, 422)},
            },
        }
    }
    return document


def create_app(model_uri: str | None = None) -> ScoringService:
    return ScoringService(model_uri or default_model_uri(), ServerSettings.from_env())
