from collections.abc import Mapping
from typing import Any

import pytest

from infra.components.registry import Registry, RegistryArgs
from tests.infra.component_mocks import TAGS, Recorder, resolve


def assert_locked_registry(inputs: Mapping[str, Any]) -> None:
    assert inputs["adminUserEnabled"] is False
    assert inputs["anonymousPullEnabled"] is False


def test_registry_has_admin_user_and_anonymous_pull_off(recorder: Recorder) -> None:
    login_server = resolve(
        lambda: (
            Registry(
                "registry", RegistryArgs("rg-mlops-dev", "westeurope", "crmlopsdev1a2b", "Premium", TAGS)
            ).login_server
        )
    )
    registry = recorder.one("azure-native:containerregistry:Registry")
    assert_locked_registry(registry.inputs)
    assert registry.inputs["sku"] == {"name": "Premium"}
    assert login_server == "crmlopsdev1a2b.azurecr.io"


def test_check_rejects_the_admin_user() -> None:
    with pytest.raises(AssertionError):
        assert_locked_registry({"adminUserEnabled": True, "anonymousPullEnabled": False})
