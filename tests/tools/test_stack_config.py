"""The stack configuration loader refuses what the Pulumi CLI refuses, naming the file to fix."""

from pathlib import Path

import pytest

from infra.config import PROJECT, ConfigError
from infra.tools import stack_config

PROJECT_FILE = f"""name: {PROJECT}
config:
  location:
    type: string
    default: westeurope
  environment:
    type: string
"""


def stack_root(tmp_path: Path, stack_config_text: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(PROJECT_FILE)
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_config_text)
    return tmp_path


def test_a_declared_key_without_default_is_read_from_the_stack_file(tmp_path: Path) -> None:
    root = stack_root(tmp_path, f"config:\n  {PROJECT}:environment: dev\n")
    loaded = stack_config.load("dev", root)
    assert loaded[f"{PROJECT}:environment"] == "dev"
    assert loaded[f"{PROJECT}:location"] == "westeurope"


def test_a_declared_key_without_default_left_unset_is_refused_as_the_cli_does(tmp_path: Path) -> None:
    root = stack_root(tmp_path, "config: {}\n")
    missing = r"Pulumi\.dev\.yaml: mlops-platform:environment is missing"
    with pytest.raises(ConfigError, match=missing) as raised:
        stack_config.load("dev", root)
    assert "Stack 'dev' is missing configuration value 'mlops-platform:environment'" in str(raised.value)
