"""Failures a step reports as a reason and exit code 1, not as a traceback."""


class DataError(ValueError):
    """The data breaks the contract; the message lists every failure."""


class StepFailed(RuntimeError):
    """A step ran and its answer is no: a failed gate, drift over the threshold, a missing input."""
