from collections.abc import Mapping
from typing import Any

import pytest

from infra.components.monitoring import Monitoring, MonitoringArgs
from tests.infra.component_mocks import TAGS, Recorder, resolve


def build() -> Monitoring:
    return Monitoring(
        "monitoring",
        MonitoringArgs("rg-mlops-dev", "westeurope", "log-mlops-dev", "appi-mlops-dev", 30, TAGS),
    )


def assert_workspace_based_without_local_auth(component: Mapping[str, Any], workspace_id: str) -> None:
    assert component["workspaceResourceId"] == workspace_id
    assert component["ingestionMode"] == "LogAnalytics"
    assert component["disableLocalAuth"] is True
    # Failure notifications reach it from Microsoft-hosted agents: public ingestion, Entra ID only.
    assert component["publicNetworkAccessForIngestion"] == "Enabled"


def test_app_insights_is_workspace_based_with_local_auth_off(recorder: Recorder) -> None:
    monitoring = build()
    ids = resolve(lambda: (monitoring.workspace_id, monitoring.app_insights_id))
    workspace = recorder.one("azure-native:operationalinsights:Workspace")
    component = recorder.one("azure-native:applicationinsights:Component")
    assert workspace.inputs["retentionInDays"] == 30
    assert_workspace_based_without_local_auth(component.inputs, ids[0])
    assert ids[1].endswith("/appi-mlops-dev")
    assert workspace.inputs["tags"] == TAGS == component.inputs["tags"]


def test_connection_string_output_is_secret(recorder: Recorder) -> None:
    assert resolve(lambda: build().app_insights_connection_string.is_secret()) is True


def test_check_rejects_classic_app_insights() -> None:
    with pytest.raises(AssertionError):
        assert_workspace_based_without_local_auth(
            {"ingestionMode": "ApplicationInsights", "disableLocalAuth": True, "workspaceResourceId": "w"},
            "w",
        )


def test_check_rejects_private_ingestion() -> None:
    with pytest.raises(AssertionError):
        assert_workspace_based_without_local_auth(
            {
                "ingestionMode": "LogAnalytics",
                "disableLocalAuth": True,
                "workspaceResourceId": "w",
                "publicNetworkAccessForIngestion": "Disabled",
            },
            "w",
        )
