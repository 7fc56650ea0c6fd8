"""The stacks of this project: one per environment, plus one shared stack for the organisation."""

from typing import Final

SHARED: Final = "shared"
ENVIRONMENTS: Final = ("dev", "qa", "prod")
ALL: Final = (SHARED, *ENVIRONMENTS)
