"""The scripts pipeline steps run: PR comment, update summary, template version."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pipelines.scripts import pr_comment, template_version, update_summary

ENV = {
    "SYSTEM_COLLECTIONURI": "https://dev.azure.com/contoso/",
    "SYSTEM_TEAMPROJECTID": "project-id",
    "BUILD_REPOSITORY_ID": "repo-id",
    "SYSTEM_PULLREQUEST_PULLREQUESTID": "42",
    "SYSTEM_ACCESSTOKEN": "not-a-real-token",
}
THREADS = "https://dev.azure.com/contoso/project-id/_apis/git/repositories/repo-id/pullRequests/42/threads"


class FakeDevOps:
    """Pull request threads in memory, answering the calls the script makes."""

    def __init__(self, threads: list[dict[str, Any]]) -> None:
        self.threads = threads
        self.calls: list[tuple[str, str, Mapping[str, Any] | None]] = []

    def __call__(self, method: str, url: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        self.calls.append((method, url, body))
        return {"value": self.threads} if method == "GET" else {}


def thread(thread_id: int, content: str, deleted: bool = False) -> dict[str, Any]:
    return {"id": thread_id, "isDeleted": deleted, "comments": [{"id": 1, "content": content}]}


def test_first_run_starts_a_thread(tmp_path: Path) -> None:
    diff = tmp_path / "plan-diff.md"
    diff.write_text("## dev\n+ 3 to create\n")
    devops = FakeDevOps([thread(7, "a reviewer's comment")])
    assert pr_comment.main([str(diff)], ENV, devops) == 0
    method, url, body = devops.calls[-1]
    assert (method, url) == ("POST", f"{THREADS}?api-version={pr_comment.API_VERSION}")
    assert body is not None
    assert body["comments"][0]["content"] == f"{pr_comment.MARKER}\n## dev\n+ 3 to create\n"


def test_later_runs_replace_the_comment(tmp_path: Path) -> None:
    diff = tmp_path / "plan-diff.md"
    diff.write_text("no changes")
    ours = thread(9, f"{pr_comment.MARKER}\nold diff")
    devops = FakeDevOps([thread(8, f"{pr_comment.MARKER}\ngone", deleted=True), ours])
    assert pr_comment.main([str(diff)], ENV, devops) == 0
    method, url, body = devops.calls[-1]
    assert (method, url) == ("PATCH", f"{THREADS}/9/comments/1?api-version={pr_comment.API_VERSION}")
    assert body == {"content": f"{pr_comment.MARKER}\nno changes"}


def test_long_diffs_are_cut_to_what_azure_devops_accepts() -> None:
    text = pr_comment.comment_text("x" * (2 * pr_comment.MAX_CONTENT))
    assert len(text) == pr_comment.MAX_CONTENT
    assert text.endswith(pr_comment.TRUNCATED)


@pytest.mark.parametrize("missing", ["SYSTEM_PULLREQUEST_PULLREQUESTID", "SYSTEM_ACCESSTOKEN"])
def test_outside_a_pull_request_or_without_the_token_it_fails_plainly(
    tmp_path: Path, missing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    diff = tmp_path / "plan-diff.md"
    diff.write_text("x")
    env = {key: value for key, value in ENV.items() if key != missing}
    assert pr_comment.main([str(diff)], env) == 1
    error = capsys.readouterr().err
    assert missing in error
    assert ENV["SYSTEM_ACCESSTOKEN"] not in error


def test_update_summary_lists_changes_of_the_latest_update() -> None:
    history = [
        {
            "kind": "update",
            "result": "failed",
            "version": 12,
            "resourceChanges": {"same": 40, "create": 2, "x": 1},
        },
        {"kind": "update", "result": "succeeded", "version": 11, "resourceChanges": {"update": 5}},
    ]
    summary = update_summary.summarize("dev", history)
    assert summary.splitlines() == [
        "### `dev`: update failed (version 12)",
        "",
        "| resources | count |",
        "| --- | ---: |",
        "| create | 2 |",
        "| same | 40 |",
        "| x | 1 |",
    ]
    assert "No update recorded" in update_summary.summarize("qa", [])


@pytest.mark.parametrize(
    ("reachable", "on_head", "expected"),
    [
        ([], [], "v0.1.0"),
        (["v0.1.0", "v0.2.0", "v0.10.1", "not-a-version"], [], "v0.10.2"),
        # A pre-release is a maintainer's tag; the automatic one continues from the highest release.
        (["v1.2.0", "v1.3.0rc1"], [], "v1.2.1"),
        (["v1", "v0.9.9"], [], "v1.0.1"),
        (["v1.2.0"], ["v1.2.0"], None),
    ],
)
def test_template_version_is_the_next_patch(
    reachable: list[str], on_head: list[str], expected: str | None
) -> None:
    assert template_version.next_tag(reachable, on_head) == expected


def test_template_version_reads_the_repository_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def git(*args: str) -> None:
        identity = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
        subprocess.run(["git", *identity, *args], cwd=tmp_path, check=True)

    git("init", "--quiet")
    git("commit", "--quiet", "--allow-empty", "-m", "first")
    git("tag", "v1.4.2")
    git("commit", "--quiet", "--allow-empty", "-m", "template change")
    monkeypatch.chdir(tmp_path)
    assert template_version.main() == 0
    assert capsys.readouterr().out == "v1.4.3\n"
    git("tag", "v1.4.3")
    assert template_version.main() == 0
    assert capsys.readouterr().out == ""
