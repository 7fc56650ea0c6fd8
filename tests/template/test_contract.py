"""The platform keys the template reads are keys the stacks export (infra/outputs.py), and copier.yml checks
for exactly those keys when it takes platform.json."""

import re
from pathlib import Path

import pytest
import yaml

from infra import outputs
from infra.stacks import ENVIRONMENTS
from infra.tools.mock_run import REPO_ROOT
from tests.template.stamping import template_text

TEMPLATE = REPO_ROOT / "template"
COPIER_YML = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())

# How the template reaches platform answers: `platform_environments.<env>.<key>` (or [name]), a loop or
# `set` variable named `env`, `projects[project_name].<key>` or a `set` variable named `project`,
# `platform_shared.<key>`.
ENVIRONMENT_READ = re.compile(
    r"(?:platform_environments(?:\.\w+|\[\s*[\w'\"]+\s*\])|\benv)(?:\.(\w+)|\[\s*['\"](\w+)['\"]\s*\])"
)
PROJECT_READ = re.compile(
    r"(?:projects\[\s*project_name\s*\]|\bproject)(?:\.(\w+)|\[\s*['\"](\w+)['\"]\s*\])"
)
SHARED_READ = re.compile(r"platform_shared(?:\.(\w+)|\[\s*['\"](\w+)['\"]\s*\])")
DICT_METHODS = {"items", "keys", "values", "get"}


def reads(pattern: re.Pattern[str], text: str) -> set[str]:
    return {
        next(group for group in match.groups() if group) for match in pattern.finditer(text)
    } - DICT_METHODS


def test_scanner_finds_each_way_of_reading() -> None:
    text = (
        "{{ platform_environments.dev.acr_name }} {% for name, env in platform_environments.items() %}"
        "{{ env.resource_group }}{{ env['key_vault'] }}{{ env.projects[project_name].namespace }}"
        "{{ platform_environments[name].agent_pool }} {{ platform_shared.devops_project }}"
        "{% set project = env.projects[project_name] %}{{ project.service_account }}"
    )
    assert reads(ENVIRONMENT_READ, text) == {
        "acr_name",
        "resource_group",
        "key_vault",
        "projects",
        "agent_pool",
    }
    assert reads(PROJECT_READ, text) == {"namespace", "service_account"}
    assert reads(SHARED_READ, text) == {"devops_project"}


def test_environment_keys_read_are_exported_and_checked(platform: dict) -> None:
    read = reads(ENVIRONMENT_READ, template_text())
    assert read, "the scanner found no platform reads: its pattern no longer matches the template"
    exported = set(platform[outputs.PLATFORM_ENVIRONMENTS]["dev"])
    assert read <= exported, read - exported
    assert read == set(COPIER_YML["platform_environment_keys"]["default"])


def test_project_keys_read_are_exported_and_checked(platform: dict) -> None:
    read = reads(PROJECT_READ, template_text())
    assert read <= set(platform[outputs.PLATFORM_ENVIRONMENTS]["dev"][outputs.PROJECTS]["credit-scoring"])
    assert read == set(COPIER_YML["platform_project_keys"]["default"])


def test_shared_keys_read_are_exported_and_checked(platform: dict) -> None:
    read = reads(SHARED_READ, template_text())
    assert read <= set(platform[outputs.PLATFORM_SHARED])
    assert read == set(COPIER_YML["platform_shared_keys"]["default"])


def test_platform_json_answers_the_platform_questions() -> None:
    assert {outputs.PLATFORM_SHARED, outputs.PLATFORM_ENVIRONMENTS} <= set(COPIER_YML)


def test_promotion_order_is_the_platforms() -> None:
    assert tuple(COPIER_YML["environments"]["default"]) == ENVIRONMENTS


@pytest.mark.parametrize("setting", ["_tasks", "_jinja_extensions"])
def test_no_setting_that_would_need_trust(setting: str) -> None:
    assert setting not in COPIER_YML


def test_template_settings() -> None:
    assert COPIER_YML["_subdirectory"] == "template"
    assert Path(REPO_ROOT, COPIER_YML["_subdirectory"]).is_dir()
    assert "_min_copier_version" in COPIER_YML


def test_the_slug_rule_is_the_platforms() -> None:
    from infra.naming import SLUG_MAX_LENGTH, SLUG_PATTERN

    validator = COPIER_YML["project_name"]["validator"]
    assert f"project_name | length > {SLUG_MAX_LENGTH} %}}" in validator
    assert f"at most {SLUG_MAX_LENGTH} characters" in validator
    assert SLUG_PATTERN.pattern in validator
