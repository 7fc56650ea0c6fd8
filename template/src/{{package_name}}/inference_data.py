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

The request only offers its Scored event to a bounded queue (`offer`, on the event loop: an append and a
count, no lock); a writer thread turns batches into lines, a slice of requests at a time, and hands them to a
sink as it makes them (a folder here and in tests, Azure Blob or Azure ML's collector in Azure:
inference_sinks.py).
When the queue holds `max_pending_records`, a request's records are dropped and counted (reason
`queue_full`), never waited for; a sink that fails drops its batch (`write_error`); on shutdown the writer
writes what is left within the time it is given, and counts the rest (`shutdown_timeout`).
`written + dropped` always equals the records offered after sampling.

The folder sink writes each file whole under a temporary name, syncs it to disk and only then gives it its
name, so a reader or a crash never meets half a file. The synced pages are then dropped from the page
cache, and the next file reuses them: a page cache that grows takes fresh memory for every file, which cost
the writer 3.3 to 5.8 ms of CPU a 2.4 MB file against 0.85 ms on the benchmark machine, a virtual machine
that hands freed memory back to its host. In a container the page cache also counts against the memory limit.
"""

import datetime
import logging
import os
import random
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import repeat, starmap
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
# Requests made into lines and written a slice at a time. A call in C holds the interpreter lock throughout,
# keeping the worker's requests waiting: a whole batch at once held it for milliseconds, where a slice of 512
# one-record requests takes about 0.25 ms for both collections' lines, under the 1 ms switch interval. Each
# slice costs calls of its own: in-process the writer spent 1.79 µs a request with slices of 128, 1.64 with
# 256, 1.52 with 512 and 1.45 with 1,024 (2026-11-29, batches of 32,000, 12 rounds of 64,000 requests). A
# request's number is its slice's number and its place in the slice, three hex digits: the slice's part is
# text every line of the slice shares.
LINES_SLICE = 512
PLACES = [b"%03x" % place for place in range(LINES_SLICE)]

_encoder = msgspec.json.Encoder()
_records = attrgetter("records")
_inputs = attrgetter("inputs")
_outputs = attrgetter("outputs")
_version = attrgetter("model_version")
_time = attrgetter("time")
_request_id = attrgetter("request_id")

# A column of a slice's lines: the same text on every line, or a request's each.
Column = bytes | list[bytes]


def id_prefix() -> bytes:
    """The first 23 characters of a UUID, random per writer: with a 12-digit number after it, an id a line
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


def interleave(columns: list[Column], lines: int) -> bytes:
    """`lines` lines, each the columns' texts in order. Neighbouring shared texts are joined first, and
    each column goes into its places of one list by a slice assignment in C: a line costs a few items,
    however many fields it has, and no step in Python."""
    merged: list[Column] = []
    for column in columns:
        if isinstance(column, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += column
        else:
            merged.append(column)
    width = len(merged)
    texts = [b""] * (lines * width)
    for place, column in enumerate(merged):
        texts[place::width] = [column] * lines if isinstance(column, bytes) else column
    return b"".join(texts)


def shared(texts: list[bytes]) -> Column:
    """A column as one text when every line has the same."""
    return texts[0] if texts.count(texts[0]) == len(texts) else texts


def at_second(second: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(second, datetime.UTC)


def stamp(second: int) -> bytes:
    """A line's time, JSON."""
    return at_second(second).strftime('"%Y-%m-%dT%H:%M:%SZ"').encode()


def correlations(sent: list[str | None], number: bytes, prefix: bytes) -> tuple[list[Column], list[Column]]:
    """The correlation ids and the clients' request ids of a slice's requests as columns of JSON text: a
    request that sent no id is correlated by `prefix` and its number (the slice's `number`, its place)."""
    if not any(sent):  # a client or a gateway sends an id with every request, or none with any
        return [b'"%s-%s' % (prefix, number), PLACES[: len(sent)], b'"'], [b'""']
    encoded = list(map(_encoder.encode, sent))  # a missing one is `null` here, replaced below
    if all(sent):
        return [encoded], [encoded]
    own = [
        each if given else b'"%s-%s%s"' % (prefix, number, place)
        for given, each, place in zip(sent, encoded, PLACES[: len(sent)], strict=True)
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


def inputs_data(requests: list[Scored]) -> list[bytes]:
    """The requests' records, each on one line. The service encodes everything else: only a client's body
    can hold a raw line break, and two searches in C of the bodies at once find it (a search a body cost
    the writer a fifth of its time)."""
    inputs = list(map(_inputs, requests))
    bodies = b"".join(inputs)
    return list(map(one_line, inputs)) if b"\n" in bodies or b"\r" in bodies else inputs


def outputs_data(requests: list[Scored]) -> list[bytes]:
    return list(map(_outputs, requests))


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
        # One queue, one producer (the event loop) and one consumer at a time (the writer, or `close` after
        # it): a deque's append and popleft are thread-safe (docs.python.org/3/library/collections.html).
        # The queue's records are two counts, each written by one side only: `offered` by `offer`, `taken`
        # by the consumer. The event loop then takes no lock: a lock there cost its thread 0.7 µs a request
        # of the loop's 2.1, over HTTP, measured side by side (30 rounds). A `taken` read before the
        # consumer's update overstates what waits, so a request is dropped sooner, never past the bound.
        self.pending: deque[Scored] = deque()
        self.offered = self.taken = 0
        self.taking = threading.Lock()
        # The settings `offer` reads, as attributes of its own: it runs for every request.
        self.sampled = settings.sample_rate < 1
        self.max_pending_records = settings.max_pending_records
        self.batch_records = settings.batch_records
        # The writer sleeps on an event, set when a batch is full or on close (a Condition's lock, which the
        # offer would take, is entered through Python).
        self.wake = threading.Event()
        self.closing = False
        self.thread = threading.Thread(target=self._run, name="inference-data", daemon=True)

    def start(self) -> "InferenceWriter":
        self.thread.start()
        return self

    def offer(self, event: Scored) -> None:
        """Queues a scored request, or drops and counts it when the queue is full. Never blocks for long.
        One thread offers, the service's event loop: `offered` has no other writer."""
        if self.sampled and self.random() >= self.settings.sample_rate:
            return
        count = event.records
        offered = self.offered + count
        if offered - self.taken <= self.max_pending_records and not self.closing:
            self.pending.append(event)
            self.offered = offered
            if offered - self.taken >= self.batch_records:
                self.wake.set()
            return
        self.counters.dropped(count, event.model_version, QUEUE_FULL)

    @property
    def pending_records(self) -> int:
        return self.offered - self.taken

    def _take(self) -> list[Scored]:
        """What waits, oldest first: as many pops as the queue held, in C. The producer only adds, so each
        pop finds a request."""
        with self.taking:
            batch = list(starmap(self.pending.popleft, repeat((), len(self.pending))))
            self.taken += sum(map(_records, batch))
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
        """Writes what waits, within `timeout` seconds; what is still queued then is counted as dropped: left
        by a writer that ran out of time, or offered from another thread while the writer took its last."""
        self.closing = True
        self.wake.set()
        if self.thread.is_alive():
            self.thread.join(timeout)
        for event in self._take():
            self.counters.dropped(event.records, event.model_version, SHUTDOWN_TIMEOUT)


class LayoutSink:
    """Writes a batch as files of the layout through `put(path, texts)`: a file per collection and hour, its
    content as texts made one slice of requests at a time while `put` writes them."""

    def __init__(self, put: Callable[[str, Iterator[bytes]], None], settings: InferenceDataSettings) -> None:
        self.put = put
        self.endpoint, self.deployment = settings.endpoint, settings.deployment
        source = f"{settings.endpoint}/{settings.deployment}"
        self.instance = instance_id()
        self.sequence = 0
        # A line's id and the correlation id of a request that sent none: a prefix of their own (random per
        # writer) and the number of the request: its slice's, counted by the writer, and its place in it.
        self.collections = [
            (collection, line_pieces(source, collection, id_prefix()), data)
            for collection, data in ((INPUTS_COLLECTION, inputs_data), (OUTPUTS_COLLECTION, outputs_data))
        ]
        self.correlation_prefix = id_prefix()
        self.slices = 0
        self.versions = EncodedVersions()

    def store(self, batch: list[Scored]) -> None:
        first, last = int(min(map(_time, batch))), int(max(map(_time, batch)))
        by_hour: dict[int, list[Scored]] = {}
        if first - first % 3600 == last - last % 3600:
            by_hour[first - first % 3600] = batch
        else:  # a batch across the hour: each hour's requests on their own
            for request in batch:
                second = int(request.time)
                by_hour.setdefault(second - second % 3600, []).append(request)
        for hour, requests in by_hour.items():
            slices = [requests[start : start + LINES_SLICE] for start in range(0, len(requests), LINES_SLICE)]
            makers = list(map(self.slice_lines, slices))
            for collection, pieces, data in self.collections:
                self.sequence += 1
                folder = hour_folder(self.endpoint, self.deployment, collection, at_second(hour))
                texts = (lines(pieces, data(group)) for lines, group in zip(makers, slices, strict=True))
                self.put(f"{folder}/{self.instance}-{self.sequence:06d}.jsonl", texts)

    def slice_lines(self, requests: list[Scored]) -> Callable[[list[bytes], list[bytes]], bytes]:
        """What makes the lines of at most LINES_SLICE requests of one hour, given a collection's pieces and
        the requests' data, column by column: a step in Python a request cost the writer more than
        everything else it does."""
        self.slices += 1
        number = b"%09x" % self.slices
        places = PLACES[: len(requests)]
        moments = list(map(_time, requests))
        first, last = int(min(moments)), int(max(moments))
        if first == last:  # as a rule: a slice is a few milliseconds of traffic
            times: Column = stamp(first)
        else:
            seconds = list(map(int, moments))
            stamps = {second: stamp(second) for second in set(seconds)}
            times = list(map(stamps.__getitem__, seconds))
        correlation, sent = correlations(list(map(_request_id, requests)), number, self.correlation_prefix)
        versions = shared(list(map(self.versions.__getitem__, map(_version, requests))))

        def lines(pieces: list[bytes], data: list[bytes]) -> bytes:
            columns = [pieces[0] + number, places, pieces[1], times, pieces[2], data, pieces[3], *correlation]
            columns += [pieces[4], *sent, pieces[5], versions, pieces[6]]
            return interleave(columns, len(requests))

        return lines


# A file's data to disk (its metadata need not be): macOS has fsync only.
sync = getattr(os, "fdatasync", os.fsync)


def write_all(descriptor: int, text: bytes) -> None:
    """All of `text`: a write may take only part of it (POSIX write(2)), and the next one takes the rest
    or raises the error that stopped the first."""
    while text:
        text = text[os.write(descriptor, text) :]


def folder_writer(root: Path) -> Callable[[str, Iterable[bytes]], None]:
    """Files under a local folder: offline, and what the drift check reads after a download."""

    def put(path: str, texts: Iterable[bytes]) -> None:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            for text in texts:
                write_all(descriptor, text)
            sync(descriptor)
            if hasattr(os, "posix_fadvise"):  # Linux; macOS keeps its cache
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        except BaseException:
            partial.unlink()
            raise
        finally:
            os.close(descriptor)
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
