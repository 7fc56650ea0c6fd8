"""MLflow's scoring protocol on /invocations, as `mlflow models serve` and Azure ML's MLflow deployments
answer it (https://mlflow.org/docs/latest/deployment/deploy-model-locally): JSON with `dataframe_split`
(`columns` and row-major `data`) or `dataframe_records` (a list of objects), the registered model's input
example among them; the answer is `{"predictions": [<probability>, ...]}`. A refusal is MLflow's
`{"error_code": "BAD_REQUEST", "message": "<field>: <error>"}`. Records are validated as /score validates
them; the identifier column is allowed and ignored, as the model ignores it.
"""

from typing import Any

import msgspec

from . import payload
from .payload import MAX_RECORDS, PayloadError

PATH = "/invocations"
FORMATS = ("dataframe_split", "dataframe_records")


class Split(msgspec.Struct, forbid_unknown_fields=True):
    columns: list[str]
    data: list[list[Any]]
    index: list[Any] | None = None


class Request(msgspec.Struct, forbid_unknown_fields=True):
    dataframe_split: Split | None = None
    dataframe_records: list[dict[str, Any]] | None = None
    params: dict[str, Any] | None = None


class Response(msgspec.Struct):
    predictions: list[float]


_decoder = msgspec.json.Decoder(Request)


def decode(body: bytes) -> list[Any]:
    try:
        request = _decoder.decode(body)
    except msgspec.ValidationError as error:
        located = payload.refusal(str(error))
        raise PayloadError(
            located.detail[0]["field"], f"{located.detail[0]['error']} (formats: {', '.join(FORMATS)})"
        ) from None
    except msgspec.DecodeError as error:
        raise PayloadError("body", f"invalid JSON: {error}") from None
    given = [name for name in FORMATS if getattr(request, name) is not None]
    if len(given) != 1:
        raise PayloadError("body", f"send exactly one of {', '.join(FORMATS)}")
    if request.dataframe_split is not None:
        split = request.dataframe_split
        if any(len(row) != len(split.columns) for row in split.data):
            raise PayloadError("dataframe_split.data", f"every row needs {len(split.columns)} values")
        rows = [dict(zip(split.columns, row, strict=True)) for row in split.data]
    else:
        rows = request.dataframe_records or []
    if not 1 <= len(rows) <= MAX_RECORDS:
        raise PayloadError(given[0], f"{len(rows)} records: send 1 to {MAX_RECORDS}")
    try:
        return payload.records_from(rows)
    except PayloadError as error:
        raise PayloadError(f"{given[0]}.{error.detail[0]['field']}", error.detail[0]["error"]) from None


def answer(probabilities: list[float]) -> bytes:
    return payload.encode(Response(probabilities))


def error_body(message: str) -> bytes:
    return payload.encode({"error_code": "BAD_REQUEST", "message": message})
