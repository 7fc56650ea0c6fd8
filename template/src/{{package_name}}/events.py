"""What the service hands to the production loop."""

import msgspec


class Scored(msgspec.Struct, frozen=True, gc=False):
    """One scored request: built once on the event loop after the answer is sent (ScoringService.on_scored)
    and queued as it is by the inference data writer. A struct untracked by the garbage collector: a frozen
    dataclass takes ten times as long to make, and thousands wait in the writer's queue.

    Its records and answers are JSON text the request already had (the /score body as the client sent it,
    the predictions as encoded for the answer), not objects: nothing is encoded twice, and what waits in the
    queue is two strings a request, not a list of structs each."""

    request_id: str | None
    model_version: str
    records: int  # how many
    # The validated records, a JSON array; line breaks allowed between tokens, as a client sends them
    # (inference_data.one_line takes them out).
    inputs: bytes
    outputs: bytes  # a JSON array of payload.Prediction, a record's each, as /score answers them
    time: float  # when it was answered, seconds since the epoch
