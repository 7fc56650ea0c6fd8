"""The state-backend bootstrap script, run against a recording stand-in for the Azure CLI."""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from infra.stacks import EVERY
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


def test_the_script_and_the_program_name_the_same_backend(tmp_path: Path) -> None:
    from infra.bootstrap.backend import assignments

    expected = assignments()
    completed, calls = run(tmp_path, expected["STATE_SUBSCRIPTION"], "westeurope", expected["PREFIX"])
    assert completed.returncode == 0, completed.stderr
    account = next(c for c in calls if c.startswith("storage account create")).split()[4]
    assert account == expected["STATE_ACCOUNT"]
    assert expected["SECRETS_PROVIDER"] in completed.stdout
    assert f"for stack in {' '.join(EVERY)}; do" in completed.stdout


FAKE_PULUMI = """#!/usr/bin/env bash
echo "pulumi $*" >> "$AZ_LOG"
case "$1" in stack) [ "$2" = select ] && exit 1 ;; esac
exit 0
"""


def test_make_bootstrap_creates_the_backend_initialises_every_stack_then_runs_the_bootstrap_stack(
    tmp_path: Path,
) -> None:
    from infra.bootstrap.backend import assignments
    from infra.stacks import EVERY

    for name, text in (("az", FAKE_AZ), ("pulumi", FAKE_PULUMI)):
        tool = tmp_path / name
        tool.write_text(text)
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "calls.log"
    environment = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "AZ_LOG": str(log)}
    completed = subprocess.run(
        ["make", "--no-print-directory", "bootstrap"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    calls = log.read_text().splitlines()
    pulumi = [call for call in calls if call.startswith("pulumi ")]
    expected = assignments()
    assert pulumi[0] == f"pulumi login {expected['BACKEND_URL']}"
    initialised = [call.split()[3] for call in pulumi if call.startswith("pulumi stack init")]
    assert initialised == list(EVERY)
    assert all(f"--secrets-provider {expected['SECRETS_PROVIDER']}" in c for c in pulumi if "stack init" in c)
    assert pulumi[-1] == "pulumi up --stack bootstrap"
    assert any(call.startswith("storage account create") for call in calls)


def test_make_bootstrap_without_the_pulumi_cli_says_where_to_get_it(tmp_path: Path) -> None:
    environment = {**os.environ, "PATH": "/usr/bin:/bin"}
    completed = subprocess.run(
        ["make", "--no-print-directory", "bootstrap"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert completed.returncode != 0
    assert "needs the Pulumi CLI" in completed.stderr
