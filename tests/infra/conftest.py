"""Fixtures of the component tests; their helpers live in tests/infra/component_mocks.py."""

import pytest

from tests.infra.component_mocks import Recorder, start_recording


@pytest.fixture
def recorder() -> Recorder:
    return start_recording()
