"""The state-backend bootstrap script, run against a recording stand-in for the Azure CLI."""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from infra.tools.mock_run import REPO_ROOT

SCRIPT = REPO_ROOT / "infra" / "bootstrap" / "state_backend.sh"
FAKE_AZ = """#!/usr/bin/env bash
echo "$*" >> "$AZ_LOG"
case "$*" in
  *"signed-in-user show"*) echo 11111111-1111-1111-1111-111111111111 ;;
  *"--query id"*) echo "/subscriptions/x/resourceGroups/rg/providers/thing" ;;
esac
"""


def run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    az = tmp_path / "az"
    az.write_text(FAKE_AZ)
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "az.log"
    environment = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "AZ_LOG": str(log)}
    completed = subprocess.run(["bash", str(SCRIPT), *args], env=environment, capture_output=True, text=True)
    return completed, log.read_text().splitlines() if log.exists() else []


def test_creates_a_locked_down_backend_and_prints_the_login(tmp_path: Path) -> None:
    completed, calls = run(tmp_path, "00000000-0000-0000-0000-0000000000aa", "westeurope", "mlops")
    assert completed.returncode == 0, completed.stderr
    account = next(c for c in calls if c.startswith("storage account create"))
    for flag in (
        "--min-tls-version TLS1_2",
        "--allow-blob-public-access false",
        "--allow-shared-key-access false",
    ):
        assert flag in account
    versioning = next(c for c in calls if "blob-service-properties update" in c)
    assert "--enable-versioning true" in versioning and "--enable-delete-retention true" in versioning
    vault = next(c for c in calls if c.startswith("keyvault create"))
    assert "--enable-rbac-authorization true" in vault and "--enable-purge-protection true" in vault
    assert any(c.startswith("keyvault key create") for c in calls)
    assert "pulumi login 'azblob://state?storage_account=stmlopsstate" in completed.stdout
    assert "--secrets-provider 'azurekeyvault://kv-mlops-st-" in completed.stdout


@pytest.mark.parametrize("prefix", ["ML", "a", "averyverylongprefix", "ml-ops"])
def test_refuses_a_prefix_azure_names_cannot_hold(tmp_path: Path, prefix: str) -> None:
    completed, calls = run(tmp_path, "sub", "westeurope", prefix)
    assert completed.returncode == 2
    assert "prefix must be" in completed.stderr
    assert calls == []


def test_names_fit_azure_limits_with_the_longest_prefix(tmp_path: Path) -> None:
    completed, calls = run(tmp_path, "sub", "westeurope", "a" * 11)
    assert completed.returncode == 0, completed.stderr
    account = next(c for c in calls if c.startswith("storage account create")).split()[4]
    vault = next(c for c in calls if c.startswith("keyvault create")).split()[3]
    assert len(account) <= 24 and account.isalnum()
    assert len(vault) <= 24
