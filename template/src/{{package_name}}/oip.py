"""The Open Inference Protocol (v2) over HTTP, as KServe, Triton and MLServer clients speak it
(https://github.com/kserve/open-inference-protocol/blob/main/specification/protocol/inference_rest.md).

A request carries one tensor per column of the request schema (schema.py), named after it, of shape [n] or
[n, 1] for n records: BYTES for text columns, an integer type (INT8 to INT64, UINT8 to UINT64) for integer
columns, FP32, FP64 or an integer type for numbers; the identifier column is optional. The answer has two
tensors of shape [n]: the probability (FP64) and the decision (BYTES), or the ones named in `outputs`.
JSON only: Triton's binary tensor extension (the Inference-Header-Content-Length header) is refused, so a
tritonclient sends with `binary_data=False`. Every refusal is the protocol's `{"error": "<message>"}`,
whose message starts with the field at fault.
"""

from typing import Any

import msgspec

from . import payload
from .payload import MAX_RECORDS, PayloadError
from .schema import DECISION, FEATURES, ID, SCORE, Column

PREFIX = "/v2"
# The binary tensor extension's header, which this service does not implement.
BINARY_HEADER = b"inference-header-content-length"
INTEGER_TYPES = frozenset(f"{kind}{bits}" for kind in ("INT", "UINT") for bits in (8, 16, 32, 64))
NUMBER_TYPES = INTEGER_TYPES | {"FP32", "FP64"}


def accepted_types(column: Column) -> frozenset[str]:
    if column.dtype is str:
        return frozenset({"BYTES"})
    return INTEGER_TYPES if column.dtype is int else NUMBER_TYPES


def datatype(column: Column) -> str:
    return {str: "BYTES", int: "INT64", float: "FP64"}[column.dtype]


COLUMNS = {column.name: column for column in (*FEATURES, ID)}
OUTPUTS = {SCORE.name: "FP64", DECISION.name: "BYTES"}


class RequestInput(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    shape: list[int]
    datatype: str
    data: list[Any]
    parameters: dict[str, Any] | None = None


class RequestOutput(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    parameters: dict[str, Any] | None = None


class InferenceRequest(msgspec.Struct, forbid_unknown_fields=True):
    inputs: list[RequestInput]
    id: str | None = None
    parameters: dict[str, Any] | None = None
    outputs: list[RequestOutput] | None = None


class ResponseOutput(msgspec.Struct):
    name: str
    shape: list[int]
    datatype: str
    data: list[Any]


class InferenceResponse(msgspec.Struct, omit_defaults=True):
    model_name: str
    outputs: list[ResponseOutput]
    model_version: str | None = None
    id: str | None = None


class TensorMetadata(msgspec.Struct):
    name: str
    datatype: str
    shape: list[int]


class ModelMetadata(msgspec.Struct):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ServerMetadata(msgspec.Struct):
    name: str
    version: str
    extensions: list[str]


_decoder = msgspec.json.Decoder(InferenceRequest)


def _flat(values: list[Any]) -> list[Any]:
    """Row-major data as the protocol allows it: flat, or nested by the shape."""
    if values and isinstance(values[0], list):
        return [value for inner in values for value in _flat(inner)]
    return values


def decode(body: bytes) -> tuple[InferenceRequest, list[Any]]:
    """The request and its records (payload.Record), validated as /score validates them."""
    try:
        request = _decoder.decode(body)
    except msgspec.ValidationError as error:
        raise PayloadError("body", str(error)) from None
    except msgspec.DecodeError as error:
        raise PayloadError("body", f"invalid JSON: {error}") from None
    columns: dict[str, list[Any]] = {}
    for tensor in request.inputs:
        column = COLUMNS.get(tensor.name)
        if column is None:
            raise PayloadError(f"inputs.{tensor.name[: payload.MAX_ECHO]}", "not a column of the schema")
        if tensor.datatype not in accepted_types(column):
            allowed = ", ".join(sorted(accepted_types(column)))
            raise PayloadError(
                f"inputs.{column.name}", f"datatype {tensor.datatype[:20]}: must be one of {allowed}"
            )
        if len(tensor.shape) not in (1, 2) or (len(tensor.shape) == 2 and tensor.shape[1] != 1):
            raise PayloadError(f"inputs.{column.name}", f"shape {tensor.shape[:3]}: must be [n] or [n, 1]")
        values = _flat(tensor.data)
        if len(values) != tensor.shape[0]:
            raise PayloadError(f"inputs.{column.name}", f"{len(values)} values for shape {tensor.shape[:3]}")
        columns[column.name] = values
    if missing := [column.name for column in FEATURES if column.name not in columns]:
        raise PayloadError(f"inputs.{missing[0]}", "missing input")
    counts = {len(values) for values in columns.values()}
    if len(counts) != 1:
        raise PayloadError("inputs", f"the inputs have different lengths: {sorted(counts)}")
    (count,) = counts
    if not 1 <= count <= MAX_RECORDS:
        raise PayloadError("inputs", f"{count} records: send 1 to {MAX_RECORDS}")
    names = list(columns)
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    try:
        return request, payload.records_from(rows)
    except PayloadError as error:
        row, _, field = error.detail[0]["field"].partition(".")
        raise PayloadError(f"inputs.{field or row}", f"record {row}: {error.detail[0]['error']}") from None


def answer(
    request: InferenceRequest,
    model_name: str,
    model_version: str,
    probabilities: list[float],
    decisions: list[str],
) -> bytes:
    tensors = {SCORE.name: probabilities, DECISION.name: decisions}
    wanted = [output.name for output in request.outputs] if request.outputs else list(OUTPUTS)
    if unknown := [name for name in wanted if name not in OUTPUTS]:
        raise PayloadError(
            f"outputs.{unknown[0][: payload.MAX_ECHO]}", f"no such output: {', '.join(OUTPUTS)}"
        )
    outputs = [ResponseOutput(name, [len(probabilities)], OUTPUTS[name], tensors[name]) for name in wanted]
    return payload.encode(InferenceResponse(model_name, outputs, model_version or None, request.id))


def error_body(message: str) -> bytes:
    return payload.encode({"error": message})


def model_metadata(model_name: str, model_version: str, platform: str) -> ModelMetadata:
    inputs = [TensorMetadata(column.name, datatype(column), [-1]) for column in FEATURES]
    outputs = [TensorMetadata(name, kind, [-1]) for name, kind in OUTPUTS.items()]
    return ModelMetadata(model_name, [model_version] if model_version else [], platform, inputs, outputs)
