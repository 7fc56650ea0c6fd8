"""What a variable group's plain value may look like before it reads as a secret."""

import pytest

from infra.policies.devops import looks_like_secret


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("dbPassword", "x"),
        ("ACR_ADMIN_PASSWORD", "x"),
        ("storage-account-key", "x"),
        ("clientSecret", "x"),
        ("anything", "Server=tcp:db;User ID=app;Password=hunter2"),
        ("anything", "-----BEGIN RSA PRIVATE KEY-----\nMIIE"),
        ("anything", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"),
        ("anything", "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst"),
        ("anything", "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy9A=="),
    ],
)
def test_secret_by_name_or_by_shape(name: str, value: str) -> None:
    assert looks_like_secret(name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("keyVaultName", "kv-mlops-dev"),
        ("acrLoginServer", "acrmlopsdev.azurecr.io"),
        ("tenantId", "00000000-0000-0000-0000-0000000000a1"),
        (
            "resourceGroupId",
            "/subscriptions/00000000-0000-0000-0000-0000000000d1/resourceGroups/rg-mlops-dev",
        ),
        (
            "appInsightsId",
            "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Insights/components/appi",
        ),
        ("dbPassword", ""),
    ],
)
def test_identifiers_are_not_secrets(name: str, value: str) -> None:
    assert not looks_like_secret(name, value)
