"""The environment for a command the tests run as a user would: this process's own, without what the test
session itself set."""

import os

from infra.tools.mock_run import RUN_STORE_VARIABLE

# The virtual environment the tests run in, what a caller put on the import path, and the session's store of
# stack runs (tests/conftest.py).
SESSION_VARIABLES = frozenset({"VIRTUAL_ENV", "PYTHONPATH", RUN_STORE_VARIABLE})


def user_environment() -> dict[str, str]:
    """Without the session's virtual environment and import path, and without pytest's variables
    (PYTEST_ADDOPTS, pytest-xdist's worker id), which would otherwise reach another pytest run."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in SESSION_VARIABLES and not key.startswith("PYTEST_")
    }
