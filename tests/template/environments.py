"""Virtual environments for stamped projects, reused from one project to the next.

A stamped project's `make` runs `uv sync`, which makes $(VENV) exactly what the project's pyproject.toml
resolves to: it installs what is missing and, by default, removes what the project does not declare
("an exact sync", https://docs.astral.sh/uv/reference/cli/#uv-sync). So an environment another project
left behind ends up as a new one would, and what it already holds, compiled bytecode included, is reused
instead of rebuilt. Two projects may not use one at the same time: each syncs and installs itself into
it. So environments form a pool: a project takes a free one, or starts a new one that its own `make`
creates from nothing, as a user's does.
"""

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.template.once import locked


@contextmanager
def environment(pool: Path) -> Iterator[Path]:
    """The folder of a virtual environment that only this block uses."""
    for slot in itertools.count():
        venv = pool / f"venv-{slot}"
        with locked(venv, wait=False) as free:
            if free:
                yield venv
                return
