"""Whether an environment's in-cluster stack must run inside the environment's VNet, for the platform's
pipelines: `make cluster-network ENVIRONMENT=qa` sets the job's output variable IN_NETWORK
(infra/platform_pipelines.py), by which pipelines/templates/cluster-jobs.yml runs the in-cluster stack on the
environment's pool or on a Microsoft-hosted agent. The preflight evaluates the same answer.

The answer is the environment's `networkIsolation` in its stack file, read by the program's own reader
(infra/config.py): the setting that makes the cluster's API server private is the one that moves the job.
"""

import contextvars
import sys
from collections.abc import Sequence
from pathlib import Path

import pulumi

from infra import config
from infra.platform_pipelines import IN_NETWORK
from infra.stacks import ENVIRONMENTS
from infra.tools import stack_config

REPO_ROOT = config.REPO_ROOT


def in_network(environment: str, root: Path = REPO_ROOT) -> bool:
    values = stack_config.load(environment, root)

    def read() -> bool:
        pulumi.runtime.set_all_config(values)
        return config.network_isolated(environment)

    # The program's config lives in a context variable: a copied context leaves the caller's alone.
    return contextvars.copy_context().run(read)


def variables(environment: str, root: Path = REPO_ROOT) -> dict[str, str]:
    """The output variables the step sets, as Azure Pipelines reads them (text)."""
    return {IN_NETWORK: "true" if in_network(environment, root) else "false"}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 1 or arguments[0] not in ENVIRONMENTS:
        print(f"usage: python -m {__spec__.name} {{{','.join(ENVIRONMENTS)}}}", file=sys.stderr)
        return 2
    try:
        found = variables(arguments[0])
    except config.ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for name, value in found.items():
        # An output variable: later jobs read it as dependencies.<job>.outputs['<step>.<name>'].
        print(f"##vso[task.setvariable variable={name};isOutput=true]{value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
