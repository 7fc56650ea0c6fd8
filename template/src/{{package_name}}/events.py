"""What the service hands to the production loop."""

from typing import Any

import msgspec


class Scored(msgspec.Struct, frozen=True, gc=False):
    """One scored request: built once on the event loop after the answer is sent (ScoringService.on_scored)
    and queued as it is by the inference data writer. A struct untracked by the garbage collector: a frozen
    dataclass takes ten times as long to make, and thousands wait in the writer's queue."""

    request_id: str | None
    model_version: str
    records: list[Any]  # payload.Record structs, validated
    outputs: list[Any]  # payload.Prediction structs, a record's each, as /score answers them
    time: float  # when it was answered, seconds since the epoch
