"""Inference data: what the service scored, in Azure ML's data collector layout, written off the hot path.

Layout and record shape are those of Azure ML's data collector (learn.microsoft.com/azure/machine-learning/
how-to-collect-production-data, "Blob storage output/format"), so Azure ML model monitoring, Evidently or
NannyML read the files as they read the collector's:

- files `<endpoint>/<deployment>/<collection>/yyyy/MM/dd/HH/<instance id>.jsonl`, hour by hour (the
  collector's default rolling rate), one JSON object a line;
- collections `model_inputs` (the validated records, as the client sent them: their JSON text, on one
  line) and `model_outputs` (identifier, probability, decision), one line each per request, joined by
  `correlationid` (the request's `x-request-id` when it sent one, else an id of the writer's own;
  `xrequestid` is what the client sent);
- each line: `specversion`, `id`, `source`, `type`, `datacontenttype`, `time`, `data` (the rows, one object
  a record), `correlationid`, `xrequestid`, `modelversion`, `collectdatatype`, `agent`, as the collector
  writes them; `modelname` is added (the collector's path names the deployment, not the model).

The request only offers its Scored event to a bounded queue (`offer`, on the event loop: a lock, an append);
a writer thread turns batches into lines and hands them to a sink (a folder here and in tests, Azure Blob
or Azure ML's collector in Azure: inference_sinks.py). When the queue holds `max_pending_records`, a request's
records are dropped and counted (reason `queue_full`), never waited for; a sink that fails drops its batch
(`write_error`); on shutdown the writer writes what is left within the time it is given, and counts the rest
(`shutdown_timeout`). `written + dropped` always equals the records offered after sampling.

The folder sink writes each file whole under a temporary name, syncs it to disk and only then gives it its
name, so a reader or a crash never meets half a file. The synced pages are then dropped from the page
cache, and the next file reuses them: a page cache that grows takes fresh memory for every file, which cost
the writer 3.3 to 5.8 ms of CPU a 2.4 MB file (a full batch) against 0.85 ms on the benchmark machine, a
virtual machine that hands freed memory back to its host. In a container the page cache also counts against
the memory limit.
"""

import datetime
import logging
import os
import random
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from itertools import chain, repeat
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol

import msgspec

from .events import Scored
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


# A line's fields, in the collector's order.
FIELDS = (
    "specversion", "id", "source", "type", "datacontenttype", "time", "data",
    "correlationid", "xrequestid", "modelversion", "modelname", "collectdatatype", "agent",
)  # fmt: skip
# What changes from line to line, JSON text (bytes); of `id`, the number after a prefix.
VARYING = ("id", "time", "data", "correlationid", "xrequestid", "modelversion")
# Requests made into lines a slice at a time: a call in C holds the interpreter lock throughout, keeping the
# worker's requests waiting, and a slice of 256 takes 0.8 ms in all, in several calls (a batch of 2,000 at
# once held it for milliseconds); smaller slices cost the writer more.
LINES_SLICE = 256

_encoder = msgspec.json.Encoder()
_records = attrgetter("records")
_inputs = attrgetter("inputs")
_outputs = attrgetter("outputs")
_version = attrgetter("model_version")
_time = attrgetter("time")
_request_id = attrgetter("request_id")


def id_prefix() -> bytes:
    """The first 23 characters of a UUID, random per writer: with a 12-digit counter after it, an id a line
    shaped as the collector's (a uuid4 a line cost as much as the rest of the line)."""
    return str(uuid.uuid4())[:23].encode()


def line_pieces(source: str, collection: str, prefix: bytes) -> list[bytes]:
    """A collection's line as the text around its VARYING fields, the fixed fields encoded once. A line's
    id is `prefix`, a dash and its request's number (12 hex digits), the piece between the first two."""
    fixed = {
        "specversion": "1.0",
        "source": source,
        "type": f"azureml.inference.{collection}",
        "datacontenttype": JSON,
        "modelname": MODEL_NAME,
        "collectdatatype": COLLECT_DATA_TYPE,
        "agent": AGENT,
    }
    pieces, text = [], b"{"
    for index, name in enumerate(FIELDS):
        text += b'%s"%s":' % (b"," if index else b"", name.encode())
        if name == "id":
            pieces.append(text + b'"' + prefix + b"-")
            text = b'"'
        elif name in VARYING:
            pieces.append(text)
            text = b""
        else:
            text += _encoder.encode(fixed[name])
    return [*pieces, text + b"}\n"]


def at_second(second: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(second, datetime.UTC)


def stamp(second: int) -> bytes:
    """A line's time, JSON."""
    return at_second(second).strftime('"%Y-%m-%dT%H:%M:%SZ"').encode()


def correlations(
    sent: list[str | None], digits: list[bytes], prefix: bytes
) -> tuple[list[Iterable[bytes]], list[Iterable[bytes]]]:
    """The correlation ids and the clients' request ids of some requests as columns of JSON text: a request
    that sent no id is correlated by `prefix` and its number (`digits`)."""
    if not any(sent):  # a client or a gateway sends an id with every request, or none with any
        return [repeat(b'"' + prefix + b"-"), digits, repeat(b'"')], [repeat(b'""')]
    encoded = list(map(_encoder.encode, sent))  # a missing one is `null` here, replaced below
    if all(sent):
        return [encoded], [encoded]
    own = [
        each if given else b'"%s-%s"' % (prefix, number)
        for given, each, number in zip(sent, encoded, digits, strict=True)
    ]
    return [own], [[each if given else b'""' for given, each in zip(sent, encoded, strict=True)]]


class EncodedVersions(dict[str, bytes]):
    """Model versions as JSON, each encoded once (an empty one is `default`, as the collector has it)."""

    def __missing__(self, version: str) -> bytes:
        encoded = self[version] = _encoder.encode(version or "default")
        return encoded


def one_line(text: bytes) -> bytes:
    """JSON text on one line. JSON allows a raw line break only between tokens, where a space means the
    same; inside a string it is escaped."""
    return text.replace(b"\n", b" ").replace(b"\r", b" ")


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
        # The settings `offer` reads, as attributes of its own: it runs for every request.
        self.sampled = settings.sample_rate < 1
        self.max_pending_records = settings.max_pending_records
        self.batch_records = settings.batch_records
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
        if self.sampled and self.random() >= self.settings.sample_rate:
            return
        count = event.records
        with self.lock:
            pending = self.pending_records + count
            if pending <= self.max_pending_records and not self.closing:
                self.pending.append(event)
                self.pending_records = pending
                if pending >= self.batch_records:
                    self.wake.set()
                return
        self.counters.dropped(count, event.model_version, QUEUE_FULL)

    def _take(self) -> list[Scored]:
        with self.lock:
            batch = list(self.pending)
            self.pending.clear()
            self.pending_records = 0
        return batch

    def _run(self) -> None:
        while True:
            if not self.closing and self.pending_records < self.batch_records:
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
        versions = set(map(_version, batch))
        if len(versions) == 1:  # as a rule: counted without a step in Python a request
            by_version = {versions.pop(): sum(map(_records, batch))}
        else:
            by_version = {}
            for request in batch:
                by_version[request.model_version] = by_version.get(request.model_version, 0) + request.records
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
                self.counters.dropped(event.records, event.model_version, SHUTDOWN_TIMEOUT)


class LayoutSink:
    """Writes a batch as files of the layout through `put(path, pieces)`, a file's content in pieces: a file
    per collection and hour."""

    def __init__(self, put: Callable[[str, list[bytes]], None], settings: InferenceDataSettings) -> None:
        self.put = put
        self.endpoint, self.deployment = settings.endpoint, settings.deployment
        source = f"{settings.endpoint}/{settings.deployment}"
        self.instance = instance_id()
        self.sequence = 0
        # A line's id and the correlation id of a request that sent none: a prefix of their own (random per
        # writer) and the number of the request, counted by the writer.
        self.inputs_pieces, self.outputs_pieces = (
            line_pieces(source, collection, id_prefix())
            for collection in (INPUTS_COLLECTION, OUTPUTS_COLLECTION)
        )
        self.correlation_prefix = id_prefix()
        self.requests = 0
        self.versions = EncodedVersions()

    def lines(self, requests: list[Scored]) -> dict[tuple[str, datetime.datetime], list[bytes]]:
        """The JSON lines of some requests, by (collection, hour), in pieces of LINES_SLICE requests."""
        hours = {second - second % 3600 for second in set(map(int, map(_time, requests)))}
        by_hour: dict[int, list[Scored]] = {hours.pop(): requests} if len(hours) == 1 else {}
        if not by_hour:  # a batch across the hour: each hour's requests on their own
            for request in requests:
                second = int(request.time)
                by_hour.setdefault(second - second % 3600, []).append(request)
        files: dict[tuple[str, datetime.datetime], list[bytes]] = {}
        for hour, group in by_hour.items():
            for first in range(0, len(group), LINES_SLICE):
                for collection, text in self.slice_lines(group[first : first + LINES_SLICE]).items():
                    files.setdefault((collection, at_second(hour)), []).append(text)
        return files

    def slice_lines(self, requests: list[Scored]) -> dict[str, bytes]:
        """The lines of some requests of one hour, by collection. Made column by column, each a map over
        callables in C, and joined with the fixed text around them in one go: a step in Python a request
        cost the writer more than everything else it does."""
        first, self.requests = self.requests, self.requests + len(requests)
        digits = list(map(b"%012x".__mod__, range(first, self.requests)))
        seconds = list(map(int, map(_time, requests)))
        stamps = {second: stamp(second) for second in set(seconds)}
        times = list(map(stamps.__getitem__, seconds))
        correlation, sent = correlations(list(map(_request_id, requests)), digits, self.correlation_prefix)
        versions = list(map(self.versions.__getitem__, map(_version, requests)))

        def joined(pieces: list[bytes], data: Iterable[bytes]) -> bytes:
            return b"".join(
                chain.from_iterable(
                    zip(
                        repeat(pieces[0]),
                        digits,
                        repeat(pieces[1]),
                        times,
                        repeat(pieces[2]),
                        data,
                        repeat(pieces[3]),
                        *correlation,
                        repeat(pieces[4]),
                        *sent,
                        repeat(pieces[5]),
                        versions,
                        repeat(pieces[6]),
                    )
                )
            )

        inputs = joined(self.inputs_pieces, map(_inputs, requests))
        # The service encodes everything else: only a client's body can hold a raw line break, and one
        # search of the slice finds it, where a search a body cost the writer a fifth of its time.
        if inputs.count(b"\n") != len(requests) or b"\r" in inputs:
            inputs = joined(self.inputs_pieces, map(one_line, map(_inputs, requests)))
        outputs = joined(self.outputs_pieces, map(_outputs, requests))
        return {INPUTS_COLLECTION: inputs, OUTPUTS_COLLECTION: outputs}

    def store(self, batch: list[Scored]) -> None:
        for (collection, hour), lines in self.lines(batch).items():
            self.sequence += 1
            folder = hour_folder(self.endpoint, self.deployment, collection, hour)
            self.put(f"{folder}/{self.instance}-{self.sequence:06d}.jsonl", lines)


# A file's data to disk (its metadata need not be): macOS has fsync only.
sync = getattr(os, "fdatasync", os.fsync)


def folder_writer(root: Path) -> Callable[[str, list[bytes]], None]:
    """Files under a local folder: offline, and what the drift check reads after a download."""

    def put(path: str, pieces: list[bytes]) -> None:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        with partial.open("wb") as file:
            file.writelines(pieces)
            file.flush()
            sync(file.fileno())
            if hasattr(os, "posix_fadvise"):  # Linux; macOS keeps its cache
                os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        partial.replace(target)

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
