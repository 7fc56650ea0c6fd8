import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from infra import outputs
from infra.stacks import ALL, ENVIRONMENTS, SHARED
from infra.tools import platform_json
from infra.tools.mock_run import REPO_ROOT


def fake_outputs() -> dict[str, dict]:
    required = platform_json.template_keys()
    shared = {key: f"shared-{key}" for key in required[outputs.PLATFORM_SHARED]}
    environments = {
        env: {key: f"{env}-{key}" for key in required[outputs.PLATFORM_ENVIRONMENTS]} for env in ENVIRONMENTS
    }
    return {SHARED: shared, **environments}


def test_build_keys_every_environment_with_what_each_stack_exports() -> None:
    stacks = fake_outputs()
    stacks["dev"]["aks_oidc_issuer_url"] = "exported, not read by the template"
    document = platform_json.build(stacks)
    assert set(document) == {outputs.PLATFORM_SHARED, outputs.PLATFORM_ENVIRONMENTS}
    assert set(document[outputs.PLATFORM_ENVIRONMENTS]) == set(ENVIRONMENTS)
    assert document[outputs.PLATFORM_ENVIRONMENTS]["dev"] == stacks["dev"]
    assert document[outputs.PLATFORM_ENVIRONMENTS]["qa"][outputs.ACR_LOGIN_SERVER] == "qa-acr_login_server"


def test_build_refuses_a_stack_that_was_never_deployed() -> None:
    stacks = fake_outputs()
    del stacks["prod"]
    with pytest.raises(platform_json.PlatformError, match=r"no outputs for stack.*prod"):
        platform_json.build(stacks)


def test_build_names_every_missing_output() -> None:
    stacks = fake_outputs()
    del stacks["qa"][outputs.ACR_LOGIN_SERVER]
    del stacks[SHARED][outputs.PIPELINES]
    with pytest.raises(platform_json.PlatformError) as raised:
        platform_json.build(stacks)
    assert "stack qa does not export 'acr_login_server'" in str(raised.value)
    assert "stack shared does not export 'pipelines'" in str(raised.value)


def test_deployed_outputs_call_the_pulumi_cli_per_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stacks = fake_outputs()
    (tmp_path / "outputs.json").write_text(json.dumps(stacks))
    cli = tmp_path / "pulumi"
    cli.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"stacks = json.load(open({str(tmp_path / 'outputs.json')!r}))\n"
        "assert sys.argv[1:4] == ['stack', 'output', '--json'], sys.argv\n"
        "print(json.dumps(stacks[sys.argv[sys.argv.index('--stack') + 1]]))\n"
    )
    cli.chmod(cli.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert platform_json.deployed_outputs() == stacks


def test_missing_pulumi_cli_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(platform_json.PlatformError, match=r"install it .* or use --offline"):
        platform_json.deployed_outputs()


def test_offline_command_writes_the_document(tmp_path: Path) -> None:
    out = tmp_path / "platform.json"
    completed = subprocess.run(
        [sys.executable, "-m", "infra.tools.platform_json", "--offline", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    document = json.loads(out.read_text())
    environments = document[outputs.PLATFORM_ENVIRONMENTS]
    assert environments["prod"][outputs.PROTECTED] is True
    assert environments["dev"][outputs.PROTECTED] is False
    assert len({environments[env][outputs.ACR_LOGIN_SERVER] for env in ENVIRONMENTS}) == 3
    assert "| **total** |" in completed.stdout
    assert all(f" {stack} " in completed.stdout.splitlines()[2] for stack in ALL)
