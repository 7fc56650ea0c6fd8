"""Collection order for the whole suite (fixtures live in each folder's conftest.py)."""

import pytest

# The fixture that hands a test a virtual environment for a stamped project (tests/template/conftest.py).
RUNS_A_PROJECT = "environments"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that run a stamped project's own `make` take minutes each: started first, they spread over
    the pytest-xdist workers, which then share the short tests, instead of one worker running the last
    long one alone. The order is otherwise kept."""
    items.sort(key=lambda item: RUNS_A_PROJECT not in getattr(item, "fixturenames", ()))
