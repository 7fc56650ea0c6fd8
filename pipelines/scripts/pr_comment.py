"""Post a Markdown file as this pipeline's comment on the pull request that runs it.

    python pipelines/scripts/pr_comment.py build/plan-diff.md

Uses the Azure DevOps REST API (pull request threads) with the job's access token. The comment carries a
hidden marker, so a later run of the same pull request finds it and replaces its text instead of adding
one more comment. Reads the variables Azure Pipelines provides; SYSTEM_ACCESSTOKEN is secret, so the step
must map it (`env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)`).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

API_VERSION = "7.1"
MARKER = "<!-- mlops-platform: offline plan diff -->"
# Azure DevOps rejects longer comment content.
MAX_CONTENT = 150_000
TRUNCATED = "\n\n_Truncated: the full diff is the build artifact `plan-diff`._"

# What Azure Pipelines sets on a pull request run, by the field of PullRequest it fills.
PULL_REQUEST_VARIABLES = {
    "collection_uri": "SYSTEM_COLLECTIONURI",
    "project_id": "SYSTEM_TEAMPROJECTID",
    "repository_id": "BUILD_REPOSITORY_ID",
    "pull_request_id": "SYSTEM_PULLREQUEST_PULLREQUESTID",
}

# (method, url, JSON body or None) -> parsed JSON response
Transport = Callable[[str, str, Mapping[str, Any] | None], dict[str, Any]]


class PullRequestCommentError(RuntimeError):
    """The comment could not be posted; the message says why without the token."""


@dataclass(frozen=True)
class PullRequest:
    collection_uri: str
    project_id: str
    repository_id: str
    pull_request_id: int

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> PullRequest:
        missing = [name for name in PULL_REQUEST_VARIABLES.values() if not env.get(name)]
        if missing:
            raise PullRequestCommentError(
                f"not a pull request run, or variables missing: {', '.join(missing)}"
            )
        values = {field: env[name] for field, name in PULL_REQUEST_VARIABLES.items()}
        return cls(
            collection_uri=values["collection_uri"].rstrip("/"),
            project_id=values["project_id"],
            repository_id=values["repository_id"],
            pull_request_id=int(values["pull_request_id"]),
        )

    def url(self, *path: str | int) -> str:
        base = (
            f"{self.collection_uri}/{self.project_id}/_apis/git/repositories/{self.repository_id}"
            f"/pullRequests/{self.pull_request_id}/threads"
        )
        return "/".join([base, *map(str, path)]) + f"?api-version={API_VERSION}"


def http_transport(token: str) -> Transport:
    def send(method: str, url: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        request = urllib.request.Request(
            url,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            raise PullRequestCommentError(f"{method} {url} answered {error.code}: {detail}") from None

    return send


def comment_text(markdown: str) -> str:
    text = f"{MARKER}\n{markdown}"
    if len(text) <= MAX_CONTENT:
        return text
    return text[: MAX_CONTENT - len(TRUNCATED)] + TRUNCATED


def upsert_comment(pull_request: PullRequest, markdown: str, send: Transport) -> str:
    """Replace the text of this script's comment on the pull request, or start its thread; say which."""
    content = comment_text(markdown)
    for thread in send("GET", pull_request.url(), None).get("value", []):
        comments = thread.get("comments") or []
        if not thread.get("isDeleted") and comments and comments[0].get("content", "").startswith(MARKER):
            send("PATCH", pull_request.url(thread["id"], "comments", comments[0]["id"]), {"content": content})
            return "updated"
    send(
        "POST",
        pull_request.url(),
        {"comments": [{"parentCommentId": 0, "content": content, "commentType": "text"}], "status": "active"},
    )
    return "created"


def main(argv: list[str], env: Mapping[str, str], send: Transport | None = None) -> int:
    if len(argv) != 1:
        print("usage: pr_comment.py MARKDOWN_FILE", file=sys.stderr)
        return 2
    try:
        pull_request = PullRequest.from_environment(env)
        if send is None:
            token = env.get("SYSTEM_ACCESSTOKEN")
            if not token:
                raise PullRequestCommentError("SYSTEM_ACCESSTOKEN is empty: map $(System.AccessToken) in env")
            send = http_transport(token)
        action = upsert_comment(pull_request, Path(argv[0]).read_text(), send)
    except PullRequestCommentError as error:
        print(f"pr_comment: {error}", file=sys.stderr)
        return 1
    print(f"{action} the comment on pull request {pull_request.pull_request_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
