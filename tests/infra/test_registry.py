from collections.abc import Mapping
from typing import Any

import pytest

from infra import naming
from infra.components.registry import Registry, RegistryArgs
from tests.infra.component_mocks import TAGS, Recorder, resolve


def assert_locked_registry(inputs: Mapping[str, Any]) -> None:
    assert inputs["adminUserEnabled"] is False
    assert inputs["anonymousPullEnabled"] is False


def test_registry_has_admin_user_and_anonymous_pull_off(recorder: Recorder) -> None:
    login_server = resolve(
        lambda: (
            Registry(
                "registry",
                RegistryArgs("rg-mlops-dev", "westeurope", "crmlopsdev1a2b", "Premium", None, TAGS),
            ).login_server
        )
    )
    registry = recorder.one("azure-native:containerregistry:Registry")
    assert_locked_registry(registry.inputs)
    assert registry.inputs["sku"] == {"name": "Premium"}
    assert login_server == "crmlopsdev1a2b.azurecr.io"
    assert registry.inputs["publicNetworkAccess"] == "Enabled"
    assert recorder.of_type("azure-native:containerregistry:AgentPool") == []


def test_private_registry_builds_on_an_agent_pool_in_the_subnet(recorder: Recorder) -> None:
    subnet = (
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/acr-tasks"
    )
    registry = Registry(
        "registry", RegistryArgs("rg-mlops-qa", "westeurope", "crmlopsqa1a2b", "Premium", subnet, TAGS)
    )
    assert resolve(lambda: registry.tasks_pool_name) == naming.ACR_TASKS_POOL
    inputs = recorder.one("azure-native:containerregistry:Registry").inputs
    assert inputs["publicNetworkAccess"] == "Disabled"
    # The next environment's import still reaches it as a trusted service.
    assert inputs["networkRuleBypassOptions"] == "AzureServices"
    pool = recorder.one("azure-native:containerregistry:AgentPool").inputs
    assert pool["virtualNetworkSubnetResourceId"] == subnet
    assert pool["registryName"] == "crmlopsqa1a2b"
    # A task queued on a pool with no instance never runs.
    assert pool["count"] >= 1


def test_check_rejects_the_admin_user() -> None:
    with pytest.raises(AssertionError):
        assert_locked_registry({"adminUserEnabled": True, "anonymousPullEnabled": False})
