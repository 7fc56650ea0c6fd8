"""Virtual environments for stamped projects, reused from one project to the next.

A stamped project's `make` runs `uv sync`, which makes $(VENV) exactly what the project's pyproject.toml
resolves to: it installs what is missing and, by default, removes what the project does not declare
("an exact sync", https://docs.astral.sh/uv/reference/cli/#uv-sync). So an environment another project
left behind ends up as a new one would, and what it already holds, compiled bytecode included, is reused
instead of rebuilt. Two projects may not use one at the same time: each syncs and installs itself into
it. So environments form a pool: a project takes a free one, or starts a new one that its own `make`
creates from nothing, as a user's does.
"""

import hashlib
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.tools.file_lock import locked

# Beside each environment: the digest of the pyproject.toml it was last handed out for.
DEPENDENCIES = ".dependencies"


def dependencies(project: Path) -> str:
    return hashlib.sha256((project / "pyproject.toml").read_bytes()).hexdigest()


def candidates(pool: Path, wanted: str | None) -> Iterator[Path]:
    """The pool's environments, those last used for `wanted` first, then new ones."""
    # Every environment handed out before has its lock file.
    slots = sorted(
        int(lock.name.removeprefix("venv-").removesuffix(".lock")) for lock in pool.glob("venv-*.lock")
    )
    existing = [pool / f"venv-{slot}" for slot in slots]
    recorded = {venv: venv.with_name(venv.name + DEPENDENCIES) for venv in existing}
    matching = [venv for venv in existing if recorded[venv].exists() and recorded[venv].read_text() == wanted]
    yield from matching
    yield from (venv for venv in existing if venv not in matching)
    yield from (pool / f"venv-{slot}" for slot in itertools.count(max(slots, default=-1) + 1))


@contextmanager
def environment(pool: Path, project: Path | None = None) -> Iterator[Path]:
    """The folder of a virtual environment that only this block uses. For a project, a free one last used
    for the same dependencies comes first: its sync installs nothing, and the bytecode that earlier
    imports compiled is still there (a sync from another project's set reinstalls what differs, and the
    next imports compile it again)."""
    wanted = dependencies(project) if project else None
    for venv in candidates(pool, wanted):
        with locked(venv, wait=False) as free:
            if free:
                if wanted:
                    venv.with_name(venv.name + DEPENDENCIES).write_text(wanted)
                yield venv
                return
