"""Inference data: what the service scored, in Azure ML's data collector layout, written off the hot path.

Layout and record shape are those of Azure ML's data collector (learn.microsoft.com/azure/machine-learning/
how-to-collect-production-data, "Blob storage output/format"), so Azure ML model monitoring, Evidently or
NannyML read the files as they read the collector's:

- files `<endpoint>/<deployment>/<collection>/yyyy/MM/dd/HH/<instance id>.jsonl`, hour by hour (the
  collector's default rolling rate), one JSON object a line;
- collections `model_inputs` (the validated records) and `model_outputs` (identifier, probability,
  decision), one line each per request, joined by `correlationid` (the request's `x-request-id` when it
  sent one, else a fresh UUID; `xrequestid` is what the client sent);
- each line: `specversion`, `id`, `source`, `type`, `datacontenttype`, `time`, `data` (the rows, one object
  a record), `correlationid`, `xrequestid`, `modelversion`, `collectdatatype`, `agent`, as the collector
  writes them; `modelname` is added (the collector's path names the deployment, not the model).

The request only offers its Scored event to a bounded queue (`offer`, on the event loop: a lock, an append);
a writer thread turns batches into lines and hands them to a sink (a folder here and in tests, Azure Blob
or Azure ML's collector in Azure: inference_sinks.py). When the queue holds `max_pending_records`, a request's
records are dropped and counted (reason `queue_full`), never waited for; a sink that fails drops its batch
(`write_error`); on shutdown the writer writes what is left within the time it is given, and counts the rest
(`shutdown_timeout`). `written + dropped` always equals the records offered after sampling.
"""

import datetime
import itertools
import logging
import os
import random
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol

import msgspec

from .events import Scored
from .payload import Prediction
from .schema import ID
from .settings import INPUTS_COLLECTION, MODEL_NAME, OUTPUTS_COLLECTION, InferenceDataSettings

log = logging.getLogger(__name__)

QUEUE_FULL, WRITE_ERROR, SHUTDOWN_TIMEOUT = "queue_full", "write_error", "shutdown_timeout"
AGENT = f"{MODEL_NAME}-inference-data/1"
# What `data` held before it was written, as the collector names a pandas DataFrame's rows.
COLLECT_DATA_TYPE = "pandas.core.frame.DataFrame"
JSON = "application/json"


class Sink(Protocol):
    def store(self, batch: list[Scored]) -> None:
        """Stores a batch of requests, or raises: the writer then counts its records as dropped."""


class Counters(Protocol):
    def written(self, records: int, model_version: str) -> None: ...

    def dropped(self, records: int, model_version: str, reason: str) -> None: ...


class Tally:
    """Counts by outcome, in memory: the writer's own account (tests and the soak read it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.written_records = 0
        self.dropped_records: dict[str, int] = {}

    def written(self, records: int, model_version: str) -> None:
        with self.lock:
            self.written_records += records

    def dropped(self, records: int, model_version: str, reason: str) -> None:
        with self.lock:
            self.dropped_records[reason] = self.dropped_records.get(reason, 0) + records


class Fanout:
    """Every count to each of several counters (Prometheus, telemetry, a tally)."""

    def __init__(self, counters: Iterable[Counters]) -> None:
        self.counters = tuple(counters)

    def written(self, records: int, model_version: str) -> None:
        for counter in self.counters:
            counter.written(records, model_version)

    def dropped(self, records: int, model_version: str, reason: str) -> None:
        for counter in self.counters:
            counter.dropped(records, model_version, reason)


def instance_id() -> str:
    """Unique per writer: the pod (host name), the worker process and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def hour_folder(endpoint: str, deployment: str, collection: str, moment: datetime.datetime) -> str:
    return f"{endpoint}/{deployment}/{collection}/{moment:%Y/%m/%d/%H}"


class Envelope(msgspec.Struct, gc=False):
    """One line of the layout. Untracked by the garbage collector (a batch makes thousands; they refer
    to strings and to lists of records and rows, never back)."""

    specversion: str
    id: str
    source: str
    type: str
    datacontenttype: str
    time: str
    data: list[Any]
    correlationid: str
    xrequestid: str
    modelversion: str
    modelname: str
    collectdatatype: str
    agent: str


_encoder = msgspec.json.Encoder()
_identifier = attrgetter(ID.name)
# Lines encoded in one call: about a tenth of a millisecond.
ENCODE_SLICE = 128


def output_rows(request: Scored) -> list[Any]:
    """The outputs of a request's records, as the response gives them: payload.Prediction structs."""
    return list(map(Prediction, map(_identifier, request.records), request.probabilities, request.decisions))


def event_ids() -> Iterator[str]:
    """UUID-shaped ids, unique per writer (a random prefix) and cheap (a counter): a uuid4 a line cost as much
    as the rest of the line."""
    prefix = str(uuid.uuid4())[:23]
    return map(f"{prefix}-%012x".__mod__, itertools.count())


def lines_of(
    requests: Iterable[Scored], source: str, ids: Iterator[str]
) -> dict[tuple[str, datetime.datetime], bytes]:
    """The JSON lines of some requests, by (collection, hour)."""
    by_file: dict[tuple[str, datetime.datetime], list[Envelope]] = {}
    second, stamp, hour = -1, "", datetime.datetime.min
    inputs_type, outputs_type = (
        f"azureml.inference.{name}" for name in (INPUTS_COLLECTION, OUTPUTS_COLLECTION)
    )
    for request in requests:
        if int(request.time) != second:  # requests of one second share their time
            second = int(request.time)
            moment = datetime.datetime.fromtimestamp(second, datetime.UTC)
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            hour = moment.replace(minute=0, second=0)
            inputs = by_file.setdefault((INPUTS_COLLECTION, hour), [])
            outputs = by_file.setdefault((OUTPUTS_COLLECTION, hour), [])
        sent = request.request_id or ""
        correlation = sent or next(ids)
        version = request.model_version or "default"
        # Positional, in the fields' order: the struct is built twice a request.
        common = (correlation, sent, version, MODEL_NAME, COLLECT_DATA_TYPE, AGENT)
        inputs.append(Envelope("1.0", next(ids), source, inputs_type, JSON, stamp, request.records, *common))
        outputs.append(
            Envelope("1.0", next(ids), source, outputs_type, JSON, stamp, output_rows(request), *common)
        )
    return {key: encoded(envelopes) for key, envelopes in by_file.items()}


def encoded(envelopes: list[Envelope]) -> bytes:
    """JSON lines, encoded a slice at a time: one call in C holds the interpreter lock throughout, and a
    batch's thousands of lines at once would keep the worker's requests waiting for milliseconds."""
    return b"".join(
        _encoder.encode_lines(envelopes[first : first + ENCODE_SLICE])
        for first in range(0, len(envelopes), ENCODE_SLICE)
    )


class InferenceWriter:
    """The bounded queue and its writer thread. `offer` is the only call on the request's path."""

    def __init__(
        self,
        settings: InferenceDataSettings,
        sink: Sink,
        counters: Counters,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.counters = counters
        self.random = rng
        self.pending: deque[Scored] = deque()
        self.pending_records = 0
        # A plain lock (taken in C) guards the queue on the event loop's side; the writer sleeps on an
        # event, set when a batch is full or on close: a Condition's lock is entered through Python.
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.closing = False
        self.thread = threading.Thread(target=self._run, name="inference-data", daemon=True)

    def start(self) -> "InferenceWriter":
        self.thread.start()
        return self

    def offer(self, event: Scored) -> None:
        """Queues a scored request, or drops and counts it when the queue is full. Never blocks for long."""
        if self.settings.sample_rate < 1 and self.random() >= self.settings.sample_rate:
            return
        count = len(event.records)
        with self.lock:
            full = self.closing or self.pending_records + count > self.settings.max_pending_records
            if not full:
                self.pending.append(event)
                self.pending_records += count
                if self.pending_records >= self.settings.batch_records:
                    self.wake.set()
        if full:
            self.counters.dropped(count, event.model_version, QUEUE_FULL)

    def _take(self) -> list[Scored]:
        with self.lock:
            batch = list(self.pending)
            self.pending.clear()
            self.pending_records = 0
        return batch

    def _run(self) -> None:
        while True:
            if not self.closing and self.pending_records < self.settings.batch_records:
                self.wake.wait(self.settings.flush_seconds)
            # Cleared before the queue is taken: an offer that fills it again after this wakes the next wait.
            self.wake.clear()
            closing = self.closing
            batch = self._take()
            if batch:
                self._write(batch)
            if closing:
                return

    def _write(self, batch: list[Scored]) -> None:
        by_version: dict[str, int] = {}
        for request in batch:
            version = request.model_version
            by_version[version] = by_version.get(version, 0) + len(request.records)
        try:
            self.sink.store(batch)
        except Exception:
            log.exception("inference data: %d records could not be written", sum(by_version.values()))
            for version, count in by_version.items():
                self.counters.dropped(count, version, WRITE_ERROR)
            return
        for version, count in by_version.items():
            self.counters.written(count, version)

    def close(self, timeout: float) -> None:
        """Writes what waits, within `timeout` seconds; what is still queued then is counted as dropped."""
        with self.lock:
            self.closing = True
        self.wake.set()
        if self.thread.is_alive():
            self.thread.join(timeout)
        if self.thread.is_alive():
            for event in self._take():
                self.counters.dropped(len(event.records), event.model_version, SHUTDOWN_TIMEOUT)


class LayoutSink:
    """Writes a batch as files of the layout through `put(path, content)`: a file per collection and hour."""

    def __init__(self, put: Callable[[str, bytes], None], settings: InferenceDataSettings) -> None:
        self.put = put
        self.endpoint, self.deployment = settings.endpoint, settings.deployment
        self.source = f"{settings.endpoint}/{settings.deployment}"
        self.instance = instance_id()
        self.sequence = 0
        self.ids = event_ids()

    def store(self, batch: list[Scored]) -> None:
        for (collection, hour), lines in lines_of(batch, self.source, self.ids).items():
            self.sequence += 1
            folder = hour_folder(self.endpoint, self.deployment, collection, hour)
            self.put(f"{folder}/{self.instance}-{self.sequence:06d}.jsonl", lines)


def folder_writer(root: Path) -> Callable[[str, bytes], None]:
    """Files under a local folder: offline, and what the drift check reads after a download."""

    def put(path: str, content: bytes) -> None:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.write_bytes(content)
        partial.replace(target)  # a reader never sees half a file

    return put


def read_window(
    root: Path, endpoint: str, deployment: str, days: int, now: datetime.datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The input rows and their outputs (joined by correlationid, in order) of the last `days` days."""
    since = (now - datetime.timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    inputs: dict[str, list[dict[str, Any]]] = {}
    outputs: dict[str, list[dict[str, Any]]] = {}
    for collection, into in ((INPUTS_COLLECTION, inputs), (OUTPUTS_COLLECTION, outputs)):
        # `deployment` may be a pattern: "*" reads every deployment of the endpoint (blue and green).
        for path in sorted(root.glob(f"{endpoint}/{deployment}/{collection}/*/*/*/*/*.jsonl")):
            hour = datetime.datetime.strptime("/".join(path.parent.parts[-4:]), "%Y/%m/%d/%H")
            if not since <= hour.replace(tzinfo=datetime.UTC) <= now:
                continue
            for line in path.read_bytes().splitlines():
                if line.strip():
                    record = msgspec.json.decode(line)
                    into.setdefault(record["correlationid"], []).extend(record["data"])
    rows, scored = [], []
    for correlation, records in inputs.items():
        answers = outputs.get(correlation)
        if answers is None or len(answers) != len(records):
            continue  # a request whose outputs are missing tells nothing about the model
        rows += records
        scored += answers
    return rows, scored


def open_sink(settings: InferenceDataSettings) -> Sink:
    if settings.sink == "folder":
        return LayoutSink(folder_writer(Path(settings.folder)), settings)
    from . import inference_sinks

    return inference_sinks.open_sink(settings)
