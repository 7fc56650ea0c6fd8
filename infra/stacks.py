"""The stacks of this project: one per environment, one shared stack for the organisation, and the bootstrap
stack an administrator runs once before all of them."""

from typing import Final

BOOTSTRAP: Final = "bootstrap"
SHARED: Final = "shared"
ENVIRONMENTS: Final = ("dev", "qa", "prod")
# What the platform's pipelines deploy, in order. The bootstrap stack is not among them: it creates the
# identities they deploy with, so no pipeline identity may change it.
ALL: Final = (SHARED, *ENVIRONMENTS)
# Every stack, in the order they deploy: what the offline tools run and check.
EVERY: Final = (BOOTSTRAP, *ALL)
