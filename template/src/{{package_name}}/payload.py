"""The scoring request and response bodies: msgspec types derived from the data schema.

msgspec decodes and validates a body in one pass, in C: it is the fast path of the service. JSON types are
strict (a number is a JSON number, an integer has no fraction) and a bad body is refused with the first
problem found, named by its field: `{"detail": [{"field": "1.age", "error": "Expected `int` <= 100"}]}`.
"""

import re
from operator import attrgetter
from typing import Annotated, Any, Literal

import msgspec

from .schema import DECISION, DECISIONS, FEATURES, ID, SCORE, Column

MAX_RECORDS = 1000
ID_MAX_LENGTH = 64


def _field_type(column: Column) -> Any:
    if column.categories:
        return Literal[column.categories]
    return Annotated[column.dtype, msgspec.Meta(ge=column.minimum, le=column.maximum)]


# Field order is the schema's; the identifier comes last because it is optional.
Record = msgspec.defstruct(
    "Record",
    [
        *((column.name, _field_type(column)) for column in FEATURES),
        (ID.name, Annotated[str, msgspec.Meta(max_length=ID_MAX_LENGTH)] | None, None),
    ],
    forbid_unknown_fields=True,
    frozen=True,
    # Scalars only, so no reference cycle: the garbage collector need not track the records the inference
    # data writer keeps queued (msgspec "Disabling Garbage Collection").
    gc=False,
)
Records = Annotated[list[Record], msgspec.Meta(min_length=1, max_length=MAX_RECORDS)]


Prediction = msgspec.defstruct(
    "Prediction",
    [(ID.name, str | None), (SCORE.name, float), (DECISION.name, Literal[DECISIONS])],
)


def predictions(records: list[Any], probabilities: list[float], decisions: list[str]) -> list[Any]:
    """Each record's answer, as /score gives it."""
    if len(records) == 1:  # the common request, without the cost of mapping over a list
        return [Prediction(getattr(records[0], ID.name), probabilities[0], decisions[0])]
    return list(map(Prediction, map(attrgetter(ID.name), records), probabilities, decisions))


class ScoreResponse(msgspec.Struct):
    model_uri: str
    predictions: list[Prediction]  # type: ignore[valid-type]


def score_response_head(model_uri: str) -> bytes:
    """A ScoreResponse's JSON up to its predictions: the answer is this, the predictions' JSON array and
    `}`, so the service encodes the predictions once, for the answer and for the inference data."""
    return _encoder.encode(ScoreResponse(model_uri, [])).removesuffix(b"[]}")


class PayloadError(ValueError):
    """A body that cannot be scored; `detail` is what the client is told."""

    def __init__(self, field: str, error: str) -> None:
        super().__init__(f"{field}: {error}")
        self.detail = [{"field": field, "error": error}]


# One object or a list of them: msgspec tells the two apart by the JSON type.
_decoder = msgspec.json.Decoder(Record | Records)
# The other protocols' records, once taken out of their own layout.
_records = list[Record]  # type: ignore[valid-type]
_encoder = msgspec.json.Encoder()
# msgspec's messages end with the location of the problem as a JSON path of field names and indexes; an
# unknown field's name is the client's own text, anything but a backtick-free line.
_LOCATION = re.compile(r"(?P<error>.*) - at `\$(?P<path>[^`]*)`", re.DOTALL)
_NAMED_FIELD = re.compile(r"field `(?P<name>.*)`", re.DOTALL)
# A client's field name is echoed back; a megabyte of it is not.
MAX_ECHO = 100


def refusal(message: str) -> PayloadError:
    """`... - at `$[1].age`` names `1.age`; a missing or unknown field is named in the message itself."""
    located = _LOCATION.fullmatch(message)
    error, path = (located["error"], located["path"]) if located else (message, "")
    parts = [part for part in re.split(r"[.\[\]]", path) if part]
    if named := _NAMED_FIELD.search(error):
        parts.append(named["name"][:MAX_ECHO])
    return PayloadError(".".join(parts) or "body", error[: 2 * MAX_ECHO])


def decode(body: bytes) -> list[Any]:
    """The records of a request body: one record or a list of them."""
    return decode_array(body)[0]


def decode_array(body: bytes) -> tuple[list[Any], bytes]:
    """The records of a request body and their JSON as an array: the body as it is, a single record's
    wrapped in brackets."""
    try:
        decoded = _decoder.decode(body)
    except msgspec.ValidationError as error:
        raise refusal(str(error)) from None
    except msgspec.DecodeError as error:
        raise PayloadError("body", f"invalid JSON: {error}") from None
    return (decoded, body) if isinstance(decoded, list) else ([decoded], b"[" + body + b"]")


def records_from(rows: list[dict[str, Any]]) -> list[Any]:
    """Records of the other protocols (rows of named values) validated as /score validates them."""
    try:
        return msgspec.convert(rows, _records)
    except msgspec.ValidationError as error:
        raise refusal(str(error)) from None


def encode(value: Any) -> bytes:
    return _encoder.encode(value)
