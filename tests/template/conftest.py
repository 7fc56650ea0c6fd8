from pathlib import Path
from typing import Any

import pytest

from tests.template.stamping import Case, offline_platform, stamp, write_platform


@pytest.fixture(scope="session")
def platform() -> dict[str, Any]:
    return offline_platform()


@pytest.fixture(scope="session")
def platform_file(platform: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_platform(platform, tmp_path_factory.mktemp("platform") / "platform.json")


@pytest.fixture(scope="session")
def stamped(platform: dict[str, Any], tmp_path_factory: pytest.TempPathFactory):
    """One project per matrix case, stamped once for the whole session."""
    projects: dict[Case, Path] = {}

    def project(case: Case) -> Path:
        if case not in projects:
            projects[case] = stamp(
                tmp_path_factory.mktemp(case.id) / "credit-scoring", platform, **case.answers
            )
        return projects[case]

    return project
