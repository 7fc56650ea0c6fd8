"""HTTP scoring service: three protocols over one model, plus health, readiness and Prometheus metrics.

- `POST /score`: the project's JSON, one record or a list (payload.py).
- The Open Inference Protocol v2 (oip.py): `GET /v2`, `/v2/health/live`, `/v2/health/ready`,
  `/v2/models/<name>`, `/v2/models/<name>/ready`, `POST /v2/models/<name>/infer`.
- MLflow's scoring protocol: `POST /invocations` with `dataframe_split` or `dataframe_records`.
- `GET /health`, `/ready`, `/metrics`; `/docs` and `/openapi.json` (FastAPI, imported on first use).

The model is loaded once, at start-up, from MODEL_URI (a model folder, the image's; or any MLflow URI,
the registry's champion locally) by scorer.py, which picks the compiled trees or the pyfunc and logs its
choice. Every route is answered here, in plain ASGI from one route table (ROUTES): the measured exception
to FastAPI routes (bench/RESULTS.md: a FastAPI route costs more than everything else a request does, and
importing FastAPI is half of a cold start). The same msgspec types that decode and encode each route make
its OpenAPI document (openapi.py). Every refusal is a 4xx in its protocol's own error format whose message
names the field or header at fault.

On SIGTERM, /ready fails at once while requests are still answered; DRAIN_SECONDS later the server stops
accepting connections and lets in-flight requests finish (see `server.py`).
"""

import asyncio
import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from . import invocations, oip, payload, scorer
from .events import Scored
from .metrics import CONTENT_TYPE, ERROR, REFUSED, SCORED, Metrics
from .payload import MAX_RECORDS, PayloadError
from .settings import CHAMPION, MODEL_NAME, PROJECT, InferenceDataSettings, Paths, ServerSettings

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

# While the production loop's threads (the inference data writer, the telemetry exporters) run, a request
# waits up to the interpreter's switch interval for the lock they hold: 5 ms by default, 1 ms with the loop
# on (bench/LOOP-inference-telemetry.md: p99 10.9 ms -> 7.9 ms at concurrency 8, throughput unchanged).
LOOP_SWITCH_SECONDS = 0.001
# A full batch of records is about 350 kB of JSON; a body past this limit is refused unread.
MAX_BODY_BYTES = 1 << 20
JSON = b"application/json"
JSON_HEADERS = [(b"content-type", JSON)]
REQUEST_ID = b"x-request-id"
MODEL_PATH = f"{oip.PREFIX}/models/{MODEL_NAME}"


class Refused(Exception):
    """A request answered before scoring (a 4xx, or 503 without a model); `field` names what is wrong."""

    def __init__(
        self, status: int, field: str, error: str, headers: Sequence[tuple[bytes, bytes]] = ()
    ) -> None:
        super().__init__(f"{status} {field}: {error}")
        self.status = status
        self.field = field
        self.error = error
        self.headers = [*JSON_HEADERS, *headers]


class ClientGone(Exception):
    """The client disconnected before its body arrived: there is no one to answer."""


def score_error(detail: list[dict[str, str]]) -> bytes:
    return payload.encode({"detail": detail})


def too_large() -> Refused:
    return Refused(413, "body", f"over {MAX_BODY_BYTES} bytes: send at most {MAX_RECORDS} records a request")


def default_model_uri() -> str:
    """MODEL_URI, or else the registry's champion, looked up when the service starts."""
    return os.environ.get("MODEL_URI", CHAMPION)


def champion_model_uri() -> str:
    from mlflow import MlflowClient

    from .registry import champion_uri

    uri = champion_uri(MlflowClient())
    if uri is None:
        raise RuntimeError(f"no {CHAMPION} of {MODEL_NAME} in the registry: register one or set MODEL_URI")
    return uri


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


@dataclass(frozen=True)
class Protocol:
    """How one scoring route reads a body and writes its answer and its refusals."""

    # From the body to (answer, records, the records' and the predictions' JSON where the answer had them);
    # the records' probabilities and decisions come in as lists to fill.
    answer: Callable[[bytes, list[float], list[str]], tuple[bytes, list[Any], bytes | None, bytes | None]]
    # The status of a body that cannot be scored, and the protocol's error body for (field, error).
    unscorable: int
    error_body: Callable[[str, str], bytes]
    # Triton's client sends its JSON without a content type; the protocol's body is JSON whatever it says.
    untyped_is_json: bool = False


class ScoringService:
    """The ASGI application (lifespan included)."""

    def __init__(
        self,
        model_uri: str,
        settings: ServerSettings,
        inference: InferenceDataSettings | None = None,
    ) -> None:
        self.model_uri = model_uri
        self.settings = settings
        self.inference_settings = inference or InferenceDataSettings()
        # The production loop (started with the model): inference data and, where configured, telemetry.
        self.inference: Any = None
        self.telemetry: Any = None
        self.metrics = Metrics()
        self.scorer: scorer.Scorer | None = None
        self.draining = False
        # The production loop's hook: called after each scored answer is sent, on the event loop; it must
        # only hand the event off (a bounded queue), never block.
        self.on_scored: Callable[[Scored], None] | None = None
        # Telemetry's hook: every answered scoring request (path, status, start and end in perf_counter
        # seconds), on the event loop; it only records.
        self.on_answered: Callable[[str, int, float, float], None] | None = None
        self._docs: Any = None
        # /score's answer up to its predictions; made again when start() resolves the champion's URI.
        self.score_head = payload.score_response_head(model_uri)
        # The interpreter's switch interval before the production loop changed it, restored on stop.
        self._switch_interval: float | None = None
        self.posts: dict[str, Protocol] = {
            "/score": Protocol(
                self._score, 422, lambda field, error: score_error([{"field": field, "error": error}])
            ),
            f"{MODEL_PATH}/infer": Protocol(
                self._infer,
                400,
                lambda field, error: oip.error_body(f"{field}: {error}"),
                untyped_is_json=True,
            ),
            invocations.PATH: Protocol(
                self._invocations, 400, lambda field, error: invocations.error_body(f"{field}: {error}")
            ),
        }
        self.gets: dict[str, Callable[[], tuple[int, bytes, bytes]]] = {
            "/health": lambda: (200, JSON, b'{"status":"ok"}'),
            "/ready": self._ready,
            "/metrics": lambda: (200, CONTENT_TYPE.encode(), self.metrics.exposition()),
            oip.PREFIX: self._server_metadata,
            f"{oip.PREFIX}/health/live": lambda: (200, JSON, b'{"live":true}'),
            f"{oip.PREFIX}/health/ready": lambda: (
                200 if self.ready else 503,
                JSON,
                payload.encode({"ready": self.ready}),
            ),
            MODEL_PATH: self._model_metadata,
            f"{MODEL_PATH}/ready": lambda: (
                200 if self.ready else 503,
                JSON,
                payload.encode({"name": MODEL_NAME, "ready": self.ready}),
            ),
        }

    @property
    def ready(self) -> bool:
        return self.scorer is not None and not self.draining

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if (protocol := self.posts.get(path)) is not None:
                await self._post(protocol, scope, receive, send)
            elif (get := self.gets.get(path)) is not None:
                await self._get(get, scope, send)
            else:
                await self._other(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _post(self, protocol: Protocol, scope: Scope, receive: Receive, send: Send) -> None:
        """A scoring request, answered here rather than in a coroutine of its own: awaiting one more per
        request costs about as much as validating the request's headers."""
        started = time.perf_counter()
        headers = JSON_HEADERS
        probabilities: list[float] = []
        decisions: list[str] = []
        records: list[Any] = []
        inputs = outputs = request_id = None
        try:
            request_id = self._accepted(scope, JSON if protocol.untyped_is_json else b"none")
            message = await receive()
            # One message is the common case: uvicorn hands over a body that arrived in one read whole.
            if message["type"] == "http.request" and not message.get("more_body", False):
                body = message.get("body", b"")
                if len(body) > MAX_BODY_BYTES:
                    raise too_large()
            else:
                body = await read_body(message, receive)
            body, records, inputs, outputs = protocol.answer(body, probabilities, decisions)
            outcome, status = SCORED, 200
        except Refused as refusal:
            outcome, status, headers = REFUSED, refusal.status, refusal.headers
            body = protocol.error_body(refusal.field, refusal.error)
        except PayloadError as error:
            (detail,) = error.detail
            outcome, status, body = (
                REFUSED,
                protocol.unscorable,
                protocol.error_body(detail["field"], detail["error"]),
            )
        except ClientGone:
            return
        except Exception:
            log.exception("scoring failed")
            outcome, status, probabilities = ERROR, 500, []
            body = protocol.error_body("", "internal error")
        # With its length given, the body goes out as it is, not in chunks.
        headers = [*headers, (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        ended = time.perf_counter()
        self.metrics.answered(outcome, ended - started, probabilities)
        if self.on_answered is not None:
            self.on_answered(scope["path"], status, started, ended)
        if outcome is SCORED and self.on_scored is not None:
            if inputs is None:
                inputs = payload.encode(records)
            if outputs is None:
                outputs = payload.encode(payload.predictions(records, probabilities, decisions))
            version = self.settings.model_version
            self.on_scored(Scored(request_id, version, len(records), inputs, outputs, time.time()))

    def _accepted(self, scope: Scope, untyped: bytes) -> str | None:
        """The request's id, once the method and the headers allow scoring; Refused otherwise."""
        if scope["method"] != "POST":
            raise Refused(405, "method", f"{scope['method']} is not allowed: use POST", [(b"allow", b"POST")])
        if self.scorer is None:
            raise Refused(503, "model", "not loaded yet")
        # Names are lower case (the server sees to it). A declared length past the limit needs no check of
        # its own: reading the body stops at the limit.
        content_type = untyped
        request_id = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == REQUEST_ID:
                request_id = value.decode("latin-1")[:100]
            elif name == oip.BINARY_HEADER:
                raise Refused(415, name.decode(), "binary tensor data is not supported: send JSON")
        # Parameters (a charset) and letter case do not matter, and a plain one needs no parsing.
        if content_type != JSON and (content_type := content_type.split(b";", 1)[0].strip().lower()) != JSON:
            shown = content_type.decode("latin-1")
            raise Refused(415, "content-type", f"must be application/json, got {shown}")
        return request_id

    def _scored(self, records: list[Any], probabilities: list[float], decisions: list[str]) -> None:
        rows = list(map(msgspec.structs.astuple, records))
        probabilities += self.scorer.probabilities(rows)  # type: ignore[union-attr]
        decisions += map(scorer.decision, probabilities)

    def _score(
        self, body: bytes, probabilities: list[float], decisions: list[str]
    ) -> tuple[bytes, list[Any], bytes, bytes]:
        """The body, validated, is the records' JSON as the inference data keeps them."""
        records, inputs = payload.decode_array(body)
        self._scored(records, probabilities, decisions)
        predictions = payload.encode(payload.predictions(records, probabilities, decisions))
        return self.score_head + predictions + b"}", records, inputs, predictions

    def _infer(
        self, body: bytes, probabilities: list[float], decisions: list[str]
    ) -> tuple[bytes, list[Any], None, None]:
        request, records = oip.decode(body)
        self._scored(records, probabilities, decisions)
        answer = oip.answer(request, MODEL_NAME, self.settings.model_version, probabilities, decisions)
        return answer, records, None, None

    def _invocations(
        self, body: bytes, probabilities: list[float], decisions: list[str]
    ) -> tuple[bytes, list[Any], None, None]:
        records = invocations.decode(body)
        self._scored(records, probabilities, decisions)
        return invocations.answer(probabilities), records, None, None

    async def _get(self, answer: Callable[[], tuple[int, bytes, bytes]], scope: Scope, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            status, content_type, body = 405, JSON, score_error([{"field": "method", "error": "use GET"}])
            extra = [(b"allow", b"GET, HEAD")]
        else:
            (status, content_type, body), extra = answer(), []
        headers = [(b"content-type", content_type), (b"content-length", b"%d" % len(body)), *extra]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

    def _ready(self) -> tuple[int, bytes, bytes]:
        content = {
            "ready": self.ready,
            "draining": self.draining,
            "model_uri": self.model_uri,
            "scorer": self.scorer.name if self.scorer else None,
        }
        return 200 if self.ready else 503, JSON, payload.encode(content)

    def _server_metadata(self) -> tuple[int, bytes, bytes]:
        from importlib.metadata import version

        return 200, JSON, payload.encode(oip.ServerMetadata(PROJECT, version(PROJECT), []))

    def _model_metadata(self) -> tuple[int, bytes, bytes]:
        platform = f"{self.scorer.name}" if self.scorer else "not loaded"
        return (
            200,
            JSON,
            payload.encode(oip.model_metadata(MODEL_NAME, self.settings.model_version, platform)),
        )

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Another model's /v2 path is the protocol's 404; the rest goes to the documentation app."""
        if scope["path"].startswith(f"{oip.PREFIX}/models/"):
            body = oip.error_body(f"model: no such model; this server has {MODEL_NAME}")
            headers = [*JSON_HEADERS, (b"content-length", b"%d" % len(body))]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if self._docs is None:
            from .openapi import documentation

            self._docs = documentation()
        await self._docs(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        try:
            self.start()
        except Exception as error:
            log.exception("the model could not be loaded")
            await send({"type": "lifespan.startup.failed", "message": str(error)})
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        self.stop()
        await send({"type": "lifespan.shutdown.complete"})

    def start(self) -> None:
        """Loads the model and starts the metrics' flush; on the event loop, before the first request."""
        if not os.path.isdir(self.model_uri):
            import mlflow

            mlflow.set_tracking_uri(Paths.from_env().tracking_uri)
            if self.model_uri == CHAMPION:
                self.model_uri = champion_model_uri()
        self.score_head = payload.score_response_head(self.model_uri)
        self.scorer = scorer.load(self.model_uri, self.settings.scorer)
        self._drain_on_sigterm()
        self.metrics.start_flushing()
        self._start_production_loop()
        # What was made up to here (modules, the model, the app) lives as long as the process: out of the
        # garbage collector's sight, a full collection walks only what requests made since (gc.freeze).
        gc.collect()
        gc.freeze()

    def _start_production_loop(self) -> None:
        """Inference data and telemetry, each imported only when turned on: off, the service starts and
        answers as fast as without them."""
        counters: list[Any] = [self.metrics]
        if self.telemetry is None and self.settings.applicationinsights_connection_string:
            from . import telemetry

            self.telemetry = telemetry.Telemetry.to_application_insights(
                self.settings.applicationinsights_connection_string,
                self.settings.model_version,
                self.settings.telemetry_sample_rate,
                self.settings.telemetry_traces_per_second,
            )
        if self.telemetry is not None:  # configured here, or given (tests: an in-memory one)
            counters.append(self.telemetry)
            self.on_answered = self.telemetry.answered
        if self.telemetry is not None or self.inference_settings.sink != "off":
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(LOOP_SWITCH_SECONDS)
        if self.inference_settings.sink != "off":
            from . import inference_data

            writer = inference_data.InferenceWriter(
                self.inference_settings,
                inference_data.open_sink(self.inference_settings),
                inference_data.Fanout(counters),
            ).start()
            self.inference = writer
            self.on_scored = writer.offer

    def stop(self) -> None:
        """Graceful shutdown: the last counts, the inference data still queued, the telemetry's last batch."""
        self.metrics.stop_flushing()
        if self.inference is not None:
            self.inference.close(self.settings.shutdown_timeout_seconds)
            self.inference = None
        if self.telemetry is not None:
            self.telemetry.shutdown()
            self.telemetry = None
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None
        self.scorer = None

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


def create_app(model_uri: str | None = None) -> ScoringService:
    return ScoringService(
        model_uri or default_model_uri(), ServerSettings.from_env(), InferenceDataSettings.from_env()
    )
