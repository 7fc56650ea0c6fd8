"""The version tag the copier template's current commit should get, if any.

    python pipelines/scripts/template_version.py     # prints e.g. v1.4.3, or nothing

`copier copy` and `copier update` read a template's versions from its git tags, ordered as PEP 440
versions; tags that are not versions are ignored. So template versions are tags `vX.Y.Z`. Each change of
the template on main gets the next patch version after the highest release reachable from HEAD (v0.1.0
for the first). A minor or major version, or a pre-release, is a tag a maintainer pushes by hand; the
next automatic tag continues from the highest release.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable

from packaging.version import InvalidVersion, Version

FIRST = "v0.1.0"


def version(tag: str) -> Version | None:
    try:
        return Version(tag)
    except InvalidVersion:
        return None


def next_tag(reachable: Iterable[str], on_head: Iterable[str]) -> str | None:
    """The tag for HEAD, or None when HEAD already carries a version (a re-run must not tag again)."""
    if any(version(tag) for tag in on_head):
        return None
    releases = [v for v in map(version, reachable) if v and not (v.is_prerelease or v.is_devrelease)]
    if not releases:
        return FIRST
    major, minor, patch = (*max(releases).release, 0, 0)[:3]
    return f"v{major}.{minor}.{patch + 1}"


def _git_tags(*selector: str) -> list[str]:
    result = subprocess.run(["git", "tag", "--list", *selector], capture_output=True, text=True, check=True)
    return result.stdout.split()


def main() -> int:
    tag = next_tag(_git_tags("--merged", "HEAD"), _git_tags("--points-at", "HEAD"))
    if tag:
        print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
