"""Work a test session does once, whichever pytest-xdist worker asks first.

Stamped projects, platform.json and the virtual environments of the stamped projects are immutable inputs
of many tests; each pytest-xdist worker is a process of its own, so they are shared through files in the
session's temporary folder, under file locks, instead of per-process fixtures. So are values that take
seconds to make (`made_once_value`: every stack's plain runs, each cluster's render).
"""

import os
import pickle
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import pytest

from infra.tools.digests import content_digest
from infra.tools.file_lock import locked

# Set by pytest-xdist in each worker; a plain `pytest` run has one process and no such variable.
WORKER = "PYTEST_XDIST_WORKER"


def session_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every process of this session sees and no other session does: pytest-xdist gives each
    worker a temporary folder inside the session's own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if WORKER in os.environ else base


def made_once(folder: Path, make: Callable[[Path], object]) -> Path:
    """`folder`, made by `make(folder)` once per session: the first process to ask makes it, the
    others wait, then find the marker that says it is complete."""
    done = folder.with_name(folder.name + ".done")
    with locked(folder):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            make(folder)
            done.touch()
    return folder


T = TypeVar("T")
VALUE = "value.pickle"


def made_once_value(folder: Path, make: Callable[[], T]) -> T:
    """`make()`, made once per session by the first process to ask (made_once) and read back by the others."""
    made = made_once(folder, lambda target: (target / VALUE).write_bytes(pickle.dumps(make())))
    return pickle.loads((made / VALUE).read_bytes())


def passes_once(record: Path, check: str, inputs: Mapping[str, bytes], run: Callable[[], None]) -> bool:
    """Run `run` (which raises on failure) unless `check` already passed in this session on
    byte-identical `inputs`: a deterministic check of the same bytes gives the same verdict. Only passes
    are recorded, so a failing input fails every test that gives it. Returns whether `run` ran."""
    marker = record / "passed" / f"{check}-{content_digest(inputs)}"
    # Held while the check runs: a second process with the same inputs waits for its verdict.
    with locked(marker):
        if marker.exists():
            return False
        run()
        marker.touch()
    return True


def files_under(root: Path, paths: list[Path]) -> dict[str, bytes]:
    """Names relative to `root`, with contents: what a check over these files reads."""
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in paths}
