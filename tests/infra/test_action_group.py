from collections.abc import Mapping
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict

from infra.components.action_group import TEAMS_RECEIVER, ActionGroup, ActionGroupArgs
from tests.infra.component_mocks import TAGS, Recorder, resolve

ACTION_GROUP = "azure-native:monitor:ActionGroup"
WEBHOOK = "https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t"


def build(webhook: str) -> ActionGroup:
    return ActionGroup(
        "alerts",
        ActionGroupArgs(
            resource_group_name="rg-mlops-dev",
            group_name="ag-mlops-dev",
            short_name="mlopsdev",
            emails=["ml-platform@contoso.com", "oncall@contoso.com"],
            teams_webhook_url=webhook,
            tags=TAGS,
        ),
    )


def assert_notifies(group: Mapping[str, Any], emails: list[str]) -> None:
    assert group["enabled"] is True
    assert [r["emailAddress"] for r in group["emailReceivers"]] == emails
    assert all(r["useCommonAlertSchema"] is True for r in group["emailReceivers"])


def test_emails_and_teams_receive_the_common_alert_schema(recorder: Recorder) -> None:
    group_id = resolve(lambda: build(WEBHOOK).action_group_id)
    group = recorder.one("azure-native:monitor:ActionGroup").inputs
    assert_notifies(group, ["ml-platform@contoso.com", "oncall@contoso.com"])
    assert [r["name"] for r in group["emailReceivers"]] == ["ml-platform-contoso-com", "oncall-contoso-com"]
    [teams] = group["webhookReceivers"]
    assert (teams["name"], teams["serviceUri"], teams["useCommonAlertSchema"]) == (
        TEAMS_RECEIVER,
        WEBHOOK,
        True,
    )
    assert group["location"] == "Global" and len(group["groupShortName"]) <= 12
    assert group_id.endswith("/ag-mlops-dev")


def test_without_a_webhook_there_is_no_teams_receiver(recorder: Recorder) -> None:
    resolve(lambda: build("").action_group_id)
    assert recorder.one("azure-native:monitor:ActionGroup").inputs["webhookReceivers"] == []


def test_the_webhook_url_travels_as_a_secret(recorder: Recorder) -> None:
    resolve(lambda: build(WEBHOOK).action_group_id)
    request = recorder.request(ACTION_GROUP)
    # On the wire a secret is an envelope around its value, not the value itself; the engine encrypts
    # it in the state and never prints it. The e-mail receivers, not secret, travel bare.
    wire = MessageToDict(request.object)
    assert isinstance(wire["emailReceivers"][0]["emailAddress"], str)
    [teams] = wire["webhookReceivers"]
    envelope = teams["serviceUri"]
    assert isinstance(envelope, dict) and envelope["value"] == WEBHOOK
    assert "webhookReceivers" in request.additionalSecretOutputs


def test_check_rejects_a_group_that_is_off() -> None:
    with pytest.raises(AssertionError):
        assert_notifies({"enabled": False, "emailReceivers": []}, [])
