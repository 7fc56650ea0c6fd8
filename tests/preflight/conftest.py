from pathlib import Path

import pytest

from tests.preflight.support import committed_runs, render_project


@pytest.fixture(scope="session")
def runs():
    return committed_runs()


@pytest.fixture(scope="session")
def rendered(runs, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One project per serving target, rendered once; tests copy before they change anything."""
    base = tmp_path_factory.mktemp("rendered")
    return {target: render_project(runs, base / target, target) for target in ("aks", "aml-endpoint")}
