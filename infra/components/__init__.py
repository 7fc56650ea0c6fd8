"""One ComponentResource per concern. Components take outputs as inputs, never other components."""

from typing import Final

TYPE_PREFIX: Final = "mlops:platform"
