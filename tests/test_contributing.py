"""CONTRIBUTING.md stays true: every repository path it names exists."""

import re
from pathlib import Path

import pytest

from infra.tools.mock_run import REPO_ROOT

# A code span that starts with a top-level folder of this repository is a path.
_SPAN = re.compile(r"`([^`\s]+)`")
_TOP = ("infra/", "tests/", "template/", "pipelines/", "gitops/", "vendor/")


def named_paths(text: str) -> list[str]:
    return [span for span in _SPAN.findall(text) if span.startswith(_TOP)]


def missing(text: str, root: Path) -> list[str]:
    return [path for path in named_paths(text) if not (root / path).exists()]


def test_every_path_the_guide_names_exists() -> None:
    text = (REPO_ROOT / "CONTRIBUTING.md").read_text()
    assert len(named_paths(text)) > 40
    assert missing(text, REPO_ROOT) == []


@pytest.mark.parametrize("span", ["`infra/components/gone.py`", "`tests/nowhere/`"])
def test_a_path_that_went_away_is_reported(span: str) -> None:
    assert missing(f"see {span} and `infra/program.py`", REPO_ROOT) == [span.strip("`")]
