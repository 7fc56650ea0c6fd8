"""Fixtures of the template tests: what they share is made once per session, for every pytest-xdist
worker (tests/template/once.py)."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.template.once import made_once, session_folder
from tests.template.stamping import SLUG, Case, offline_platform, stamp, write_platform


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return session_folder(tmp_path_factory)


@pytest.fixture(scope="session")
def platform_file(shared: Path) -> Path:
    made = made_once(
        shared / "platform", lambda folder: write_platform(offline_platform(), folder / "platform.json")
    )
    return made / "platform.json"


@pytest.fixture(scope="session")
def platform(platform_file: Path) -> dict[str, Any]:
    return json.loads(platform_file.read_text())


@pytest.fixture(scope="session")
def stamped(platform: dict[str, Any], shared: Path) -> Callable[[Case], Path]:
    """One project per matrix case, stamped once for the whole session. Tests only read it; a test that
    runs the project runs a copy (stamping.copy_project)."""

    def project(case: Case) -> Path:
        folder = made_once(
            shared / "stamped" / case.id, lambda into: stamp(into / SLUG, platform, **case.answers)
        )
        return folder / SLUG

    return project


@pytest.fixture(scope="session")
def environments(shared: Path) -> Path:
    """The pool of the stamped projects' virtual environments (tests/template/environments.py)."""
    return shared / "environments"
