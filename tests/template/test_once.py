"""The session-wide sharing the template tests rely on: a check is skipped only for byte-identical inputs
that already passed, shared work is made once, and no two projects use one environment at a time."""

from pathlib import Path

import pytest

from infra.tools.digests import content_digest
from infra.tools.file_lock import locked
from tests.template.environments import environment
from tests.template.once import made_once, made_once_value, passes_once


def test_a_check_reruns_unless_the_same_bytes_passed(tmp_path: Path) -> None:
    runs: list[str] = []
    assert passes_once(tmp_path, "check", {"a.yml": b"x: 1"}, lambda: runs.append("first"))
    assert not passes_once(tmp_path, "check", {"a.yml": b"x: 1"}, lambda: runs.append("same bytes"))
    assert passes_once(tmp_path, "check", {"a.yml": b"x: 2"}, lambda: runs.append("other bytes"))
    assert passes_once(tmp_path, "check", {"b.yml": b"x: 1"}, lambda: runs.append("other name"))
    assert passes_once(tmp_path, "other", {"a.yml": b"x: 1"}, lambda: runs.append("other check"))
    assert runs == ["first", "other bytes", "other name", "other check"]


def test_a_failure_is_not_recorded(tmp_path: Path) -> None:
    def fail() -> None:
        raise AssertionError("invalid")

    for _ in range(2):
        with pytest.raises(AssertionError, match="invalid"):
            passes_once(tmp_path, "check", {"a.yml": b"bad"}, fail)


def test_the_digest_keeps_names_and_contents_apart() -> None:
    assert content_digest({"ab": b"c"}) != content_digest({"a": b"bc"})
    assert content_digest({"a": b"1", "b": b"2"}) == content_digest({"b": b"2", "a": b"1"})


def test_shared_work_is_made_once(tmp_path: Path) -> None:
    made: list[Path] = []
    for _ in range(2):
        folder = made_once(tmp_path / "work", made.append)
    assert made == [folder] and folder.is_dir()


def test_a_held_lock_is_reported_busy(tmp_path: Path) -> None:
    with locked(tmp_path / "x") as first:
        assert first
        with locked(tmp_path / "x", wait=False) as second:
            assert not second
    with locked(tmp_path / "x", wait=False) as again:
        assert again


def test_projects_never_share_an_environment_at_once(tmp_path: Path) -> None:
    pool = tmp_path / "pool"
    with environment(pool) as first, environment(pool) as second:
        assert first != second
    with environment(pool) as later:
        assert later == first


def test_a_project_gets_the_free_environment_last_used_for_its_dependencies(tmp_path: Path) -> None:
    pool = tmp_path / "pool"
    projects = {name: tmp_path / name for name in ("aks", "aml")}
    for name, project in projects.items():
        project.mkdir()
        (project / "pyproject.toml").write_text(f"dependencies of {name}")
    with environment(pool, projects["aks"]) as aks, environment(pool, projects["aml"]) as aml:
        assert aks != aml
    with environment(pool, projects["aml"]) as again:
        assert again == aml
    with environment(pool, projects["aks"]) as again, environment(pool, projects["aks"]) as other:
        assert (again, other) == (aks, aml)  # the one of its dependencies, then any free one


def test_a_value_is_made_once_and_read_back(tmp_path: Path) -> None:
    calls: list[int] = []

    def make() -> dict[str, list[int]]:
        calls.append(1)
        return {"runs": [1, 2, 3]}

    first = made_once_value(tmp_path / "value", make)
    assert made_once_value(tmp_path / "value", make) == first == {"runs": [1, 2, 3]}
    assert len(calls) == 1
