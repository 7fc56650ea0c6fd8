"""Collection order and the session's shared stack runs for the whole suite (other fixtures live in each
folder's conftest.py)."""

from collections.abc import Iterator

import pytest

from infra.tools.mock_run import RUN_STORE_VARIABLE
from tests.template.once import session_folder

# The fixture that hands a test a virtual environment for a stamped project (tests/template/conftest.py).
RUNS_A_PROJECT = "environments"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that run a stamped project's own `make` take minutes each: started first, they spread over
    the pytest-xdist workers, which then share the short tests, instead of one worker running the last
    long one alone. The order is otherwise kept."""
    items.sort(key=lambda item: RUNS_A_PROJECT not in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session", autouse=True)
def stack_runs_kept_for_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The first pytest-xdist worker to need a stack's run makes it; the others read it back (mock_run)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(RUN_STORE_VARIABLE, str(session_folder(tmp_path_factory) / "stack-runs"))
        yield
